//! Service environment resolution: precedence, provenance, env_file forms.

use super::*;
use crate::loader::yaml;
use std::sync::Arc;

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Self {
        Project {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn doc(&self, text: &str) -> Node {
        let file: Arc<Path> = Arc::from(self.path().join("compose.yaml").as_path());
        yaml::parse_str(text, &file).unwrap()
    }

    fn service(&self, text: &str) -> Node {
        self.doc(text)
            .get("services")
            .and_then(|s| s.get("web"))
            .cloned()
            .unwrap()
    }
}

fn shell(vars: &[(&str, &str)]) -> Environment {
    let mut e = Environment::new();
    for (k, v) in vars {
        e.set(*k, *v, Origin::Shell);
    }
    e
}

fn values(resolved: &IndexMap<String, ServiceVar>) -> Vec<(String, Option<String>)> {
    resolved
        .iter()
        .map(|(k, v)| (k.clone(), v.value.clone()))
        .collect()
}

#[test]
fn environment_overrides_env_files_and_later_files_win() {
    let p = Project::new();
    let simple = p.write("simple-env", "DEFAULT_PORT=8080\nONLY_SIMPLE=1\n");
    let second = p.write("second-env", "DEFAULT_PORT=9090\nOVERRIDDEN=file\n");
    let svc = p.service(
        "services:\n  web:\n    env_file:\n      - ./simple-env\n      - ./second-env\n    environment:\n      OVERRIDDEN: compose\n",
    );
    let r = resolve_service_env(&svc, &shell(&[]), p.path()).unwrap();
    assert_eq!(
        values(&r),
        [
            ("DEFAULT_PORT".to_string(), Some("9090".to_string())),
            ("ONLY_SIMPLE".to_string(), Some("1".to_string())),
            ("OVERRIDDEN".to_string(), Some("compose".to_string())),
        ]
    );
    assert_eq!(
        r["DEFAULT_PORT"].origin,
        Origin::EnvFile {
            path: second,
            line: 1
        }
    );
    assert_eq!(
        r["ONLY_SIMPLE"].origin,
        Origin::EnvFile {
            path: simple,
            line: 2
        }
    );
    match &r["OVERRIDDEN"].origin {
        Origin::ComposeFile { span: Some(span) } => assert_eq!(span.line, 7),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn keys_without_values_take_the_project_environment() {
    let p = Project::new();
    let svc = p.service(
        "services:\n  web:\n    environment:\n      - FROM_SHELL\n      - NOWHERE\n      - EMPTY=\n      - WITH=a=b\n",
    );
    let r = resolve_service_env(&svc, &shell(&[("FROM_SHELL", "s")]), p.path()).unwrap();
    assert_eq!(
        r["FROM_SHELL"],
        ServiceVar {
            value: Some("s".into()),
            origin: Origin::Shell
        }
    );
    assert_eq!(r["NOWHERE"].value, None);
    assert_eq!(r["EMPTY"].value.as_deref(), Some(""));
    assert_eq!(r["WITH"].value.as_deref(), Some("a=b"));
}

#[test]
fn map_values_of_any_scalar_type_become_text() {
    let p = Project::new();
    let svc = p.service(
        "services:\n  web:\n    environment:\n      N: 3\n      B: true\n      F: 1.5\n      U:\n",
    );
    let r = resolve_service_env(&svc, &shell(&[("U", "from shell")]), p.path()).unwrap();
    assert_eq!(r["N"].value.as_deref(), Some("3"));
    assert_eq!(r["B"].value.as_deref(), Some("true"));
    assert_eq!(r["F"].value.as_deref(), Some("1.5"));
    assert_eq!(r["U"].value.as_deref(), Some("from shell"));
}

#[test]
fn env_file_values_expand_with_project_then_service_environment() {
    let p = Project::new();
    p.write("app.env", "URL=http://${HOST}:${PORT}\nINHERIT\n");
    let svc = p.service(
        "services:\n  web:\n    env_file: app.env\n    environment:\n      PORT: \"81\"\n",
    );
    let env = shell(&[("HOST", "example"), ("INHERIT", "yes")]);
    let r = resolve_service_env(&svc, &env, p.path()).unwrap();
    assert_eq!(r["URL"].value.as_deref(), Some("http://example:81"));
    assert_eq!(r["INHERIT"].value.as_deref(), Some("yes"));
}

#[test]
fn optional_missing_env_file_is_skipped_required_is_an_error() {
    let p = Project::new();
    let svc = p.service(
        "services:\n  web:\n    env_file:\n      - path: ./missing.env\n        required: false\n",
    );
    assert!(resolve_service_env(&svc, &shell(&[]), p.path())
        .unwrap()
        .is_empty());

    let doc = p.doc("services:\n  web:\n    env_file:\n      - ./missing.env\n");
    let svc = doc.get("services").unwrap().get("web").unwrap();
    let path = NodePath::parse("services.web");
    let err = resolve_service_env_at(svc, &path, &shell(&[]), p.path()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("compose.yaml:4:9: services.web.env_file[0]: env file"),
        "{text}"
    );
    assert!(text.contains("missing.env not found"), "{text}");
    assert!(text.contains("required: false"), "{text}");
}

#[test]
fn absolute_env_file_paths_are_kept() {
    let p = Project::new();
    let other = tempfile::tempdir().unwrap();
    let abs = other.path().join("abs.env");
    std::fs::write(&abs, "A=1\n").unwrap();
    let svc = p.service(&format!(
        "services:\n  web:\n    env_file:\n      - path: {}\n        required: true\n",
        abs.display()
    ));
    let r = resolve_service_env(&svc, &shell(&[]), p.path()).unwrap();
    assert_eq!(r["A"].origin, Origin::EnvFile { path: abs, line: 1 });
}

#[test]
fn unsupported_format_and_bad_shapes_are_errors() {
    let p = Project::new();
    p.write("a.env", "A=1\n");
    let svc =
        p.service("services:\n  web:\n    env_file:\n      - path: a.env\n        format: json\n");
    assert!(matches!(
        resolve_service_env(&svc, &shell(&[]), p.path()),
        Err(ServiceEnvError::UnsupportedFormat { ref format, .. }) if format == "json"
    ));
    let svc = p.service("services:\n  web:\n    environment: 5\n");
    assert!(matches!(
        resolve_service_env(&svc, &shell(&[]), p.path()),
        Err(ServiceEnvError::InvalidEnvironment {
            found: "an integer",
            ..
        })
    ));
    let svc = p.service("services:\n  web:\n    environment:\n      FOO: [\"1\"]\n");
    let err = resolve_service_env(&svc, &shell(&[]), p.path()).unwrap_err();
    assert!(
        err.to_string()
            .contains("compose.yaml:4:12: environment.FOO:"),
        "{err}"
    );
    let svc = p.service("services:\n  web:\n    env_file: {}\n");
    assert!(matches!(
        resolve_service_env(&svc, &shell(&[]), p.path()),
        Err(ServiceEnvError::InvalidEnvFile { .. })
    ));
}

#[test]
fn syntax_errors_in_env_files_name_file_and_line() {
    let p = Project::new();
    p.write("bad.env", "OK=1\nNOT OK=2\n");
    let svc = p.service("services:\n  web:\n    env_file: bad.env\n");
    let err = resolve_service_env(&svc, &shell(&[]), p.path()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("bad.env:line 2"), "{text}");
}

#[test]
fn apply_writes_environment_and_drops_env_files() {
    let p = Project::new();
    p.write("simple-env", "DEFAULT_PORT=8080\n");
    let mut doc = p.doc(
        "services:\n  web:\n    image: nginx\n    env_file:\n      - ./simple-env\n  db:\n    image: pg\n  cache:\n    environment: [UNSET]\n",
    );
    apply_resolved_env(&mut doc, &shell(&[]), p.path(), true).unwrap();
    let web = doc.get("services").unwrap().get("web").unwrap();
    assert!(web.get("env_file").is_none());
    assert_eq!(
        web.get("environment")
            .unwrap()
            .get("DEFAULT_PORT")
            .and_then(Node::as_str),
        Some("8080")
    );
    let db = doc.get("services").unwrap().get("db").unwrap();
    assert!(db.get("environment").is_none());
    let cache = doc.get("services").unwrap().get("cache").unwrap();
    assert!(cache
        .get("environment")
        .unwrap()
        .get("UNSET")
        .unwrap()
        .is_null());

    let mut doc = p.doc("services:\n  web:\n    env_file: simple-env\n");
    apply_resolved_env(&mut doc, &shell(&[]), p.path(), false).unwrap();
    assert!(doc
        .get("services")
        .unwrap()
        .get("web")
        .unwrap()
        .get("env_file")
        .is_some());
}

#[test]
fn raw_format_keeps_values_verbatim() {
    // docker/compose TestRawEnvFile: quotes reach the container.
    let p = Project::new();
    let raw = p.write(
        ".env.raw",
        "TEST_VAR='{\"key\": \"value\"}'\nHOME_REF=$HOME\n",
    );
    let svc = p
        .service("services:\n  web:\n    env_file:\n      - path: .env.raw\n        format: raw\n");
    let r = resolve_service_env(&svc, &shell(&[("HOME", "/root")]), p.path()).unwrap();
    assert_eq!(
        r["TEST_VAR"].value.as_deref(),
        Some("'{\"key\": \"value\"}'")
    );
    assert_eq!(r["HOME_REF"].value.as_deref(), Some("$HOME"));
    assert_eq!(r["HOME_REF"].origin, Origin::EnvFile { path: raw, line: 2 });
}
