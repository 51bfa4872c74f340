//! `deploy` (compose-go `loader/tests/deploy_test.go`, `deploy_pids_test.go`,
//! `devices_test.go`).

use super::support::{assert_has, service};
use serde_json::json;

fn deploy(body: &str) -> serde_json::Value {
    let s = service(
        &format!("name: test\nservices:\n  foo:\n    image: alpine\n    deploy:\n{body}"),
        "foo",
    );
    s["deploy"].clone()
}

#[test]
fn deploy_mode_replicas_labels_endpoint_mode() {
    let d = deploy("      mode: replicated\n      replicas: 6\n      labels: [FOO=BAR]\n      endpoint_mode: dnsrr\n");
    assert_has(
        &d,
        &json!({"mode": "replicated", "replicas": 6, "labels": {"FOO": "BAR"}, "endpoint_mode": "dnsrr"}),
    );
}

#[test]
fn deploy_update_and_rollback_config() {
    let cfg = "        parallelism: 3\n        delay: 10s\n        failure_action: continue\n        monitor: 60s\n        max_failure_ratio: 0.3\n        order: start-first\n";
    let d = deploy(&format!(
        "      update_config:\n{cfg}      rollback_config:\n{cfg}"
    ));
    let expected = json!({
        "parallelism": 3, "delay": "10s", "failure_action": "continue",
        "monitor": "1m0s", "max_failure_ratio": 0.3, "order": "start-first",
    });
    assert_eq!(d["update_config"], expected);
    assert_eq!(d["rollback_config"], expected);
}

#[test]
fn deploy_resources_limits_and_reservations() {
    let d = deploy(concat!(
        "      resources:\n        limits:\n          cpus: '0.001'\n          memory: 50M\n          pids: 100\n",
        "        reservations:\n          cpus: '0.0001'\n          memory: 20M\n          generic_resources:\n",
        "            - discrete_resource_spec: {kind: gpu, value: 2}\n",
        "            - discrete_resource_spec: {kind: ssd, value: 1}\n",
    ));
    assert_eq!(
        d["resources"],
        json!({
            "limits": {"cpus": 0.001, "memory": "52428800", "pids": 100},
            "reservations": {
                "cpus": 0.0001, "memory": "20971520",
                "generic_resources": [
                    {"discrete_resource_spec": {"kind": "gpu", "value": 2}},
                    {"discrete_resource_spec": {"kind": "ssd", "value": 1}},
                ],
            },
        })
    );
}

#[test]
fn deploy_restart_policy() {
    let d = deploy("      restart_policy:\n        condition: on-failure\n        delay: 5s\n        max_attempts: 3\n        window: 120s\n");
    assert_eq!(
        d["restart_policy"],
        json!({"condition": "on-failure", "delay": "5s", "max_attempts": 3, "window": "2m0s"})
    );
}

#[test]
fn deploy_placement() {
    let d = deploy("      placement:\n        constraints: [node=foo]\n        max_replicas_per_node: 5\n        preferences:\n          - spread: node.labels.az\n");
    assert_eq!(
        d["placement"],
        json!({"constraints": ["node=foo"], "preferences": [{"spread": "node.labels.az"}], "max_replicas_per_node": 5})
    );
}

#[test]
fn device_reservation_count_all_and_string_options() {
    let d = deploy(concat!(
        "      resources:\n        reservations:\n          devices:\n",
        "            - driver: nvidia\n              capabilities: [gpu]\n              count: all\n              options:\n                q_bits: 42\n",
    ));
    assert_eq!(
        d["resources"]["reservations"]["devices"],
        json!([{"capabilities": ["gpu"], "driver": "nvidia", "count": -1, "options": {"q_bits": "42"}}])
    );
}

/// Device request `options` is a compose-go `Mapping`: a `k=v` list reads
/// as a mapping, in `deploy` and in `gpus`.
#[test]
fn device_request_options_may_be_a_list() {
    let d = deploy("      resources:\n        reservations:\n          devices:\n            - capabilities: [gpu]\n              options: [k=v, flag]\n");
    assert_eq!(
        d["resources"]["reservations"]["devices"][0]["options"],
        json!({"k": "v", "flag": ""})
    );
    let s = service(
        "name: t\nservices:\n  foo:\n    image: x\n    gpus:\n      - driver: nvidia\n        options: [k=v]\n",
        "foo",
    );
    assert_eq!(s["gpus"][0]["options"], json!({"k": "v"}));
}
