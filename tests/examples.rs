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

/// The README's main job: `examples/demo/run.sh` imports a base image,
/// builds, brings the demo up with three web replicas behind one port,
/// answers from each and takes it down again, leaving nothing behind.
#[test]
fn the_demo_script_runs_the_project_end_to_end() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the demo needs root (namespaces); CI runs the tests as root"
    );
    let root = tempfile::tempdir().unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_compose")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo/run.sh");
    let out = Command::new("bash")
        .arg(&script)
        .env("PATH", path)
        .env("COMPOSE_ROOT", root.path())
        .env("WEB_PORT", port.to_string())
        .env_remove("COMPOSE_PROJECT_NAME")
        .env_remove("COMPOSE_FILE")
        .output()
        .expect("bash runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let answers: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("web replica "))
        .collect();
    assert_eq!(answers.len(), 6, "{stdout}");
    assert!(
        answers.iter().all(|a| a.ends_with(": api sees schema v1")),
        "{stdout}"
    );
    let replicas: std::collections::BTreeSet<&str> = answers
        .iter()
        .map(|a| a.split(':').next().unwrap())
        .collect();
    assert_eq!(replicas.len(), 3, "every replica answers: {stdout}");
    assert!(stdout.contains("migrate-1 | done"), "{stdout}");
    // `down` left no container, network or project state in the root.
    let projects = root.path().join("projects/demo");
    let left: Vec<_> = std::fs::read_dir(projects.join("containers"))
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "containers left: {left:?}");
    let table = compose_runtime::network::nft::table_for_root(root.path());
    let nft = Command::new("nft")
        .args(["list", "table", "ip", &table])
        .output()
        .unwrap();
    assert!(!nft.status.success(), "nft table {table} left");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let root_text = root.path().to_string_lossy();
    assert!(
        !mounts.lines().any(|l| l.contains(root_text.as_ref())),
        "mounts left under {root_text}"
    );
}

#[test]
fn config_variables_lists_the_models_variables() {
    let table = config(&["config", "--variables"]);
    let lines: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines,
        [
            vec!["NAME", "REQUIRED", "DEFAULT", "VALUE", "ALTERNATE", "VALUE"],
            vec!["NGINX_TAG", "false", "1.27"],
        ],
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&config(&["config", "--variables", "--format", "json"])).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"NGINX_TAG": {"Name": "NGINX_TAG", "DefaultValue": "1.27", "PresenceValue": "", "Required": false}})
    );
}
