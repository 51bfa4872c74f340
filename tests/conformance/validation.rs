//! Consistency checks on a loaded project (compose-go
//! `loader/validate_test.go`, `checkConsistency`), end to end.

use super::support::{config, error};
use serde_json::json;

#[track_caller]
fn refused(yaml: &str, parts: &[&str]) {
    let err = error(&format!("name: v\n{yaml}"));
    for part in parts {
        assert!(err.contains(part), "`{part}` missing from:\n{err}");
    }
}

#[test]
fn anonymous_volumes_need_no_declaration_named_ones_do() {
    let c = config("name: v\nservices:\n  s:\n    image: x\n    volumes: [/use/local]\n");
    assert_eq!(
        c["services"]["s"]["volumes"][0]["target"],
        json!("/use/local")
    );
    refused(
        "services:\n  s:\n    image: x\n    volumes: ['myVolume:/use/local']\n",
        &["services.s.volumes[0]", "myVolume"],
    );
}

#[test]
fn a_service_needs_an_image_or_a_build() {
    refused(
        "services:\n  s:\n    command: x\n",
        &["services.s", "image", "build"],
    );
}

#[test]
fn network_mode_service_must_exist_container_need_not() {
    // Normalisation also makes it a dependency; the error still names
    // where the reference was written.
    refused(
        "services:\n  a:\n    image: x\n    network_mode: service:nonexistentservice\n",
        &[
            "compose.yaml:5:19",
            "services.a.network_mode",
            "undefined service `nonexistentservice`",
        ],
    );
    let c = config("name: v\nservices:\n  a:\n    image: x\n    container_name: c1\n  b:\n    image: x\n    network_mode: container:c1\n");
    assert_eq!(c["services"]["b"]["network_mode"], json!("container:c1"));
}

#[test]
fn secrets_need_a_source_and_a_declaration() {
    refused(
        "services:\n  s:\n    image: x\nsecrets:\n  foo: {}\n",
        &["secrets.foo", "file"],
    );
    refused(
        "services:\n  s:\n    image: x\n    secrets: [foo]\n",
        &["services.s.secrets[0]", "undefined secret", "foo"],
    );
    let c = config("name: v\nservices:\n  s:\n    image: x\n    secrets: [foo]\nsecrets:\n  foo:\n    environment: TOKEN\n");
    assert_eq!(
        c["services"]["s"]["secrets"],
        json!([{"source": "foo", "target": "/run/secrets/foo"}])
    );
}

#[test]
fn container_names_are_unique() {
    refused(
        "services:\n  a:\n    image: x\n    container_name: mycontainer\n  b:\n    image: x\n    container_name: mycontainer\n",
        &["mycontainer"],
    );
}

#[test]
fn watch_sync_actions_need_a_target() {
    for action in ["sync", "sync+restart"] {
        refused(
            &format!("services:\n  s:\n    image: x\n    develop:\n      watch:\n        - {{path: /app, action: {action}}}\n"),
            &["services.s.develop.watch[0]", "target"],
        );
    }
    let c = config("name: v\nservices:\n  s:\n    image: x\n    develop:\n      watch:\n        - {path: /app, action: rebuild}\n");
    assert_eq!(
        c["services"]["s"]["develop"]["watch"][0]["action"],
        json!("rebuild")
    );
}

#[test]
fn a_tmpfs_and_a_volume_cannot_share_a_target() {
    refused(
        "services:\n  s:\n    image: x\n    tmpfs: [/foo, '/conflict:size=64m']\n    volumes:\n      - {type: bind, source: ., target: /bar}\n      - {type: bind, source: ., target: /conflict}\n",
        &["services.s.volumes[1]", "/conflict", "tmpfs[1]"],
    );
}

#[test]
fn scale_and_replicas_cannot_be_negative() {
    refused(
        "services:\n  s:\n    image: x\n    scale: -1\n",
        &["services.s.scale"],
    );
    refused(
        "services:\n  s:\n    image: x\n    deploy:\n      replicas: -1\n",
        &["services.s.deploy.replicas"],
    );
}
