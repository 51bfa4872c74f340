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

/// compose-go `paths_test.go`: which additional contexts are paths.
#[test]
fn additional_contexts_resolve_only_local_paths() {
    let p = Project::new(concat!(
        "name: t\nservices:\n  test:\n    build:\n      context: .\n      dockerfile: Dockerfile-sample\n      additional_contexts:\n",
        "        image: docker-image://foo\n        oci: oci-layout://foo\n        abs_path: /dir\n",
        "        github: github.com/compose-spec/compose-go\n        rel_path: ./testdata\n",
    ));
    let c = p.config();
    let dir = p.dir_str();
    assert_eq!(
        c["services"]["test"]["build"],
        json!({
            "context": dir, "dockerfile": "Dockerfile-sample",
            "additional_contexts": {
                "image": "docker-image://foo", "oci": "oci-layout://foo", "abs_path": "/dir",
                "github": "github.com/compose-spec/compose-go", "rel_path": format!("{dir}/testdata"),
            },
        })
    );
}

/// compose-go `omitEmpty_test.go`: an empty `cache_to` stays a list.
#[test]
fn an_empty_cache_to_is_kept_as_a_list() {
    let loaded = Project::new(
        "name: t\nservices:\n  foo:\n    build:\n      context: .\n      cache_to: []\n",
    )
    .load();
    let cache_to = loaded
        .document
        .get("services")
        .and_then(|s| s.get("foo"))
        .and_then(|f| f.get("build"))
        .and_then(|b| b.get("cache_to"))
        .map(|c| c.to_json());
    assert_eq!(cache_to, Some(json!([])));
}
