//! Schema validation tests: hand-written mistakes with their exact
//! messages, and the real-world corpus.

use super::*;
use crate::loader::yaml;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn parse(text: &str) -> Node {
    let file: Arc<Path> = Arc::from(Path::new("compose.yaml"));
    yaml::parse_str(text, &file).unwrap()
}

fn messages(text: &str) -> Vec<String> {
    violations(&parse(text))
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// The shared corpus of real Compose files (see PREAMBLE: never copied).
pub(crate) fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("COMPOSE_CORPUS") {
        return PathBuf::from(dir);
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/compose-corpus");
    if beside.is_dir() {
        return beside;
    }
    PathBuf::from("/work/shared/compose-corpus")
}

/// The main Compose file (`compose.yaml` or `compose.yml`) of every corpus
/// case, by case name, sorted.
pub(crate) fn corpus_files() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = corpus_yaml_files()
        .into_iter()
        .filter(|(_, p)| {
            let parent = p.parent().and_then(Path::parent);
            parent == Some(corpus_dir().as_path())
                && matches!(
                    p.file_name().and_then(|n| n.to_str()),
                    Some("compose.yaml" | "compose.yml")
                )
        })
        .collect();
    out.sort();
    assert!(
        out.len() > 40,
        "corpus looks incomplete: {} files",
        out.len()
    );
    out
}

/// Every YAML file of the corpus (main files, overrides, extended files),
/// with its case name, sorted by path.
pub(crate) fn corpus_yaml_files() -> Vec<(String, PathBuf)> {
    fn walk(dir: &Path, case: &str, out: &mut Vec<(String, PathBuf)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, case, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push((case.to_string(), path));
            }
        }
    }
    let dir = corpus_dir();
    let mut out = Vec::new();
    let cases = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {} unreadable: {e}", dir.display()));
    for case in cases.filter_map(Result::ok) {
        let name = case.file_name().to_string_lossy().into_owned();
        walk(&case.path(), &name, &mut out);
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

#[test]
fn shipped_schema_compiles() {
    assert!(validator().is_valid(&serde_json::json!({"services": {}})));
}

#[test]
fn valid_file_passes() {
    let doc = parse(
        "services:\n  web:\n    image: nginx\n    ports: [\"80:80\", 8080]\n    environment:\n      A: 1\n",
    );
    assert!(validate(&doc).is_ok());
}

#[test]
fn environment_value_list_is_reported_at_the_variable() {
    let msgs =
        messages("services:\n  foo:\n    image: alpine\n    environment:\n      FOO: [\"1\"]\n");
    assert_eq!(
        msgs,
        ["compose.yaml:5:12: services.foo.environment.FOO: must be null, a boolean, a number or a string, found a list"]
    );
}

#[test]
fn environment_as_string_names_allowed_kinds() {
    let msgs = messages("services:\n  foo:\n    image: alpine\n    environment: \"FOO=1\"\n");
    assert_eq!(
        msgs,
        ["compose.yaml:4:18: services.foo.environment: must be a mapping or a list, found a string"]
    );
}

#[test]
fn port_of_wrong_kind() {
    let msgs =
        messages("services:\n  web:\n    image: nginx\n    ports:\n      - 80\n      - true\n");
    assert_eq!(
        msgs,
        ["compose.yaml:6:9: services.web.ports[1]: must be a number, a string or a mapping, found a boolean"]
    );
}

#[test]
fn unknown_key_suggests_the_closest() {
    let msgs = messages("services:\n  web:\n    image: nginx\n    enviroment: [A=b]\n");
    assert_eq!(
        msgs,
        ["compose.yaml:4:17: services.web.enviroment: additional property `enviroment` is not allowed; did you mean `environment`?"]
    );
    let top = messages("service: {web: {image: nginx}}\n");
    assert_eq!(
        top,
        ["compose.yaml:1:10: service: additional property `service` is not allowed; did you mean `services`?"]
    );
}

#[test]
fn bad_service_name_names_the_pattern() {
    let msgs = messages("services:\n  \"my web\":\n    image: nginx\n");
    assert_eq!(msgs.len(), 1);
    assert!(
        msgs[0].contains("services.my web: additional property `my web` is not allowed; names here must match `^[a-zA-Z0-9._-]+$`"),
        "{msgs:?}"
    );
}

#[test]
fn depends_on_condition_lists_allowed_values() {
    let msgs = messages(
        "services:\n  a:\n    image: x\n    depends_on:\n      b:\n        condition: started\n  b:\n    image: x\n",
    );
    assert_eq!(
        msgs,
        ["compose.yaml:6:20: services.a.depends_on.b.condition: must be one of `service_started`, `service_healthy` or `service_completed_successfully`"]
    );
}

#[test]
fn most_specific_error_comes_first() {
    let msgs = messages(
        "services:\n  a:\n    image: x\n    ports: true\n    build:\n      args:\n        X: [1]\n",
    );
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(msgs[0].contains("services.a.build.args.X"), "{msgs:?}");
    assert!(
        msgs[1].contains("services.a.ports: must be a list"),
        "{msgs:?}"
    );
}

#[test]
fn numeric_mapping_keys_stay_keys_in_paths() {
    let doc = parse("x-a:\n  \"1\": {b: 2}\n");
    let path = node_path(&doc, "/x-a/1/b");
    assert_eq!(path.to_string(), "x-a.1.b");
    let doc = parse("x-a:\n  - {b: 2}\n");
    assert_eq!(node_path(&doc, "/x-a/0/b").to_string(), "x-a[0].b");
}

#[test]
fn corpus_invalid_cases_are_rejected_clearly() {
    let dir = corpus_dir();
    let read = |case: &str| {
        let path = dir.join(case).join("compose.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        let doc = yaml::parse_str(&text, &Arc::from(path.as_path())).unwrap();
        validate(&doc).unwrap_err().to_string()
    };
    let invalid_value = read("cgo_environment_invalid_value");
    assert!(
        invalid_value.ends_with(
            "compose.yaml:5:12: services.foo.environment.FOO: must be null, a boolean, a number or a string, found a list"
        ),
        "{invalid_value}"
    );
    let not_mapping = read("cgo_environment_not_mapping");
    assert!(
        not_mapping.ends_with(
            "compose.yaml:4:18: services.foo.environment: must be a mapping or a list, found a string"
        ),
        "{not_mapping}"
    );
}

/// Whether a violation is explained by a variable the corpus file expects
/// interpolation to fill in (interpolation is a later stage than this test
/// runs): the offending value holds a `$`.
fn explained_by_variable(doc: &Node, v: &Violation) -> bool {
    fn has_dollar(n: &Node) -> bool {
        match &n.value {
            crate::loader::node::Value::String(s) => s.contains('$'),
            crate::loader::node::Value::Seq(items) => items.iter().any(has_dollar),
            crate::loader::node::Value::Map(m) => m.values().any(has_dollar),
            _ => false,
        }
    }
    doc.at(&v.location.path).is_some_and(has_dollar)
}

#[test]
fn every_other_corpus_file_passes() {
    const INVALID: [&str; 2] = [
        "cgo_environment_invalid_value",
        "cgo_environment_not_mapping",
    ];
    let mut failures = Vec::new();
    // Read only through `extends`, which takes one service from it: like
    // compose-go, the whole file is never validated (it has a null service
    // on purpose, `nil:`).
    const EXTENDS_ONLY: [&str; 1] = ["cgo_extends_port/testdata/extends/base.yaml"];
    for (case, path) in corpus_yaml_files() {
        let relative = path.strip_prefix(corpus_dir()).unwrap_or(&path);
        if INVALID.contains(&case.as_str()) || EXTENDS_ONLY.iter().any(|e| relative == Path::new(e))
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for doc in yaml::parse_documents(&text, &Arc::from(path.as_path())).unwrap() {
            for v in violations(&doc) {
                if !explained_by_variable(&doc, &v) {
                    failures.push(format!("{case}: {v}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
