//! Service features beyond plain attributes (compose-go
//! `loader/tests/depends_on_test.go`, `develop_test.go`, `models_test.go`,
//! `provider_test.go`, `service_hooks_test.go`, `profiles_test.go`,
//! `extensions_test.go`), and strings that must survive printing.

use super::support::{assert_absent, assert_has, config, service, Project};
use serde_json::json;

#[test]
fn models_list_and_mapping_forms() {
    // `config --format json` leaves `models` out (compose-go MarshalJSON).
    let c = Project::new(concat!(
        "name: test\nservices:\n  test_array:\n    image: alpine\n    models: [foo]\n",
        "  test_mapping:\n    image: alpine\n    models:\n      foo: {endpoint_var: MODEL_URL, model_var: MODEL}\n",
        "models:\n  foo:\n    model: ai/model\n    context_size: 1024\n    runtime_flags: ['--some-flag']\n",
    ))
    .json_lossy()
    .config();
    assert_eq!(
        c["models"]["foo"],
        json!({"model": "ai/model", "context_size": 1024, "runtime_flags": ["--some-flag"]})
    );
    assert_eq!(c["services"]["test_array"]["models"], json!({"foo": null}));
    assert_eq!(
        c["services"]["test_mapping"]["models"]["foo"],
        json!({"endpoint_var": "MODEL_URL", "model_var": "MODEL"})
    );
}

#[test]
fn provider_options_become_lists_of_strings() {
    let s = service(
        "name: test\nservices:\n  test:\n    provider:\n      type: foo\n      options:\n        bar: zot\n        strings: [foo, bar]\n        numbers: [12, 34]\n        booleans: [true, false]\n",
        "test",
    );
    assert_eq!(
        s["provider"],
        json!({"type": "foo", "options": {
            "bar": ["zot"], "strings": ["foo", "bar"], "numbers": ["12", "34"], "booleans": ["true", "false"],
        }})
    );
}

#[test]
fn service_hooks_are_typed_and_pre_start_inherits_the_image() {
    let s = service(
        concat!(
            "name: test\nservices:\n  test:\n    image: alpine\n    pre_start:\n",
            "      - command: ['./manage.py', migrate]\n        user: root\n        working_dir: /app\n        environment: [FOO=BAR]\n",
            "      - image: busybox\n        command: sh -c 'chown -R 1000:1000 /data'\n        privileged: true\n        per_replica: true\n",
            "      - image: 'migrator:latest'\n",
            "    post_start:\n      - command: echo start\n        user: root\n        privileged: true\n        working_dir: /\n        environment: [FOO=BAR]\n",
            "    pre_stop:\n      - command: echo stop\n        environment: {FOO: BAR}\n",
        ),
        "test",
    );
    assert_has(
        &s["pre_start"],
        &json!([
            {"command": ["./manage.py", "migrate"], "user": "root", "working_dir": "/app", "environment": {"FOO": "BAR"}},
            {"image": "busybox", "command": ["sh", "-c", "chown -R 1000:1000 /data"], "privileged": true, "per_replica": true},
            {"image": "migrator:latest"},
        ]),
    );
    assert_eq!(
        s["pre_start"][0]["image"],
        json!("alpine"),
        "pre_start inherits the image"
    );
    assert_has(
        &s["post_start"],
        &json!([{"command": ["echo", "start"], "user": "root", "privileged": true, "working_dir": "/", "environment": {"FOO": "BAR"}}]),
    );
    assert_has(
        &s["pre_stop"],
        &json!([{"command": ["echo", "stop"], "environment": {"FOO": "BAR"}}]),
    );
}

#[test]
fn depends_on_list_is_started_and_required() {
    let c = config(
        "name: test\nservices:\n  web:\n    image: alpine\n    depends_on: [db, redis]\n  db: {image: postgres}\n  redis: {image: redis}\n",
    );
    assert_eq!(
        c["services"]["web"]["depends_on"],
        json!({
            "db": {"condition": "service_started", "required": true},
            "redis": {"condition": "service_started", "required": true},
        })
    );
}

#[test]
fn depends_on_mapping_keeps_condition_and_restart() {
    let c = config(
        "name: test\nservices:\n  web:\n    image: alpine\n    depends_on:\n      db: {condition: service_healthy, restart: true}\n      redis: {condition: service_started}\n  db: {image: postgres}\n  redis: {image: redis}\n",
    );
    assert_eq!(
        c["services"]["web"]["depends_on"],
        json!({
            "db": {"condition": "service_healthy", "restart": true, "required": true},
            "redis": {"condition": "service_started", "required": true},
        })
    );
}

#[test]
fn a_service_may_be_named_like_an_extension() {
    let c = config("name: test\nservices:\n  test:\n    image: test\n    depends_on: [x-foo]\n  x-foo:\n    image: foo\n");
    assert_eq!(
        c["services"]["test"]["depends_on"],
        json!({"x-foo": {"condition": "service_started", "required": true}})
    );
    assert_eq!(c["services"]["x-foo"]["image"], json!("foo"));
}

#[test]
fn profiles_disable_services_unless_enabled() {
    let yaml = "name: test\nservices:\n  foo:\n    image: alpine\n    profiles: [debug, dev]\n  bar:\n    image: alpine\n";
    let c = config(yaml);
    assert_absent(&c["services"], "foo");
    assert_eq!(c["services"]["bar"]["image"], json!("alpine"));
    let c = Project::new(yaml).profiles(&["debug"]).config();
    assert_eq!(c["services"]["foo"]["profiles"], json!(["debug", "dev"]));
}

#[test]
fn develop_watch_rules() {
    let s = service(
        concat!(
            "name: test\nservices:\n  web:\n    image: app\n    build: ./app\n    develop:\n      watch:\n",
            "        - {path: ./src, action: sync, target: /app/src, ignore: [node_modules/], initial_sync: true}\n",
            "        - {path: ./requirements.txt, action: rebuild}\n",
            "        - {path: ./config.yml, action: sync+restart, target: /app/config.yml}\n",
        ),
        "web",
    );
    let w = &s["develop"]["watch"];
    assert_eq!(w.as_array().map(Vec::len), Some(3));
    assert_has(
        &w[0],
        &json!({"action": "sync", "target": "/app/src", "ignore": ["node_modules/"], "initial_sync": true}),
    );
    assert!(w[0]["path"].as_str().unwrap().ends_with("/src"));
    assert_eq!(w[1]["action"], json!("rebuild"));
    assert_eq!(w[2]["action"], json!("sync+restart"));
}

#[test]
fn develop_watch_without_action_is_rejected() {
    let err = super::support::error(
        "name: test\nservices:\n  web:\n    image: app\n    develop:\n      watch:\n        - path: ./src\n          target: /app/src\n",
    );
    assert!(
        err.contains("services.web.develop.watch[0]") && err.contains("action"),
        "{err}"
    );
}

/// The printed YAML reads back as the same strings, however awkward
/// (compose-go's round trip, on the scalar styles of yaml.v3).
#[test]
fn awkward_strings_survive_printing() {
    let values = [
        "",
        " ",
        "  a",
        "a ",
        "a \n",
        "\t",
        "a\tb",
        "a\n b",
        " \n",
        "\n\n",
        "\n",
        "\na",
        "#x",
        "x #y",
        "- a",
        "? a",
        ": a",
        "a: b",
        "a:b",
        "'",
        "\"",
        "\\",
        "é",
        "\u{85}",
        "\u{7f}",
        "a\u{1}b",
        "\u{2028}",
        "\u{feff}x",
        "null",
        "~",
        "true",
        "yes",
        "Off",
        "1e3",
        "0x1F",
        "0o17",
        "017",
        "1_000",
        ".5",
        "+1",
        "-",
        "---",
        "...",
        "%a",
        "@a",
        "`a",
        "a\r\nb",
        "\r",
        "[a]",
        "{a}",
        "*a",
        "&a",
        "!a",
        "|",
        ">",
        "a\n\n\nb\n\n",
        "  leading\nlines",
        "trailing  \nspaces",
        "12:30",
        "1:2:3",
    ];
    let labels: serde_json::Map<String, serde_json::Value> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("l{i}"), json!(v)))
        .collect();
    let doc = json!({"name": "t", "services": {"s": {"image": "x", "labels": labels}}});
    let first = Project::new(&serde_json::to_string_pretty(&doc).unwrap()).load();
    // Read back with our own loader: a YAML library of another family may
    // read some breaks (NEL, LS) differently.
    let printed = first.project.to_yaml().unwrap();
    let again = Project::new(&printed.replace('$', "$$")).load();
    for (i, v) in values.iter().enumerate() {
        let key = format!("l{i}");
        assert_eq!(
            first.project.services["s"].labels[&key], *v,
            "{v:?} as loaded"
        );
        assert_eq!(
            again.project.services["s"].labels[&key], *v,
            "{v:?} printed as\n{printed}"
        );
    }
}

/// compose-go TestLoadExtensions: `x-` keys are kept wherever they are
/// allowed.
#[test]
fn extensions_are_kept_in_nested_attributes() {
    let c = Project::new(concat!(
        "name: load-extensions\nx-project: project\n",
        "configs:\n  x-config-name:\n    external: true\n    x-config-ext: config\n",
        "services:\n  another:\n    image: busybox\n    depends_on:\n      foo:\n        condition: service_started\n        x-depends-on: depends\n",
        "  foo:\n    image: busybox\n    x-foo: bar\n    healthcheck:\n      x-healthcheck: health\n    develop:\n      x-dev: dev\n",
    ))
    .config();
    assert_eq!(c["x-project"], json!("project"));
    assert_eq!(
        c["configs"]["x-config-name"]["x-config-ext"],
        json!("config")
    );
    assert_eq!(c["services"]["foo"]["x-foo"], json!("bar"));
    assert_eq!(
        c["services"]["foo"]["healthcheck"]["x-healthcheck"],
        json!("health")
    );
    assert_eq!(c["services"]["foo"]["develop"]["x-dev"], json!("dev"));
    assert_eq!(
        c["services"]["another"]["depends_on"]["foo"]["x-depends-on"],
        json!("depends")
    );
}

/// compose-go TestComposeFileWithVersion: `version` is ignored with a
/// warning.
#[test]
fn version_is_obsolete() {
    let loaded = Project::new("version: '2'\nname: v\nservices:\n  other:\n    image: busybox\n    command: top\n    volumes: [/data]\n").load();
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.message.contains("`version` is obsolete")),
        "{:?}",
        loaded.warnings
    );
    assert_eq!(loaded.project.services["other"].image, "busybox");
}

/// The short forms compose-go's transformers expand, together.
#[test]
fn short_forms_expand() {
    let p = Project::files(&[
        (
            "compose.yaml",
            concat!(
                "name: t\nservices:\n  base:\n    image: b\n  s:\n    extends: base\n    env_file: .env\n    label_file: ./x\n",
                "    build:\n      context: .\n      secrets: [sec]\n      additional_contexts: [a=./ctx, b=docker-image://x]\n",
                "    secrets: [sec]\n    configs: [cfg]\n",
                "    develop:\n      watch:\n        - {path: ., action: sync, target: /app, ignore: node_modules, include: '*.js'}\n",
                "    expose: [80, '90-91']\n    ports: ['127.0.0.1::80', '8080-8081:80/udp']\n",
                "secrets:\n  sec: {file: ./x}\nconfigs:\n  cfg: {file: ./x}\n",
            ),
        ),
        (".env", "E=1\n"),
        ("x", "L=2\n"),
    ]);
    let dir = p.dir_str();
    let c = p.config();
    let s = &c["services"]["s"];
    assert_eq!(s["image"], json!("b"));
    assert_eq!(s["environment"], json!({"E": "1"}));
    assert_eq!(s["labels"], json!({"L": "2"}));
    assert_has(
        &s["build"],
        &json!({
            "additional_contexts": {"a": format!("{dir}/ctx"), "b": "docker-image://x"},
            "secrets": [{"source": "sec"}],
        }),
    );
    assert_eq!(
        s["secrets"],
        json!([{"source": "sec", "target": "/run/secrets/sec"}])
    );
    assert_eq!(s["configs"], json!([{"source": "cfg"}]));
    assert_has(
        &s["develop"]["watch"][0],
        &json!({"path": dir, "ignore": ["node_modules"], "include": ["*.js"]}),
    );
    assert_eq!(s["expose"], json!(["80", "90-91"]));
    assert_eq!(
        s["ports"],
        json!([
            {"mode": "ingress", "host_ip": "127.0.0.1", "target": 80, "protocol": "tcp"},
            {"mode": "ingress", "target": 80, "published": "8080-8081", "protocol": "udp"},
        ])
    );
}
