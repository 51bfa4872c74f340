//! `compose graph` end to end: the binary run in a fixture project
//! directory (tests/fixtures/graph_*), output checked against golden text.

use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn compose_graph(dir: &str, format: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(["graph", "--format", format])
        .current_dir(fixture(dir))
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROJECT_NAME")
        .output()
        .expect("run compose")
}

#[test]
fn graph_text_shows_levels_and_conditions() {
    let out = compose_graph("graph_levels", "text");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = "\
level 1
├── cache
└── db
level 2
└── api
    └── db (service_started)
level 3
└── web
    ├── api (service_healthy)
    └── cache (service_started, from links, restart)
";
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
}

#[test]
fn graph_dot_and_json_formats() {
    let dot = compose_graph("graph_levels", "dot");
    assert!(dot.status.success());
    let dot = String::from_utf8_lossy(&dot.stdout);
    assert!(dot.starts_with("digraph compose {"), "{dot}");
    assert!(
        dot.contains("\"web\" -> \"api\" [label=\"service_healthy\"];"),
        "{dot}"
    );
    let json = compose_graph("graph_levels", "json");
    assert!(json.status.success());
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        v["levels"],
        serde_json::json!([["cache", "db"], ["api"], ["web"]])
    );
    assert_eq!(v["edges"].as_array().unwrap().len(), 3);
}

#[test]
fn graph_cycle_fails_naming_the_cycle() {
    let out = compose_graph("graph_cycle", "text");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("services.a.depends_on.b: dependency cycle: a -> b -> a"),
        "{err}"
    );
}
