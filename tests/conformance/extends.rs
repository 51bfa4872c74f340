//! `extends` (compose-go `loader/extends_test.go`; spec 05-services.md
//! "extends"): services taken from the same or another file, with that
//! file's relative paths, merge rules and references.

use super::support::{assert_has, Project};
use serde_json::json;

const BASE: &str = concat!(
    "services:\n  base:\n    image: base\n  another:\n    extends: base\n",
    "  with-port:\n    ports: ['8000:8000']\n",
    "  withUlimits:\n    image: test\n    ulimits:\n      nproc: 65535\n      nofile: {soft: 20000, hard: 40000}\n",
    "  with-build:\n    extends:\n      file: sibling.yaml\n      service: test\n",
    "  nil:\n",
);

fn with_base(main: &str) -> Project {
    Project::files(&[
        ("compose.yaml", main),
        ("extends/base.yaml", BASE),
        ("extends/sibling.yaml", "services:\n  test:\n    build: .\n"),
    ])
}

#[test]
fn services_from_another_file_keep_their_own_attributes() {
    let c = with_base(concat!(
        "name: t\nservices:\n",
        "  test1:\n    extends: {file: extends/base.yaml, service: base}\n    hostname: test1\n",
        "  test2:\n    extends: {file: extends/base.yaml, service: base}\n    hostname: test2\n",
        "  test3:\n    extends: {file: extends/base.yaml, service: another}\n    hostname: test3\n",
        "  ports:\n    image: test\n    extends: {file: extends/base.yaml, service: with-port}\n",
        "  limits:\n    extends: {file: extends/base.yaml, service: withUlimits}\n",
        "  empty:\n    image: test\n    extends: {file: extends/base.yaml, service: nil}\n",
    ))
    .config();
    let s = &c["services"];
    for (name, host) in [("test1", "test1"), ("test2", "test2"), ("test3", "test3")] {
        assert_eq!(s[name]["hostname"], json!(host));
        assert_eq!(s[name]["image"], json!("base"));
    }
    assert!(s["test1"].get("extends").is_none());
    assert_eq!(s["ports"]["ports"][0]["target"], json!(8000));
    assert_eq!(s["limits"]["ulimits"]["nproc"], json!(65535));
    assert_eq!(s["empty"]["image"], json!("test"));
}

#[test]
fn relative_paths_follow_the_file_that_wrote_them() {
    let p = with_base("name: t\nservices:\n  test:\n    extends: {file: extends/base.yaml, service: with-build}\n");
    let c = p.config();
    assert_eq!(
        c["services"]["test"]["build"]["context"],
        json!(format!("{}/extends", p.dir_str()))
    );
}

#[test]
fn extends_needs_a_service() {
    let err = with_base("name: t\nservices:\n  test:\n    image: test\n    extends:\n      file: extends/base.yaml\n").error();
    assert!(
        err.contains("services.test.extends") && err.contains("service"),
        "{err}"
    );
}

#[test]
fn an_included_file_may_use_extends() {
    let c = Project::files(&[
        ("compose.yaml", "name: t\ninclude:\n  - extends/nested.yaml\n"),
        ("extends/nested.yaml", "services:\n  with-build:\n    extends:\n      file: sibling.yaml\n      service: test\n"),
        ("extends/sibling.yaml", "services:\n  test:\n    build: .\n"),
    ])
    .config();
    assert!(c["services"]["with-build"]["build"].is_object());
}

#[test]
fn extending_a_service_of_a_file_already_loaded_does_not_duplicate_ports() {
    let mut p = Project::files(&[
        ("ports.yaml", "services:\n  test:\n    image: test\n    ports: ['8080:8080']\n"),
        ("override.yaml", "name: t\nservices:\n  test:\n    extends:\n      file: ports.yaml\n      service: test\n"),
    ]);
    p.opts.files = vec!["ports.yaml".into(), "override.yaml".into()];
    let c = p.config();
    assert_eq!(
        c["services"]["test"]["ports"].as_array().map(Vec::len),
        Some(1)
    );
}

#[test]
fn extends_within_a_file_in_a_subdirectory_keeps_its_context() {
    let p = Project::files(&[
        ("compose.yaml", "name: t\nservices:\n  out-base:\n    extends:\n      file: sub/compose.yaml\n      service: base\n  out-service:\n    extends:\n      file: sub/compose.yaml\n      service: service\n"),
        ("sub/compose.yaml", "services:\n  base:\n    build:\n      context: ..\n  service:\n    extends: base\n    build:\n      target: target\n"),
    ]);
    let c = p.config();
    let dir = p.dir_str();
    assert_eq!(c["services"]["out-base"]["build"]["context"], json!(dir));
    assert_has(
        &c["services"]["out-service"]["build"],
        &json!({"context": dir, "target": "target"}),
    );
}

#[test]
fn references_of_an_extended_service_must_exist_in_the_extending_project() {
    let other = concat!(
        "services:\n  with_depends_on:\n    image: foo\n    depends_on: [zot]\n",
        "  with_volumes_from:\n    image: foo\n    volumes_from: [zot]\n",
        "  with_ipc:\n    image: foo\n    ipc: 'service:zot'\n",
        "  with_network_mode:\n    image: foo\n    network_mode: 'service:zot'\n",
        "  zot:\n    image: hidden\n",
    );
    for service in [
        "with_depends_on",
        "with_volumes_from",
        "with_ipc",
        "with_network_mode",
    ] {
        let main = format!("name: t\nservices:\n  bar:\n    extends:\n      file: ./depends_on.yaml\n      service: {service}\n");
        let err = Project::files(&[("compose.yaml", &main), ("depends_on.yaml", other)]).error();
        assert!(err.contains("zot"), "{service}: {err}");
        let with_zot = format!("{main}  zot:\n    image: zot\n");
        let c = Project::files(&[("compose.yaml", &with_zot), ("depends_on.yaml", other)]).config();
        assert!(
            c["services"]["bar"]["depends_on"]["zot"].is_object(),
            "{service}"
        );
    }
}

#[test]
fn override_tag_replaces_inherited_dependencies() {
    let c = Project::new(concat!(
        "name: t\nservices:\n  service_a:\n    image: a\n    depends_on: [service_c]\n",
        "  service_b:\n    extends: service_a\n    depends_on: !override\n      - service_a\n",
        "  service_c:\n    image: c\n",
    ))
    .config();
    assert_eq!(
        c["services"]["service_b"]["depends_on"],
        json!({"service_a": {"condition": "service_started", "required": true}})
    );
}

#[test]
fn extends_chains_resolve_to_the_end() {
    let c = Project::new(concat!(
        "name: t\nservices:\n  foo:\n    image: busybox\n    extends: bar\n",
        "  bar:\n    image: alpine\n    command: echo\n    extends: wee\n",
        "  wee:\n    extends: last\n    command: echo\n  last:\n    image: python\n",
    ))
    .config();
    assert_eq!(c["services"]["foo"]["image"], json!("busybox"));
    assert_eq!(c["services"]["foo"]["command"], json!(["echo"]));
    assert_eq!(c["services"]["wee"]["image"], json!("python"));
}

#[test]
fn reset_in_the_extended_file_removes_the_inherited_value() {
    let c = Project::files(&[
        ("compose.yaml", "name: t\nservices:\n  test:\n    extends:\n      file: reset.yaml\n      service: base\n"),
        ("reset.yaml", "services:\n  init:\n    image: alpine:latest\n    command: 'sleep infinity'\n  base:\n    extends: { service: init }\n    command: !reset\n"),
    ])
    .config();
    assert!(c["services"]["test"].get("command").is_none());
    assert_eq!(c["services"]["test"]["image"], json!("alpine:latest"));
}

#[test]
fn the_extended_file_is_interpolated() {
    let c = Project::files(&[
        ("compose.yaml", "name: t\nservices:\n  test:\n    extends: { file: interpolated.yaml, service: foo }\n"),
        ("interpolated.yaml", "services:\n  foo:\n    image: bash\n    volumes:\n      - ${SOURCE:-/dev/null}:/tmp/foo:ro\n"),
    ])
    .config();
    assert_eq!(
        c["services"]["test"]["volumes"][0]["source"],
        json!("/dev/null")
    );
}

/// compose-go TestLoadExtendsMultipleFiles: a `build` without `context`
/// taken from another file builds the extending project's directory
/// (the default is set once everything is merged).
#[test]
fn a_build_without_context_from_another_file_builds_the_project_directory() {
    let p = Project::files(&[
        ("compose.yaml", "name: project\nservices:\n  a:\n    extends:\n      file: ./a/compose.yaml\n      service: a\n  b:\n    extends:\n      file: ./b/compose.yaml\n      service: b\n"),
        ("a/compose.yaml", "services:\n  a:\n    build: .\n"),
        ("b/compose.yaml", "services:\n  b:\n    build:\n      target: fake\n"),
    ]);
    let c = p.config();
    let dir = p.dir_str();
    assert_eq!(
        c["services"]["a"]["build"]["context"],
        json!(format!("{dir}/a"))
    );
    assert_eq!(c["services"]["b"]["build"]["context"], json!(dir));
}

#[test]
fn the_extending_command_replaces_the_inherited_one() {
    let c = Project::new(concat!(
        "name: t\nservices:\n  foo:\n    image: busybox\n    extends:\n      service: bar\n",
        "    command: \"/bin/ash -c \\\"rm -rf /tmp/might-not-exist\\\"\"\n",
        "  bar:\n    image: alpine\n    command: \"/bin/ash -c \\\"echo Oh no...\\\"\"\n",
        "  baz:\n    extends:\n      service: bar\n    volumes: !reset []\n",
    ))
    .config();
    assert_eq!(
        c["services"]["foo"]["command"],
        json!(["/bin/ash", "-c", "rm -rf /tmp/might-not-exist"])
    );
    assert_eq!(c["services"]["foo"]["image"], json!("busybox"));
    assert!(c["services"]["baz"].get("volumes").is_none());
}
