//! Top-level and service `secrets` and `configs` (compose-go
//! `loader/tests/secrets_test.go`, `configs_test.go`,
//! `template_driver_test.go`).

use super::support::{config, service, Project};
use serde_json::json;

#[test]
fn service_configs_short_and_long() {
    let s = service(
        concat!(
            "name: test\nservices:\n  foo:\n    image: alpine\n    configs:\n      - config1\n",
            "      - {source: config2, target: /my_config, uid: '103', gid: '103', mode: 0440}\n",
            "configs:\n  config1:\n    file: ./config_data\n  config2:\n    external: true\n",
        ),
        "foo",
    );
    assert_eq!(
        s["configs"],
        json!([
            {"source": "config1"},
            {"source": "config2", "target": "/my_config", "uid": "103", "gid": "103", "mode": "0440"},
        ])
    );
}

#[test]
fn service_secrets_long_form_and_mode_spellings() {
    let s = service(
        concat!(
            "name: test\nservices:\n  foo:\n    image: alpine\n    secrets:\n",
            "      - {source: secret1, target: /run/secrets/secret1}\n",
            "      - {source: secret2, target: my_secret, uid: '103', gid: '103', mode: 0440}\n",
            "      - {source: secret1, target: a.cert, mode: 0o440}\n",
            "      - {source: secret1, target: b.cert, mode: '0440'}\n",
            "secrets:\n  secret1:\n    file: ./secret_data\n  secret2:\n    external: true\n",
        ),
        "foo",
    );
    assert_eq!(
        s["secrets"],
        json!([
            {"source": "secret1", "target": "/run/secrets/secret1"},
            {"source": "secret2", "target": "my_secret", "uid": "103", "gid": "103", "mode": "0440"},
            {"source": "secret1", "target": "a.cert", "mode": "0440"},
            {"source": "secret1", "target": "b.cert", "mode": "0440"},
        ])
    );
}

#[test]
fn top_level_configs() {
    let p = Project::new(concat!(
        "name: test\nservices:\n  foo:\n    image: alpine\nconfigs:\n",
        "  config1:\n    file: ./config_data\n    labels: {foo: bar}\n",
        "  config2:\n    external:\n      name: my_config\n",
        "  config3:\n    external: true\n",
        "  config4:\n    name: foo\n    file: ./config_data\n    x-bar: baz\n    x-foo: bar\n",
    ));
    let c = p.config();
    let dir = p.dir_str();
    assert_eq!(
        c["configs"],
        json!({
            "config1": {"name": "test_config1", "file": format!("{dir}/config_data"), "labels": {"foo": "bar"}},
            "config2": {"name": "my_config", "external": true},
            "config3": {"name": "config3", "external": true},
            "config4": {"name": "foo", "file": format!("{dir}/config_data"), "x-bar": "baz", "x-foo": "bar"},
        })
    );
}

#[test]
fn top_level_secrets_with_environment_content() {
    let p = Project::new(concat!(
        "name: test\nservices:\n  foo:\n    image: alpine\nsecrets:\n",
        "  secret1:\n    file: ./secret_data\n    labels: {foo: bar}\n",
        "  secret2:\n    external:\n      name: my_secret\n",
        "  secret3:\n    external: true\n",
        "  secret4:\n    name: bar\n    environment: BAR\n    x-bar: baz\n    x-foo: bar\n",
        "  secret5:\n    file: /abs/secret_data\n",
    ))
    .env("BAR", "this is a secret");
    let loaded = p.load();
    assert_eq!(
        loaded.project.secrets["secret4"].content,
        "this is a secret"
    );
    let c = p.config();
    assert_eq!(
        c["secrets"],
        json!({
            "secret1": {"name": "test_secret1", "file": format!("{}/secret_data", p.dir_str()), "labels": {"foo": "bar"}},
            "secret2": {"name": "my_secret", "external": true},
            "secret3": {"name": "secret3", "external": true},
            "secret4": {"name": "bar", "environment": "BAR", "x-bar": "baz", "x-foo": "bar"},
            "secret5": {"name": "test_secret5", "file": "/abs/secret_data"},
        })
    );
}

#[test]
fn config_and_secret_content_from_environment() {
    let p = Project::new("name: test\nservices:\n  foo:\n    image: alpine\nconfigs:\n  config:\n    environment: GA\nsecrets:\n  secret:\n    environment: MEU\n")
        .env("GA", "BU")
        .env("MEU", "Shadoks");
    let loaded = p.load();
    assert_eq!(loaded.project.configs["config"].environment, "GA");
    assert_eq!(loaded.project.configs["config"].content, "BU");
    assert_eq!(loaded.project.secrets["secret"].content, "Shadoks");
}

#[test]
fn template_driver_driver_and_inline_content() {
    let c = config(concat!(
        "name: test\nservices:\n  foo:\n    image: alpine\n",
        "configs:\n  config:\n    name: config\n    external: true\n    template_driver: config-driver\n",
        "  my_config:\n    content: |\n      some config content here\n",
        "secrets:\n  secret:\n    name: secret\n    external: true\n    template_driver: secret-driver\n",
        "  bucket:\n    name: bucket\n    driver: secret-bucket\n    driver_opts:\n      OptionA: value for driver option A\n",
    ));
    assert_eq!(
        c["configs"]["config"]["template_driver"],
        json!("config-driver")
    );
    assert_eq!(
        c["configs"]["my_config"]["content"],
        json!("some config content here\n")
    );
    assert_eq!(
        c["secrets"]["secret"]["template_driver"],
        json!("secret-driver")
    );
    assert_eq!(
        c["secrets"]["bucket"],
        json!({"name": "bucket", "driver": "secret-bucket", "driver_opts": {"OptionA": "value for driver option A"}})
    );
}
