//! `!reset` and `!override` (spec 13-merge.md "Reset value", "Replace
//! value") and YAML anchors (compose-go `loader/reset_test.go`,
//! `merge_reset_test.go`).

use super::support::{config, error, Project};
use serde_json::{json, Value};

#[track_caller]
fn two_files(base: &str, over: &str) -> Project {
    let mut p = Project::files(&[("base.yaml", base), ("override.yaml", over)]);
    p.opts.files = vec!["base.yaml".into(), "override.yaml".into()];
    p
}

#[test]
fn reset_removes_a_mapping_entry_and_a_whole_attribute() {
    let c = two_files(
        "name: test\nservices:\n  foo:\n    build:\n      context: .\n      dockerfile: foo.Dockerfile\n    environment:\n      FOO: BAR\n",
        "services:\n  foo:\n    image: foo\n    build: !reset\n    environment:\n      FOO: !reset\n",
    )
    .config();
    let foo = &c["services"]["foo"];
    assert_eq!(foo["image"], json!("foo"));
    assert!(foo.get("build").is_none());
    assert!(foo.get("environment").is_none_or(|e| e == &json!({})));
}

#[test]
fn a_key_twice_in_a_mapping_is_refused_even_with_a_tag() {
    let err = error("name: test\nservices:\n  foo:\n    image: x\n    command: hello\n    command: !reset hello world\n");
    assert!(
        err.contains("compose.yaml:6:5") && err.contains("already defined at line 5"),
        "{err}"
    );
}

#[test]
fn reset_and_override_a_whole_resource() {
    let base = "name: test\nservices:\n  s:\n    image: x\nnetworks:\n  test:\n    name: test\n    external: true\n";
    let c = two_files(base, "networks:\n  test: !reset {}\n").config();
    assert!(c["networks"].get("test").is_none());
    let c = two_files(base, "networks:\n  test: !override {}\n").config();
    assert_eq!(c["networks"]["test"], json!({"name": "test_test"}));
}

fn ports(c: &Value, service: &str) -> usize {
    c["services"][service]
        .get("ports")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

const TWO_SERVICES: &str = "name: test\nservices:\n  svc1:\n    image: alpine\n    ports: ['8080:80']\n  svc2:\n    image: nginx\n    ports: ['9090:90']\n";

#[test]
fn reset_through_a_shared_anchor_applies_everywhere() {
    let c = two_files(
        TWO_SERVICES,
        "x-reset-ports: &reset-ports\n  ports: !reset []\nservices:\n  svc1:\n    <<: *reset-ports\n  svc2:\n    <<: *reset-ports\n",
    )
    .config();
    assert_eq!((ports(&c, "svc1"), ports(&c, "svc2")), (0, 0));
    let c = two_files(
        TWO_SERVICES,
        "x-reset: &reset !reset []\nservices:\n  svc1:\n    ports: *reset\n  svc2:\n    ports: *reset\n",
    )
    .config();
    assert_eq!((ports(&c, "svc1"), ports(&c, "svc2")), (0, 0));
    let c = two_files(
        "name: test\nservices:\n  svc:\n    image: alpine\n    ports: ['8080:80']\n",
        "x-inner: &inner\n  ports: !reset []\nx-outer: &outer\n  <<: *inner\nservices:\n  svc:\n    <<: *outer\n",
    )
    .config();
    assert_eq!(ports(&c, "svc"), 0);
}

#[test]
fn override_through_a_shared_anchor_applies_everywhere() {
    let c = two_files(
        "name: test\nservices:\n  s:\n    image: x\nnetworks:\n  net1:\n    external: true\n    name: external-net-1\n  net2:\n    external: true\n    name: external-net-2\n",
        "x-override: &ov !override {}\nnetworks:\n  net1: *ov\n  net2: *ov\n",
    )
    .config();
    assert_eq!(c["networks"]["net1"], json!({"name": "test_net1"}));
    assert_eq!(c["networks"]["net2"], json!({"name": "test_net2"}));
}

#[test]
fn anchors_and_merge_keys_share_configuration() {
    let c = config(concat!(
        "name: test\nx-common: &common\n  restart: unless-stopped\n",
        "x-list: &alist\n  - image: nginx\n",
        "services:\n  a: &a\n    image: alpine\n  a2: *a\n",
        "  backend:\n    <<: *common\n    image: alpine:latest\n",
        "  s1:\n    <<: *alist\n",
        "  s2:\n    <<: [*common, {image: nginx}]\n",
        "  test.unit: &shared\n    image: alpine\n  test: *shared\n",
    ));
    let s = &c["services"];
    assert_eq!(s["a2"]["image"], json!("alpine"));
    assert_eq!(s["backend"]["restart"], json!("unless-stopped"));
    assert_eq!(s["s1"]["image"], json!("nginx"));
    assert_eq!(s["s2"]["restart"], json!("unless-stopped"));
    assert_eq!(s["test"]["image"], json!("alpine"));
}

#[test]
fn nested_merge_keys_of_anchors_resolve() {
    let c = config(concat!(
        "name: test\nx-templates:\n  x-gluetun: &gluetun\n    environment: &gluetun_env\n      a: b\n",
        "  x-gluetun-pia: &gluetun_pia\n    <<: *gluetun\n",
        "  x-gluetun-env-pia: &gluetun_env_pia\n    <<: *gluetun_env\n",
        "services:\n  vp0:\n    image: x\n    <<: *gluetun_pia\n    environment:\n      <<: *gluetun_env_pia\n",
    ));
    assert_eq!(c["services"]["vp0"]["environment"], json!({"a": "b"}));
}

#[test]
fn a_merge_key_must_name_a_mapping() {
    let err =
        error("name: test\nx-scalar: &s not-a-map\nservices:\n  s1:\n    image: x\n    <<: *s\n");
    assert!(err.contains("compose.yaml:6"), "{err}");
}

#[test]
fn an_alias_bomb_is_refused() {
    let mut text = String::from("name: test\nx-a: &a {k: v}\n");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    for pair in names.windows(2) {
        let refs = vec![format!("*{}", pair[0]); 9].join(", ");
        text.push_str(&format!("x-{}: &{} [{refs}]\n", pair[1], pair[1]));
    }
    text.push_str("services:\n  svc:\n    image: alpine\n");
    // 9^9 expansions if aliases were copied: the loader must count them and
    // stop (the test would not finish otherwise); no timing is asserted.
    let err = error(&text);
    assert!(err.contains("alias"), "{err}");
}

#[test]
fn an_anchor_cannot_refer_to_itself() {
    let err = error("name: test\nx-healthcheck: &healthcheck\n  egress-service:\n    <<: *healthcheck\nservices:\n  s:\n    image: x\n");
    assert!(err.contains("compose.yaml:4"), "{err}");
}

/// compose-go `loader_yaml_test.go`: extensions merge across files; an
/// `!override` reached through a merge key still replaces what `extends`
/// brings.
#[test]
fn extensions_merge_and_override_through_a_merge_key() {
    let c = two_files(
        "name: t\nx-extension:\n  test1: first\nservices:\n  test:\n    image: foo\n    command: echo hello\n    init: true\n",
        "x-extension:\n  test2: second\nservices:\n  test:\n    image: bar\n    command: echo world\n    init: false\n",
    )
    .config();
    assert_eq!(
        c["x-extension"],
        json!({"test1": "first", "test2": "second"})
    );
    assert_eq!(c["services"]["test"]["command"], json!(["echo", "world"]));
    assert_eq!(c["services"]["test"]["init"], json!(false));
    let c = config(concat!(
        "name: t\nservices:\n  base:\n    image: x\n    configs:\n      - source: credentials\n        target: /credentials/file1\n",
        "  x: &x\n    extends:\n      base\n    configs: !override\n      - source: credentials\n        target: /literally-anywhere-else\n",
        "  y:\n    <<: *x\n",
        "configs:\n  credentials:\n    content: |\n      dummy value\n",
    ));
    for s in ["x", "y"] {
        assert_eq!(
            c["services"][s]["configs"],
            json!([{"source": "credentials", "target": "/literally-anywhere-else"}]),
            "{s}"
        );
    }
}
