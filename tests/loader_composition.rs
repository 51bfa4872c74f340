//! How Compose documents combine, through `loader::load`: `extends`,
//! `include`, merge tags, relative paths and profiles, on fixtures written by
//! each test into its own temporary directory, and on the shared corpus.

use compose::loader::{load, LoadError, Loaded, Options};
use compose::testing::corpus;
use serde_json::{json, Value};
use std::fs;
use std::path::Path;

/// Write `files` (path, text) under a new temporary directory.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in files {
        let p = dir.path().join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    dir
}

fn options(dir: &Path) -> Options {
    let mut opts = Options::for_dir(dir);
    opts.os_env.insert("HOME".into(), "/home/tester".into());
    // These tests look at where paths point, not at the files' contents:
    // the env files they name need not exist.
    opts.resolve_environment = false;
    opts
}

fn load_dir(dir: &Path) -> Loaded {
    load(&options(dir)).unwrap_or_else(|e| panic!("{e}"))
}

fn load_err(opts: &Options) -> String {
    match load(opts) {
        Ok(_) => panic!("loading should fail"),
        Err(e) => e.to_string(),
    }
}

fn service(loaded: &Loaded, name: &str) -> Value {
    loaded
        .document
        .get("services")
        .and_then(|s| s.get(name))
        .unwrap_or_else(|| panic!("no service {name}"))
        .to_json()
}

fn service_names(loaded: &Loaded) -> Vec<String> {
    loaded
        .document
        .get("services")
        .unwrap()
        .as_map()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

fn at(dir: &Path, rel: &str) -> String {
    dir.join(rel).to_string_lossy().into_owned()
}

// ---- extends -------------------------------------------------------------

#[test]
fn corpus_extends_with_reset_drops_the_inherited_command() {
    let loaded = load_dir(&corpus("extends_with_reset"));
    let base = service(&loaded, "base");
    assert_eq!(base["image"], "alpine:latest");
    assert!(base.get("command").is_none(), "{base}");
    assert!(base.get("extends").is_none());
}

#[test]
fn corpus_cgo_extends_port_takes_ports_from_the_other_file() {
    let loaded = load_dir(&corpus("cgo_extends_port"));
    let test = service(&loaded, "test");
    assert_eq!(test["image"], "test");
    assert_eq!(
        test["ports"],
        json!([{"mode": "ingress", "target": 8000, "published": "8000", "protocol": "tcp"}])
    );
}

#[test]
fn corpus_oci_extends_override_takes_the_image() {
    let loaded = load_dir(&corpus("e2e_oci_extends_override"));
    assert_eq!(service(&loaded, "app")["image"], "alpine");
}

#[test]
fn extended_file_paths_are_relative_to_that_file() {
    let dir = project(&[
        (
            "compose.yaml",
            "services:\n  web:\n    extends: {file: lib/base.yaml, service: app}\n    environment: [B=2]\nvolumes:\n  named: {}\n",
        ),
        (
            "lib/base.yaml",
            "services:\n  app:\n    build: .\n    volumes: ['./data:/data', 'named:/n']\n    env_file: app.env\n    environment: [A=1]\n",
        ),
    ]);
    let loaded = load_dir(dir.path());
    let web = service(&loaded, "web");
    assert_eq!(web["build"]["context"], at(dir.path(), "lib"));
    assert_eq!(web["volumes"][0]["source"], at(dir.path(), "lib/data"));
    assert_eq!(web["volumes"][1]["source"], "named");
    assert_eq!(web["env_file"][0]["path"], at(dir.path(), "lib/app.env"));
    assert_eq!(web["environment"], json!({"A": "1", "B": "2"}));
}

#[test]
fn extends_many_levels_across_files() {
    let dir = project(&[
        ("compose.yaml", "services:\n  web:\n    extends: {file: a/one.yaml, service: one}\n    image: web\n"),
        ("a/one.yaml", "services:\n  one:\n    extends: two\n    labels: [one=1]\n  two:\n    extends: {file: ../b/three.yaml, service: three}\n    labels: [two=2]\n"),
        ("b/three.yaml", "services:\n  three:\n    image: three\n    labels: [three=3]\n    working_dir: /w\n    build: {context: ctx}\n"),
    ]);
    let web = service(&load_dir(dir.path()), "web");
    assert_eq!(web["image"], "web");
    assert_eq!(web["working_dir"], "/w");
    assert_eq!(web["labels"], json!({"three": "3", "two": "2", "one": "1"}));
    assert_eq!(web["build"]["context"], at(dir.path(), "b/ctx"));
}

#[test]
fn extends_within_the_file_with_short_form() {
    let dir = project(&[(
        "compose.yaml",
        "services:\n  base: {image: x, command: [a], ports: ['80:80']}\n  web:\n    extends: base\n    ports: !override ['81:81']\n",
    )]);
    let web = service(&load_dir(dir.path()), "web");
    assert_eq!(web["command"], json!(["a"]));
    assert_eq!(web["ports"][0]["published"], "81");
    assert_eq!(web["ports"].as_array().map(Vec::len), Some(1));
}

#[test]
fn extends_cycle_names_the_whole_chain_and_the_place() {
    let dir = project(&[(
        "compose.yaml",
        "services:\n  a:\n    extends: b\n  b:\n    extends: c\n  c:\n    extends: a\n",
    )]);
    let err = load_err(&options(dir.path()));
    let file = at(dir.path(), "compose.yaml");
    assert!(err.starts_with(&format!("{file}:7:")), "{err}");
    assert!(
        err.contains(&format!("circular `extends`: a ({file}) extends b ({file}) extends c ({file}) extends a ({file})")),
        "{err}"
    );
}

#[test]
fn extends_cycle_across_files() {
    let dir = project(&[
        (
            "compose.yaml",
            "services:\n  web:\n    extends: {file: other.yaml, service: x}\n",
        ),
        (
            "other.yaml",
            "services:\n  x:\n    extends: {file: other.yaml, service: y}\n  y:\n    extends: x\n",
        ),
    ]);
    let err = load_err(&options(dir.path()));
    let other = fs::canonicalize(dir.path().join("other.yaml")).unwrap();
    assert!(err.starts_with(&format!("{}:5:", other.display())), "{err}");
    assert!(err.contains("circular `extends`: x ("), "{err}");
    assert!(err.contains("extends y ("), "{err}");
}

#[test]
fn extends_of_an_unknown_service_says_what_was_looked_for_and_where() {
    let dir = project(&[(
        "compose.yaml",
        "services:\n  db: {image: pg}\n  web:\n    extends: dbb\n",
    )]);
    let err = load_err(&options(dir.path()));
    let file = at(dir.path(), "compose.yaml");
    assert!(err.starts_with(&format!("{file}:4:")), "{err}");
    assert!(
        err.contains(&format!("services.web.extends: service \"web\" extends \"dbb\", but {file} defines no such service (it defines: db, web)")),
        "{err}"
    );
}

#[test]
fn extends_of_a_service_missing_in_the_other_file() {
    let dir = project(&[
        (
            "compose.yaml",
            "services:\n  web:\n    extends:\n      file: base.yaml\n      service: nope\n",
        ),
        ("base.yaml", "services:\n  app: {image: a}\n"),
    ]);
    let err = load_err(&options(dir.path()));
    assert!(
        err.starts_with(&format!("{}:4:", at(dir.path(), "compose.yaml"))),
        "{err}"
    );
    assert!(
        err.contains("base.yaml defines no such service (it defines: app)"),
        "{err}"
    );
}

#[test]
fn extends_of_a_missing_file_names_the_file() {
    let dir = project(&[(
        "compose.yaml",
        "services:\n  web:\n    extends:\n      file: nowhere.yaml\n      service: app\n",
    )]);
    let err = load_err(&options(dir.path()));
    assert!(
        err.starts_with(&format!("{}:4:", at(dir.path(), "compose.yaml"))),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "cannot read {} (`extends.file`)",
            at(dir.path(), "nowhere.yaml")
        )),
        "{err}"
    );
}

// ---- include -------------------------------------------------------------

#[test]
fn corpus_include_env_file_imports_the_module() {
    let loaded = load_dir(&corpus("include_env_file"));
    assert_eq!(service_names(&loaded), ["a", "b"]);
    // module.env is the included project's, not the including one's.
    assert_eq!(
        service(&loaded, "b")["environment"],
        json!({"VAR_NAME": "value"})
    );
    assert_eq!(
        service(&loaded, "a")["environment"],
        json!({"VAR_NAME": null})
    );
    assert!(loaded.document.get("include").is_none());
}

#[test]
fn include_short_and_long_forms_with_their_own_directories() {
    let dir = project(&[
        (
            "compose.yaml",
            "include:\n  - db/compose.yaml\n  - path: [cache/compose.yaml, cache/override.yaml]\n    project_directory: cache/root\nservices:\n  web: {image: web, depends_on: [db, cache]}\n",
        ),
        ("db/compose.yaml", "services:\n  db:\n    build: .\n    volumes: ['./data:/var/lib/db']\nvolumes:\n  dbdata: {}\n"),
        ("cache/compose.yaml", "services:\n  cache: {image: redis, env_file: cache.env}\n"),
        ("cache/override.yaml", "services:\n  cache: {ports: ['6379:6379']}\n"),
    ]);
    let loaded = load_dir(dir.path());
    assert_eq!(service_names(&loaded), ["web", "db", "cache"]);
    let db = service(&loaded, "db");
    assert_eq!(db["build"]["context"], at(dir.path(), "db"));
    assert_eq!(db["volumes"][0]["source"], at(dir.path(), "db/data"));
    assert_eq!(db["volumes"][0]["target"], "/var/lib/db");
    let cache = service(&loaded, "cache");
    assert_eq!(
        cache["env_file"][0]["path"],
        at(dir.path(), "cache/root/cache.env")
    );
    assert_eq!(cache["ports"][0]["published"], "6379");
    assert!(loaded
        .document
        .get("volumes")
        .and_then(|v| v.get("dbdata"))
        .is_some());
}

#[test]
fn including_project_overrides_an_imported_definition() {
    let dir = project(&[
        ("compose.yaml", "include: [sub/compose.yaml]\nservices:\n  bar:\n    image: busybox\n    environment: !override [ZOT=QIX]\n"),
        ("sub/compose.yaml", "services:\n  bar:\n    image: alpine\n    environment: [FOO=1]\n    command: [sleep]\n"),
    ]);
    let bar = service(&load_dir(dir.path()), "bar");
    assert_eq!(bar["image"], "busybox");
    assert_eq!(bar["environment"], json!({"ZOT": "QIX"}));
    assert_eq!(bar["command"], json!(["sleep"]));
}

#[test]
fn include_cycle_names_the_chain_and_the_place() {
    let dir = project(&[
        (
            "compose.yaml",
            "include: [a/a.yaml]\nservices: {web: {image: w}}\n",
        ),
        (
            "a/a.yaml",
            "include:\n  - ../b.yaml\nservices: {a: {image: a}}\n",
        ),
        (
            "b.yaml",
            "include:\n  - path: a/a.yaml\nservices: {b: {image: b}}\n",
        ),
    ]);
    let err = load_err(&options(dir.path()));
    let canon = |p: &str| {
        fs::canonicalize(dir.path().join(p))
            .unwrap()
            .display()
            .to_string()
    };
    assert!(err.starts_with(&format!("{}:2:", canon("b.yaml"))), "{err}");
    assert!(
        err.contains(&format!(
            "include cycle: {} includes {} includes {}",
            canon("a/a.yaml"),
            canon("b.yaml"),
            canon("a/a.yaml")
        )),
        "{err}"
    );
}

#[test]
fn include_of_a_missing_file_names_it_and_the_entry() {
    let dir = project(&[(
        "compose.yaml",
        "services: {web: {image: w}}\ninclude:\n  - missing.yaml\n",
    )]);
    let err = load_err(&options(dir.path()));
    assert!(
        err.starts_with(&format!("{}:3:", at(dir.path(), "compose.yaml"))),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "cannot read included file {}",
            at(dir.path(), "missing.yaml")
        )),
        "{err}"
    );
}

#[test]
fn include_of_a_missing_env_file_names_it() {
    let dir = project(&[
        (
            "compose.yaml",
            "include:\n  - path: sub/compose.yaml\n    env_file: nope.env\n",
        ),
        ("sub/compose.yaml", "services: {s: {image: s}}\n"),
    ]);
    let err = load_err(&options(dir.path()));
    assert!(
        err.starts_with(&format!("{}:3:", at(dir.path(), "compose.yaml"))),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "env file {} not found",
            at(dir.path(), "nope.env")
        )),
        "{err}"
    );
}

#[test]
fn include_must_be_a_list() {
    let dir = project(&[("compose.yaml", "include:\n  path: x.yaml\n")]);
    let err = load_err(&options(dir.path()));
    assert!(
        err.starts_with(&format!("{}:2:", at(dir.path(), "compose.yaml"))),
        "{err}"
    );
    assert!(err.contains("`include` must be a list"), "{err}");
}

// ---- merging documents, paths --------------------------------------------

#[test]
fn documents_of_one_file_merge_in_order() {
    let dir = project(&[(
        "compose.yaml",
        "services:\n  web: {image: a, ports: ['80:80']}\n---\nservices:\n  web:\n    image: b\n    ports: !reset []\n",
    )]);
    let web = service(&load_dir(dir.path()), "web");
    assert_eq!(web, json!({"image": "b", "networks": {"default": null}}));
}

#[test]
fn obsolete_version_is_dropped_with_a_warning_naming_the_line() {
    let dir = project(&[(
        "compose.yaml",
        "services:\n  web: {image: a}\nversion: '3.8'\n",
    )]);
    let loaded = load_dir(dir.path());
    assert!(loaded.document.get("version").is_none());
    let w = loaded
        .warnings
        .iter()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        w.starts_with(&format!("{}:3:", at(dir.path(), "compose.yaml"))),
        "{w}"
    );
    assert!(w.contains("`version` is obsolete"), "{w}");
}

#[test]
fn home_comes_from_the_loader_environment() {
    let dir = project(&[("compose.yaml", "services:\n  web:\n    image: a\n    volumes: ['~/src:/src']\nsecrets:\n  s: {file: ./s.txt}\n")]);
    let loaded = load_dir(dir.path());
    assert_eq!(
        service(&loaded, "web")["volumes"][0]["source"],
        "/home/tester/src"
    );
    assert_eq!(
        loaded.document.get("secrets").unwrap().to_json()["s"]["file"],
        at(dir.path(), "s.txt")
    );
}

#[test]
fn merge_conflict_points_at_both_files() {
    let dir = project(&[(
        "compose.yaml",
        "services:\n  web:\n    image: a\n    ports: ['80:80']\n---\nservices:\n  web:\n    ports:\n      http: 80\n",
    )]);
    let err = load_err(&options(dir.path()));
    let file = at(dir.path(), "compose.yaml");
    assert!(err.starts_with(&format!("{file}:9:")), "{err}");
    assert!(
        err.contains(&format!(
            "services.web.ports: cannot merge a mapping into a list defined at {file}:4:"
        )),
        "{err}"
    );
}

// ---- profiles ------------------------------------------------------------

const PROFILES: &str = "services:
  foo: {image: foo}
  bar: {image: bar, profiles: [test]}
  zot:
    image: zot
    depends_on: [bar]
    profiles: [debug]
";

#[test]
fn profiles_from_flags_and_compose_profiles() {
    let dir = project(&[("compose.yaml", PROFILES)]);
    let loaded = load_dir(dir.path());
    assert_eq!(service_names(&loaded), ["foo"]);
    assert_eq!(
        loaded.disabled_services.keys().collect::<Vec<_>>(),
        ["bar", "zot"]
    );
    assert_eq!(loaded.project.services.keys().collect::<Vec<_>>(), ["foo"]);

    let mut opts = options(dir.path());
    opts.os_env.insert("COMPOSE_PROFILES".into(), "test".into());
    let loaded = load(&opts).unwrap();
    assert_eq!(service_names(&loaded), ["foo", "bar"]);
    assert_eq!(loaded.profiles, ["test"]);

    opts.profiles = vec!["test".into(), "debug".into()];
    assert_eq!(service_names(&load(&opts).unwrap()), ["foo", "bar", "zot"]);
}

#[test]
fn dependency_on_an_inactive_service_is_an_error_naming_the_profile() {
    let dir = project(&[("compose.yaml", PROFILES)]);
    let mut opts = options(dir.path());
    opts.profiles = vec!["debug".into()];
    let err = load_err(&opts);
    assert!(
        err.starts_with(&format!("{}:6:", at(dir.path(), "compose.yaml"))),
        "{err}"
    );
    assert!(err.contains("service \"zot\" depends on service \"bar\", which is not active: enable its profile with --profile test"), "{err}");
}

#[test]
fn selected_services_enable_their_profiles() {
    let dir = project(&[("compose.yaml", PROFILES)]);
    let mut opts = options(dir.path());
    opts.profiles = vec!["test".into()];
    opts.selected_services = vec!["zot".into()];
    let loaded = load(&opts).unwrap();
    assert_eq!(service_names(&loaded), ["bar", "zot"]);
    assert_eq!(loaded.profiles, ["test", "debug"]);
}

#[test]
fn loading_errors_are_typed() {
    let dir = project(&[("compose.yaml", "services:\n  a:\n    extends: b\n")]);
    let err = load(&options(dir.path())).expect_err("extends of an undefined service fails");
    assert!(matches!(err, LoadError::Extends(_)));
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{}:3:", at(dir.path(), "compose.yaml"))),
        "{text}"
    );
}

#[test]
fn a_service_may_extend_an_included_one() {
    let dir = project(&[
        (
            "compose.yaml",
            "include: [lib/compose.yaml]\nservices:\n  web:\n    extends: base\n    image: web\n",
        ),
        (
            "lib/compose.yaml",
            "services:\n  base:\n    image: base\n    build: ./app\n    labels: [from=lib]\n",
        ),
    ]);
    let web = service(&load_dir(dir.path()), "web");
    assert_eq!(web["image"], "web");
    assert_eq!(web["build"]["context"], at(dir.path(), "lib/app"));
    assert_eq!(web["labels"], json!({"from": "lib"}));
}

#[test]
fn selecting_an_unknown_service_lists_the_known_ones() {
    let dir = project(&[("compose.yaml", PROFILES)]);
    let mut opts = options(dir.path());
    opts.selected_services = vec!["nope".into()];
    assert_eq!(
        load_err(&opts),
        "no such service: nope (the project defines: foo, bar, zot)"
    );
}

#[test]
fn later_file_reset_reaches_through_extends() {
    let dir = project(&[(
        "compose.yaml",
        "services:\n  web: {image: a, command: [run], ports: ['80:80']}\n---\nservices:\n  base: {image: b}\n  web:\n    extends: base\n    command: !reset null\n    ports: !override ['81:81']\n",
    )]);
    let web = service(&load_dir(dir.path()), "web");
    assert_eq!(web["image"], "b");
    assert!(web.get("command").is_none(), "{web}");
    assert_eq!(web["ports"].as_array().map(Vec::len), Some(1));
    assert_eq!(web["ports"][0]["published"], "81");
}
