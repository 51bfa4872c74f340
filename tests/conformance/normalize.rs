//! Normalisation as `compose config` shows it (compose-go
//! `loader/normalize_test.go`): resource names, the default network, build
//! defaults and arguments, implied dependencies, hook images.

use super::support::{config, Project};
use serde_json::json;

#[test]
fn network_names_external_named_and_default() {
    let c = Project::new(concat!(
        "name: myproject\nservices:\n  foo:\n    build:\n      context: .\n      args:\n        FOO: null\n        ZOT: null\n",
        "networks:\n  myExternalnet:\n    external: true\n  myNamedNet:\n    name: CustomName\n  mynet: {}\n",
    ))
    .env("FOO", "BAR")
    .config();
    assert_eq!(
        c["networks"],
        json!({
            "default": {"name": "myproject_default"},
            "myExternalnet": {"name": "myExternalnet", "external": true},
            "myNamedNet": {"name": "CustomName"},
            "mynet": {"name": "myproject_mynet"},
        })
    );
    // A build argument without a value takes the environment's, or goes.
    assert_eq!(c["services"]["foo"]["build"]["args"], json!({"FOO": "BAR"}));
    assert_eq!(c["services"]["foo"]["networks"], json!({"default": null}));
}

#[test]
fn volume_names() {
    let c = config(concat!(
        "name: myproject\nservices:\n  a:\n    image: x\n",
        "volumes:\n  myExternalVol:\n    external: true\n  myvol: {}\n  myNamedVol:\n    name: CustomName\n",
    ));
    assert_eq!(
        c["volumes"],
        json!({
            "myExternalVol": {"name": "myExternalVol", "external": true},
            "myvol": {"name": "myproject_myvol"},
            "myNamedVol": {"name": "CustomName"},
        })
    );
}

/// Implied dependencies restart with their target, except `volumes_from`;
/// an explicit entry is never overridden. (`cgroup: service:x` is refused by
/// the schema, which compose-go's normalisation test bypasses.)
#[test]
fn namespaces_links_and_volumes_from_imply_dependencies() {
    let c = config(concat!(
        "name: myproject\nservices:\n  test:\n    image: x\n",
        "    ipc: service:foo\n    uts: service:baz\n    pid: service:qux\n",
        "    volumes_from: [quux, 'container:xxx']\n    links: [corge]\n",
        "    depends_on:\n      foo:\n        condition: service_healthy\n",
        "  foo: {image: x}\n  baz: {image: x}\n  qux: {image: x}\n  quux: {image: x}\n  corge: {image: x}\n",
        "  net:\n    image: x\n    network_mode: service:zot\n  zot: {image: x}\n",
    ));
    let started = |restart: bool| {
        let mut d = json!({"condition": "service_started", "required": true});
        if restart {
            d["restart"] = json!(true);
        }
        d
    };
    assert_eq!(
        c["services"]["test"]["depends_on"],
        json!({
            "foo": {"condition": "service_healthy", "required": true},
            "baz": started(true), "qux": started(true),
            "quux": started(false), "corge": started(true),
        })
    );
    assert_eq!(
        c["services"]["net"]["depends_on"],
        json!({"zot": started(true)})
    );
    assert!(c["services"]["net"].get("networks").is_none());
}

#[test]
fn an_empty_build_gets_the_project_directory_and_dockerfile() {
    let p = Project::new("name: myproject\nservices:\n  test:\n    build: {}\n");
    let c = p.config();
    assert_eq!(
        c["services"]["test"]["build"],
        json!({"context": p.dir_str(), "dockerfile": "Dockerfile"})
    );
}

#[test]
fn a_declared_network_is_used_without_the_default() {
    let c = config("name: myproject\nservices:\n  test:\n    image: x\n    networks:\n      my_network: null\nnetworks:\n  my_network: null\n");
    assert_eq!(
        c["networks"],
        json!({"my_network": {"name": "myproject_my_network"}})
    );
}

#[test]
fn pre_start_hooks_inherit_the_service_image_only_when_it_has_one() {
    let c = config(concat!(
        "name: myproject\nservices:\n",
        "  app:\n    image: alpine\n    pre_start:\n      - command: [migrate]\n      - image: busybox\n        command: [chown]\n",
        "  builder:\n    build: {context: .}\n    pre_start:\n      - command: [init]\n",
        "  hybrid:\n    image: ubuntu\n    build: {context: .}\n    pre_start:\n      - command: [bootstrap]\n",
    ));
    assert_eq!(
        c["services"]["app"]["pre_start"],
        json!([{"command": ["migrate"], "image": "alpine"}, {"image": "busybox", "command": ["chown"]}])
    );
    assert_eq!(
        c["services"]["builder"]["pre_start"],
        json!([{"command": ["init"]}])
    );
    assert_eq!(
        c["services"]["hybrid"]["pre_start"],
        json!([{"command": ["bootstrap"], "image": "ubuntu"}])
    );
}
