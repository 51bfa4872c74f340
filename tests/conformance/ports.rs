//! `ports` (compose-go `loader/tests/ports_test.go`, and the port cases of
//! `loader_test.go`).

use super::support::{error, service};
use serde_json::json;

fn ports(list: &str) -> serde_json::Value {
    let s = service(
        &format!("name: test\nservices:\n  foo:\n    image: alpine\n    ports:\n{list}"),
        "foo",
    );
    s["ports"].clone()
}

#[test]
fn short_syntax_host_container_protocol_and_bare_target() {
    assert_eq!(
        ports("      - '80:8080'\n      - '90:8090/udp'\n      - 8600\n"),
        json!([
            {"mode": "ingress", "target": 8080, "published": "80", "protocol": "tcp"},
            {"mode": "ingress", "target": 8090, "published": "90", "protocol": "udp"},
            {"mode": "ingress", "target": 8600, "protocol": "tcp"},
        ])
    );
}

#[test]
fn long_syntax_published_number_becomes_a_string() {
    assert_eq!(
        ports("      - {target: 80, published: 8080, protocol: tcp, mode: host}\n"),
        json!([{"mode": "host", "target": 80, "published": "8080", "protocol": "tcp"}])
    );
}

#[test]
fn ranges_expand_to_one_port_each() {
    assert_eq!(
        ports("      - '80-82:8080-8082'\n"),
        json!([
            {"mode": "ingress", "target": 8080, "published": "80", "protocol": "tcp"},
            {"mode": "ingress", "target": 8081, "published": "81", "protocol": "tcp"},
            {"mode": "ingress", "target": 8082, "published": "82", "protocol": "tcp"},
        ])
    );
}

#[test]
fn a_published_range_for_one_target_stays_a_range() {
    assert_eq!(
        ports("      - '9090-9091:8080'\n"),
        json!([{"mode": "ingress", "target": 8080, "published": "9090-9091", "protocol": "tcp"}])
    );
}

#[test]
fn host_ip_is_kept() {
    assert_eq!(
        ports("      - '127.0.0.1:8080:80'\n      - '[::1]:8081:81'\n"),
        json!([
            {"mode": "ingress", "host_ip": "127.0.0.1", "target": 80, "published": "8080", "protocol": "tcp"},
            {"mode": "ingress", "host_ip": "::1", "target": 81, "published": "8081", "protocol": "tcp"},
        ])
    );
}

#[test]
fn name_and_app_protocol_are_kept() {
    assert_eq!(
        ports("      - {name: http, published: 8080, target: 80, protocol: tcp, app_protocol: http}\n"),
        json!([{"name": "http", "mode": "ingress", "target": 80, "published": "8080", "protocol": "tcp", "app_protocol": "http"}])
    );
}

#[test]
fn an_unparsable_port_names_the_entry() {
    let err =
        error("name: test\nservices:\n  foo:\n    image: alpine\n    ports: ['8080:80:abc']\n");
    assert!(err.contains("services.foo.ports[0]"), "{err}");
}

/// compose-go `transform/ports_test.go`.
#[test]
fn an_invalid_host_ip_is_refused_unless_not_interpolated() {
    let err =
        error("name: test\nservices:\n  foo:\n    image: alpine\n    ports: ['127.0.1:8080:80']\n");
    assert!(
        err.contains("127.0.1") && err.contains("services.foo.ports[0]"),
        "{err}"
    );
    let mut p = super::support::Project::new(
        "name: test\nservices:\n  foo:\n    image: alpine\n    ports: ['${HOST_IP}:${HOST_PORT}:80']\n",
    );
    p.opts.interpolate = false;
    let model = compose::loader::load_model(&p.opts).unwrap_or_else(|e| panic!("{e}"));
    let ports = model
        .document
        .get("services")
        .and_then(|s| s.get("foo"))
        .and_then(|f| f.get("ports"))
        .unwrap()
        .to_json();
    assert_eq!(ports, json!(["${HOST_IP}:${HOST_PORT}:80"]));
}

#[test]
fn long_syntax_gets_mode_and_protocol() {
    assert_eq!(
        ports("      - {target: 80, published: 8080}\n"),
        json!([{"mode": "ingress", "target": 80, "published": "8080", "protocol": "tcp"}])
    );
}
