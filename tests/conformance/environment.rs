//! Service environments and the `config` switches around them: compose-go
//! `ResolveEnvironment` (bare list keys filled while loading, even with
//! `--no-env-resolution`), `LoadModel` for `--no-interpolate`, and the
//! consistency rule for `required: false` dependencies.

use super::support::Project;
use compose::loader::load_model;
use serde_json::json;

const BARE: &str = "name: t\nservices:\n  web:\n    image: nginx\n    environment:\n      - LISTED\n      - UNSET\n      - SET=x\n  map:\n    image: nginx\n    environment:\n      MAPPED:\n";

#[test]
fn without_env_resolution_listed_bare_keys_still_take_the_project_environment() {
    let mut p = Project::files(&[
        ("compose.yaml", BARE),
        (".env", "LISTED=from_dotenv\nMAPPED=from_dotenv\n"),
    ]);
    p.opts.resolve_environment = false;
    let c = p.config();
    assert_eq!(
        c["services"]["web"]["environment"],
        json!({"LISTED": "from_dotenv", "UNSET": null, "SET": "x"})
    );
    // The mapping form is not touched by compose-go's ResolveEnvironment.
    assert_eq!(c["services"]["map"]["environment"], json!({"MAPPED": null}));
}

#[test]
fn with_env_resolution_both_forms_are_resolved_and_the_shell_wins() {
    let p = Project::files(&[
        ("compose.yaml", BARE),
        (".env", "LISTED=from_dotenv\nMAPPED=from_dotenv\n"),
    ])
    .env("LISTED", "from_shell");
    let c = p.config();
    assert_eq!(
        c["services"]["web"]["environment"],
        json!({"LISTED": "from_shell", "SET": "x", "UNSET": null})
    );
    assert_eq!(
        c["services"]["map"]["environment"],
        json!({"MAPPED": "from_dotenv"})
    );
}

#[test]
fn compose_env_can_keep_bare_keys_to_tell_their_origin() {
    let mut p = Project::files(&[("compose.yaml", BARE), (".env", "LISTED=from_dotenv\n")]);
    p.opts.resolve_environment = false;
    p.opts.keep_bare_environment = true;
    let loaded = p.load();
    let env = loaded
        .document
        .get("services")
        .and_then(|s| s.get("web"))
        .and_then(|w| w.get("environment"))
        .unwrap()
        .to_json();
    assert_eq!(env["LISTED"], json!(null));
}

#[test]
fn no_interpolate_renders_the_raw_model() {
    let mut p = Project::new(
        "name: t\nservices:\n  web:\n    image: nginx\n    ports: ['${PORT:-8080}:80']\n    volumes: ['${SRC:-.}:/src']\n    profiles: [debug]\n",
    );
    p.opts.interpolate = false;
    // Typing the raw port fails, as compose-go's `ModelToProject` would.
    assert!(p.error().contains("services.web.ports[0]"));
    let model = load_model(&p.opts).unwrap_or_else(|e| panic!("{e}"));
    let web = model
        .document
        .get("services")
        .and_then(|s| s.get("web"))
        .unwrap()
        .to_json();
    assert_eq!(web["ports"], json!(["${PORT:-8080}:80"]));
    assert_eq!(
        web["volumes"],
        json!([{"type": "volume", "source": "${SRC:-.}", "target": "/src", "volume": {}}])
    );
    // Profiles are not applied to the model; normalisation is.
    assert_eq!(web["profiles"], json!(["debug"]));
    assert_eq!(web["networks"], json!({"default": null}));
}

/// compose-go `checkConsistency` skips only `ErrDisabled`. (The printed
/// project leaves `debug` out, so, as with docker compose, it does not load
/// back: no round trip here.)
#[test]
fn an_optional_dependency_may_name_a_service_disabled_by_a_profile() {
    let loaded = Project::new(
        "name: t\nservices:\n  web:\n    image: nginx\n    depends_on:\n      debug: {condition: service_started, required: false}\n  debug:\n    image: busybox\n    profiles: [debug]\n",
    )
    .load();
    let yaml = loaded.project.to_yaml().unwrap();
    let c = super::support::yaml_value(&yaml);
    assert_eq!(
        c["services"]["web"]["depends_on"],
        json!({"debug": {"condition": "service_started", "required": false}})
    );
    assert!(loaded.project.disabled_services.contains_key("debug"));
}

#[test]
fn an_optional_dependency_on_an_undefined_service_is_refused() {
    let err = Project::new(
        "name: t\nservices:\n  web:\n    image: nginx\n    depends_on:\n      ghost: {condition: service_started, required: false}\n",
    )
    .error();
    assert!(
        err.contains("services.web.depends_on.ghost") && err.contains("undefined service `ghost`"),
        "{err}"
    );
}

#[test]
fn a_required_dependency_on_a_disabled_service_is_refused() {
    let err = Project::new(
        "name: t\nservices:\n  web:\n    image: nginx\n    depends_on: [debug]\n  debug:\n    image: busybox\n    profiles: [debug]\n",
    )
    .error();
    assert!(err.contains("--profile debug"), "{err}");
}

/// `compose config` as a program, for the switches docker compose handles
/// in its command rather than in the loader.
fn compose_config(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_compose"))
        .arg("config")
        .args(args)
        .current_dir(dir)
        .env_remove("COMPOSE_PROJECT_NAME")
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROFILES")
        .env_remove("COMPOSE_ENVIRONMENT")
        .env_remove("PORT")
        .env_remove("LISTED")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "compose config {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn config_no_interpolate_prints_the_raw_model_unescaped() {
    let p = Project::files(&[
        (
            "compose.yaml",
            "name: t\nservices:\n  web:\n    image: nginx\n    ports: ['${PORT:-8080}:80']\n  debug:\n    image: busybox\n    profiles: [debug]\n",
        ),
    ]);
    let out = compose_config(p.path(), &["--no-interpolate"]);
    let v = super::support::yaml_value(&out);
    assert_eq!(v["services"]["web"]["ports"], json!(["${PORT:-8080}:80"]));
    assert!(
        v["services"]["debug"].is_object(),
        "profiles are not applied: {out}"
    );
    let names = compose_config(p.path(), &["--no-interpolate", "--services"]);
    assert_eq!(names, "web\ndebug\n");
}

#[test]
fn config_no_env_resolution_still_fills_listed_keys_from_dotenv() {
    let p = Project::files(&[
        ("compose.yaml", "name: t\nservices:\n  web:\n    image: nginx\n    environment: [LISTED]\n    env_file: [app.env]\n"),
        (".env", "LISTED=from_dotenv\n"),
        ("app.env", "FROM_FILE=1\n"),
    ]);
    let v = super::support::yaml_value(&compose_config(p.path(), &["--no-env-resolution"]));
    assert_eq!(
        v["services"]["web"]["environment"],
        json!({"LISTED": "from_dotenv"})
    );
    let v = super::support::yaml_value(&compose_config(p.path(), &[]));
    assert_eq!(
        v["services"]["web"]["environment"],
        json!({"FROM_FILE": "1", "LISTED": "from_dotenv"})
    );
}

/// compose-go converts `environment` and `labels` lists only when typing
/// the project; its raw model keeps them as lists, and merging a mapping
/// with a list makes a list (`mergeToSequence`).
#[test]
fn no_interpolate_keeps_key_value_lists_as_written() {
    let mut p = Project::files(&[
        ("compose.yaml", "name: t\nservices:\n  web:\n    image: nginx\n    environment:\n      - FOO\n      - BAR=${BAR:-x}\n    labels: [a=b]\n    command: echo hi\n"),
        ("compose.override.yaml", "services:\n  web:\n    environment:\n      BAZ: 1\n"),
        (".env", "FOO=from_dotenv\n"),
    ]);
    p.opts.interpolate = false;
    let model = load_model(&p.opts).unwrap_or_else(|e| panic!("{e}"));
    let web = model
        .document
        .get("services")
        .and_then(|s| s.get("web"))
        .unwrap()
        .to_json();
    assert_eq!(
        web["environment"],
        json!(["FOO=from_dotenv", "BAR=${BAR:-x}", "BAZ=1"])
    );
    assert_eq!(web["labels"], json!(["a=b"]));
    assert_eq!(web["command"], json!("echo hi"));
}
