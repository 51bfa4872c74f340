//! `build` (compose-go `loader/tests/build_test.go`, `build_extra_test.go`).

use super::support::{assert_has, service, Project};
use serde_json::json;

fn build(body: &str) -> (serde_json::Value, String) {
    let p = Project::new(&format!(
        "name: test\nservices:\n  foo:\n    build:\n{body}\nsecrets:\n  secret1:\n    file: ./secret_data\n  secret2:\n    external: true\n"
    ));
    let c = p.config();
    (c["services"]["foo"]["build"].clone(), p.dir_str())
}

#[test]
fn build_mapping_attributes_are_read() {
    let (b, dir) = build(concat!(
        "      context: ./dir\n      dockerfile: Dockerfile\n      args: {foo: bar}\n",
        "      target: foo\n      network: foo\n      cache_from: [foo, bar]\n      labels: [FOO=BAR]\n",
        "      additional_contexts: {foo: ./bar}\n",
        "      tags: ['foo:v1.0.0', 'docker.io/username/foo:my-other-tag']\n",
        "      platforms: [linux/amd64, linux/arm64]",
    ));
    assert_has(
        &b,
        &json!({
            "context": format!("{dir}/dir"), "dockerfile": "Dockerfile", "args": {"foo": "bar"},
            "target": "foo", "network": "foo", "cache_from": ["foo", "bar"], "labels": {"FOO": "BAR"},
            "additional_contexts": {"foo": format!("{dir}/bar")},
            "tags": ["foo:v1.0.0", "docker.io/username/foo:my-other-tag"],
            "platforms": ["linux/amd64", "linux/arm64"],
        }),
    );
}

#[test]
fn build_flags_cache_and_attestations() {
    let (b, _) = build(concat!(
        "      context: .\n      cache_to: ['user/app:cache', 'type=local,dest=path/to/cache']\n",
        "      no_cache: true\n      pull: true\n      shm_size: 128m\n      isolation: process\n",
        "      privileged: true\n      entitlements: [network.host, security.insecure]\n",
        "      provenance: mode=max\n      sbom: true\n      no_cache_filter: foo",
    ));
    assert_has(
        &b,
        &json!({
            "cache_to": ["user/app:cache", "type=local,dest=path/to/cache"],
            "no_cache": true, "pull": true, "shm_size": "134217728", "isolation": "process",
            "privileged": true, "entitlements": ["network.host", "security.insecure"],
            "provenance": "mode=max", "sbom": "true", "no_cache_filter": ["foo"],
        }),
    );
    let (b, _) = build("      context: .\n      no_cache_filter: [foo, bar]");
    assert_eq!(b["no_cache_filter"], json!(["foo", "bar"]));
}

#[test]
fn dockerfile_inline_keeps_its_text() {
    let s = service(
        "name: test\nservices:\n  bar:\n    build:\n      dockerfile_inline: |\n        FROM alpine\n        RUN echo \"hello\" > /world.txt\n",
        "bar",
    );
    assert_eq!(
        s["build"]["dockerfile_inline"],
        json!("FROM alpine\nRUN echo \"hello\" > /world.txt\n")
    );
}

#[test]
fn build_ssh_default_has_no_path() {
    let (b, _) = build("      context: .\n      ssh: [default]");
    assert_eq!(b["ssh"], json!(["default"]));
}

#[test]
fn build_secrets_long_form() {
    let (b, _) = build(concat!(
        "      context: .\n      secrets:\n        - {source: secret1, target: /run/secrets/secret1}\n",
        "        - {source: secret2, target: my_secret, uid: '103', gid: '103', mode: 0440}",
    ));
    assert_eq!(
        b["secrets"],
        json!([
            {"source": "secret1", "target": "/run/secrets/secret1"},
            {"source": "secret2", "target": "my_secret", "uid": "103", "gid": "103", "mode": "0440"},
        ])
    );
}

#[test]
fn build_string_is_the_context() {
    let p = Project::new("name: test\nservices:\n  foo:\n    build: ./app\n");
    let c = p.config();
    assert_eq!(
        c["services"]["foo"]["build"],
        json!({"context": format!("{}/app", p.dir_str()), "dockerfile": "Dockerfile"})
    );
}
