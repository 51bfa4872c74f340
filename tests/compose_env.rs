//! `compose env SERVICE`: the binary, run on temporary projects and corpus
//! cases, with a clean process environment so only what a test sets counts.

use compose::testing::corpus;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn compose(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    compose_with_stdin(dir, args, env, None)
}

fn compose_with_stdin(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_compose"));
    cmd.args(args).current_dir(dir).env_clear();
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("compose binary runs");
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "compose failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    assert!(!out.status.success(), "compose unexpectedly succeeded");
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// The table's data rows as (name, value, source); values in these tests
/// have no spaces.
fn rows(table: &str) -> Vec<(String, String, String)> {
    let mut lines = table.lines();
    assert_eq!(
        lines
            .next()
            .map(|h| h.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["NAME", "VALUE", "SOURCE"])
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 3, "{l:?}");
            (f[0].to_string(), f[1].to_string(), f[2].to_string())
        })
        .collect()
}

fn row(name: &str, value: &str, source: &str) -> (String, String, String) {
    (name.into(), value.into(), source.into())
}

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn env_file_flags_and_service_env_files() {
    // compose-go TestProjectWithMultipleEnvFile: later --env-file wins for
    // interpolation, later service env_file wins for the container.
    let dir = corpus("cgo_cli_env_file_flag");
    let out = compose(
        &dir,
        &[
            "-f",
            "compose-with-env-files.yaml",
            "--env-file",
            ".env",
            "--env-file",
            "override.env",
            "env",
            "simple",
        ],
        &[],
    );
    assert_eq!(
        stdout(&out),
        "NAME           VALUE   SOURCE\nDEFAULT_PORT   9090    second-env:1\n"
    );
}

#[test]
fn compose_file_chosen_by_dotenv() {
    let dir = corpus("cgo_cli_compose_file_from_dotenv");
    let out = compose(&dir, &["env", "simple", "--format", "json"], &[]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        v,
        serde_json::json!([{"name": "DEFAULT_PORT", "value": "8080", "source": "simple-env:1"}])
    );
}

#[test]
fn every_source_is_named() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        ".env",
        "# defaults\nFROM_DOTENV=dotenv\nTAG=1.0\n",
    );
    write(d.path(), "app.env", "FROM_FILE=file\nOVERRIDDEN=file\n");
    write(
        d.path(),
        "compose.yaml",
        "services:\n  web:\n    image: app:${TAG}\n    env_file: app.env\n    environment:\n      - FROM_DOTENV\n      - FROM_SHELL\n      - OVERRIDDEN=compose\n",
    );
    let out = compose(d.path(), &["env", "web"], &[("FROM_SHELL", "shell")]);
    assert_eq!(
        stdout(&out),
        "NAME          VALUE     SOURCE\n\
         FROM_DOTENV   dotenv    .env:2\n\
         FROM_FILE     file      app.env:1\n\
         FROM_SHELL    shell     shell\n\
         OVERRIDDEN    compose   compose.yaml:8\n"
    );
}

#[test]
fn unknown_service_lists_services() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "compose.yaml",
        "services:\n  web:\n    image: a\n  db:\n    image: b\n",
    );
    let out = compose(d.path(), &["env", "wbe"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no such service: wbe (the project defines: web, db)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn missing_required_env_file_is_located() {
    let dir = corpus("e2e_env_file_missing");
    let err = stderr(&compose(&dir, &["env", "serviceB"], &[]));
    assert!(
        err.contains("compose.yaml:8:9: services.serviceB.env_file[0]"),
        "{err}"
    );
    assert!(err.contains("/doesnotexist/.env not found"), "{err}");
    // The other services are unaffected.
    let out = compose(&dir, &["env", "serviceC"], &[]);
    assert_eq!(rows(&stdout(&out)), [row("FOO", "BAR", "test.env:1")]);
}

#[test]
fn missing_env_file_flag_is_an_error_naming_it() {
    let dir = corpus("e2e_env_file_missing");
    let err = stderr(&compose(
        &dir,
        &["--env-file", "nope.env", "env", "serviceA"],
        &[],
    ));
    assert!(
        err.contains(&dir.join("nope.env").display().to_string()),
        "{err}"
    );
}

#[test]
fn include_env_file_does_not_leak_into_the_parent() {
    // The included module's env_file only feeds the module's interpolation;
    // service `a` of the parent gets nothing for VAR_NAME.
    let dir = corpus("include_env_file");
    let out = compose(&dir, &["env", "a"], &[]);
    assert_eq!(
        stdout(&out),
        "NAME       VALUE     SOURCE\nVAR_NAME   (unset)   compose.yaml:8\n"
    );
    let out = compose(&dir, &["env", "a"], &[("VAR_NAME", "shell")]);
    assert_eq!(rows(&stdout(&out)), [row("VAR_NAME", "shell", "shell")]);
}

#[test]
fn environment_overlay_adds_files() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), ".env", "MODE=dev\nLEVEL=info\n");
    write(d.path(), ".env.prod", "MODE=prod\n");
    write(
        d.path(),
        "compose.yaml",
        "services:\n  web:\n    image: app\n    environment: [MODE, LEVEL]\n",
    );
    write(
        d.path(),
        "compose.prod.yaml",
        "services:\n  web:\n    image: app\n    environment: [MODE, LEVEL, EXTRA=1]\n",
    );
    let dev = stdout(&compose(d.path(), &["env", "web"], &[]));
    assert_eq!(
        rows(&dev),
        [row("LEVEL", "info", ".env:2"), row("MODE", "dev", ".env:1")]
    );
    let prod = stdout(&compose(
        d.path(),
        &["--environment", "prod", "env", "web"],
        &[],
    ));
    assert_eq!(
        rows(&prod),
        [
            row("EXTRA", "1", "compose.prod.yaml:4"),
            row("LEVEL", "info", ".env:2"),
            row("MODE", "prod", ".env.prod:1"),
        ]
    );
    let via_var = stdout(&compose(
        d.path(),
        &["env", "web"],
        &[("COMPOSE_ENVIRONMENT", "prod")],
    ));
    assert_eq!(via_var, prod);
    let err = stderr(&compose(
        d.path(),
        &["--environment", "qa", "env", "web"],
        &[],
    ));
    assert!(err.contains("compose.qa.yaml"), "{err}");
}

#[test]
fn compose_file_from_the_shell_and_stdin() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "sub/app.yaml",
        "services:\n  web:\n    image: a\n    environment: {A: \"1\"}\n",
    );
    let out = compose(
        d.path(),
        &["env", "web"],
        &[("COMPOSE_FILE", "sub/app.yaml")],
    );
    // The project directory is the first file's: sources are relative to it.
    assert_eq!(rows(&stdout(&out)), [row("A", "1", "app.yaml:4")]);

    let out = compose_with_stdin(
        d.path(),
        &["-f", "-", "env", "web"],
        &[],
        Some("services:\n  web:\n    image: a\n    environment:\n      B: two\n"),
    );
    assert_eq!(rows(&stdout(&out)), [row("B", "two", "-:5")]);
}
