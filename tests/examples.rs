//! The README's example project works as the README says.

use std::path::Path;
use std::process::Command;

fn config(args: &[&str]) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart");
    let out = Command::new(env!("CARGO_BIN_EXE_compose"))
        .arg("--project-directory")
        .arg(&dir)
        .args(args)
        .env_remove("COMPOSE_ENVIRONMENT")
        .env_remove("NGINX_TAG")
        .output()
        .expect("compose runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn quickstart_loads_with_defaults() {
    let out = config(&["config"]);
    assert!(out.contains("    image: nginx:1.27\n"), "{out}");
    assert!(out.contains("        published: \"8080\"\n"), "{out}");
    assert!(!out.contains("replicas"), "{out}");
}

#[test]
fn prod_environment_layers_its_file_and_env() {
    let out = config(&["--environment", "prod", "config"]);
    // .env.prod sets the tag; compose.prod.yaml replaces the ports and scales.
    assert!(out.contains("    image: nginx:1.27-alpine\n"), "{out}");
    assert!(out.contains("        published: \"80\"\n"), "{out}");
    assert!(!out.contains("\"8080\""), "{out}");
    assert!(out.contains("      replicas: 4\n"), "{out}");
}

#[test]
fn ansi_flag_controls_colours() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  web:\n    image: ${TAG:?set TAG}\n",
    )
    .unwrap();
    let run = |ansi: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_compose"))
            .args(["--ansi", ansi, "config"])
            .current_dir(dir.path())
            .env_remove("TAG")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8(out.stderr).unwrap()
    };
    assert!(run("always").contains("\u{1b}["));
    assert!(!run("never").contains('\u{1b}'));
}
