//! Real-world Compose files (../shared/compose-corpus): every case loads as
//! docker compose loads it, and the few invalid ones are rejected with an
//! error that names the file, the place and the problem.

use compose::loader::node::Node;
use compose::loader::{load, LoadError, Loaded, Options};
use compose::testing::corpus_root as corpus;

/// Options as `compose config` in the case's folder, with a bare shell
/// environment so the host's variables cannot change the outcome.
fn options(case: &str) -> Options {
    let mut opts = Options::for_dir(corpus().join(case));
    opts.os_env.insert("HOME".into(), "/home/user".into());
    opts
}

fn load_case(case: &str) -> Loaded {
    match load(&options(case)) {
        Ok(l) => l,
        Err(e) => panic!("{case} must load, got: {e}"),
    }
}

fn reject_case(case: &str) -> String {
    match load(&options(case)) {
        Ok(_) => panic!("{case} must be rejected"),
        Err(e) => e.to_string(),
    }
}

fn service<'a>(l: &'a Loaded, name: &str) -> &'a Node {
    l.document
        .get("services")
        .and_then(|s| s.get(name))
        .unwrap_or_else(|| panic!("service {name} missing"))
}

/// The project as typed (environments resolved), back as a tree.
fn resolved(l: &Loaded) -> Node {
    Node::from_json(&serde_json::to_value(&l.project).expect("project serialises"))
}

fn resolved_service(l: &Loaded, name: &str) -> Node {
    resolved(l)
        .get("services")
        .and_then(|s| s.get(name))
        .cloned()
        .unwrap_or_else(|| panic!("service {name} missing"))
}

fn text<'a>(n: &'a Node, path: &[&str]) -> &'a str {
    let mut node = n;
    for key in path {
        node = node
            .get(key)
            .unwrap_or_else(|| panic!("missing {key} in {path:?}"));
    }
    node.as_str()
        .unwrap_or_else(|| panic!("{path:?} is not a string"))
}

/// Cases that are invalid on purpose, with a fragment each error must contain.
const INVALID: &[(&str, &[&str])] = &[
    (
        "cgo_environment_invalid_value",
        &["compose.yaml:5", "services.foo.environment"],
    ),
    (
        "cgo_environment_not_mapping",
        &["compose.yaml:4", "services.foo.environment"],
    ),
    ("e2e_env_file_missing", &["/doesnotexist/.env", "not found"]),
];

#[test]
fn every_valid_case_loads() {
    let mut failures = Vec::new();
    let mut count = 0;
    for entry in std::fs::read_dir(corpus()).expect("corpus folder") {
        let entry = entry.unwrap();
        if !entry.file_type().unwrap().is_dir() {
            continue;
        }
        let case = entry.file_name().to_string_lossy().into_owned();
        if INVALID.iter().any(|(c, _)| *c == case) {
            continue;
        }
        count += 1;
        if let Err(e) = load(&options(&case)) {
            failures.push(format!("{case}: {e}"));
        }
    }
    assert!(count >= 50, "only {count} corpus cases found");
    assert!(
        failures.is_empty(),
        "cases that failed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn invalid_cases_are_rejected_clearly() {
    for (case, fragments) in INVALID {
        let message = reject_case(case);
        for f in *fragments {
            assert!(
                message.contains(f),
                "{case}: error {message:?} should mention {f:?}"
            );
        }
        assert!(!message.contains("panicked"), "{message}");
    }
}

#[test]
fn compose_file_and_project_name_come_from_dotenv() {
    let l = load_case("cgo_cli_compose_file_from_dotenv");
    assert_eq!(l.project.name, "my_project_from_dot_env");
    assert!(l.config_files[0].ends_with("compose-with-env-file.yaml"));
    assert_eq!(text(service(&l, "simple"), &["image"]), "nginx");
}

#[test]
fn dotenv_sets_compose_file_and_profiles() {
    // docker compose e2e TestComposeFileSetByDotEnv: `image: test:latest`
    // and the profiled service enabled by COMPOSE_PROFILES.
    let l = load_case("e2e_dotenv_compose_file");
    assert_eq!(text(service(&l, "backend"), &["image"]), "test:latest");
    assert_eq!(text(service(&l, "test"), &["image"]), "enabled:profile");
}

#[test]
fn nested_dotenv_in_working_dir_overrides_project_dotenv() {
    // docker compose e2e TestNestedDotEnv: run from `sub`, the compose file
    // is found in the parent, and both .env files apply, the nearer winning.
    let mut opts = options("e2e_nested_dotenv");
    opts.working_dir = opts.working_dir.join("sub");
    let l = load(&opts).expect("loads from a subdirectory");
    let echo = resolved_service(&l, "echo");
    let command = echo.get("command").expect("command");
    let words: Vec<String> = command
        .as_seq()
        .expect("command is a list in canonical form")
        .iter()
        .filter_map(Node::scalar_text)
        .collect();
    assert_eq!(words, ["echo", "root", "sub", "win=sub"]);
}

#[test]
fn expanded_port_ranges() {
    let l = load_case("cgo_expanded_port_format");
    let ports = service(&l, "web").get("ports").unwrap().as_seq().unwrap();
    // 3 + 3 from the ranges, then 85:8500, 8600, and the two long forms.
    assert_eq!(ports.len(), 10);
    assert_eq!(
        ports[0].get("target").unwrap().value,
        Node::from_json(&8080.into()).value
    );
    assert_eq!(text(&ports[0], &["published"]), "80");
    assert_eq!(text(&ports[4], &["protocol"]), "udp");
}

#[test]
fn extends_with_reset_drops_command() {
    let l = load_case("extends_with_reset");
    let base = service(&l, "base");
    assert_eq!(text(base, &["image"]), "alpine:latest");
    assert!(base.get("command").is_none_or(Node::is_null));
}

#[test]
fn extends_across_files_keeps_ports() {
    let l = load_case("cgo_extends_port");
    let test = service(&l, "test");
    assert_eq!(text(test, &["image"]), "test");
    let ports = test.get("ports").unwrap().as_seq().unwrap();
    assert_eq!(text(&ports[0], &["published"]), "8000");
}

#[test]
fn include_uses_its_own_env_file() {
    let l = load_case("include_env_file");
    let b = resolved_service(&l, "b");
    assert_eq!(text(&b, &["image"]), "busybox:latest");
    assert_eq!(text(&b, &["environment", "VAR_NAME"]), "value");
    let a = resolved_service(&l, "a");
    assert!(a
        .get("environment")
        .and_then(|e| e.get("VAR_NAME"))
        .is_none_or(Node::is_null));
}

#[test]
fn override_file_adds_env_file_to_extended_service() {
    let mut opts = options("e2e_oci_extends_override");
    opts.files = vec!["compose.yaml".into(), "compose-override.yaml".into()];
    let l = load(&opts).expect("loads");
    let app = resolved_service(&l, "app");
    assert_eq!(text(&app, &["image"]), "alpine");
    assert_eq!(text(&app, &["environment", "HELLO"]), "WORLD");
}

#[test]
fn errors_are_load_errors_not_panics() {
    // The error type is the loader's, so the CLI can decide the exit code.
    let err: LoadError = load(&options("cgo_environment_not_mapping")).unwrap_err();
    assert!(!err.to_string().is_empty());
}
