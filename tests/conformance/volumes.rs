//! Service `volumes` and top-level `volumes` (compose-go
//! `loader/tests/volumes_test.go`, `volume_bind_test.go`, and the volume
//! cases of `loader_test.go`).

use super::support::{config, service, Project};
use serde_json::json;

fn volumes(list: &str) -> serde_json::Value {
    let s = service(
        &format!("name: test\nservices:\n  foo:\n    image: alpine\n    volumes:\n{list}volumes:\n  mydata:\n"),
        "foo",
    );
    s["volumes"].clone()
}

#[test]
fn bind_propagation_selinux_and_create_host_path() {
    assert_eq!(
        volumes("      - type: bind\n        source: /host\n        target: /container\n        bind: {propagation: rslave, selinux: z}\n"),
        json!([{"type": "bind", "source": "/host", "target": "/container", "bind": {"propagation": "rslave", "selinux": "z"}}])
    );
}

/// compose-go prints `bind: {}` for short syntax (create_host_path is true
/// and omitted as the default; docker compose prints `create_host_path:
/// true` only when it is set explicitly).
#[test]
fn short_bind_creates_the_host_path() {
    let p = Project::new("name: test\nservices:\n  short:\n    image: alpine\n    volumes: ['/host:/container']\n  long:\n    image: alpine\n    volumes:\n      - {type: bind, source: /host, target: /container, bind: {}}\n");
    let loaded = p.load();
    for s in ["short", "long"] {
        let v = &loaded.project.services[s].volumes[0];
        assert!(
            v.bind.as_ref().is_some_and(|b| b.create_host_path),
            "{s}: {v:?}"
        );
    }
}

#[test]
fn volume_nocopy() {
    assert_eq!(
        volumes("      - {type: volume, source: mydata, target: /data, volume: {nocopy: true}}\n"),
        json!([{"type": "volume", "source": "mydata", "target": "/data", "volume": {"nocopy": true}}])
    );
}

#[test]
fn image_and_npipe_volumes() {
    assert_eq!(
        volumes("      - {type: image, source: app/image, target: /mnt/image, image: {subpath: /foo}}\n      - type: npipe\n        source: \\\\.\\pipe\\docker_engine\n        target: \\\\.\\pipe\\docker_engine\n"),
        json!([
            {"type": "image", "source": "app/image", "target": "/mnt/image", "image": {"subpath": "/foo"}},
            {"type": "npipe", "source": "\\\\.\\pipe\\docker_engine", "target": "\\\\.\\pipe\\docker_engine"},
        ])
    );
}

#[test]
fn short_syntax_named_relative_home_and_anonymous() {
    let p = Project::new("name: test\nservices:\n  foo:\n    image: alpine\n    volumes:\n      - mydata:/data:ro\n      - ./src:/src\n      - ~/cfg:/cfg:rw\n      - /anon\nvolumes:\n  mydata:\n");
    let c = p.config();
    let dir = p.dir_str();
    assert_eq!(
        c["services"]["foo"]["volumes"],
        json!([
            {"type": "volume", "source": "mydata", "target": "/data", "read_only": true, "volume": {}},
            {"type": "bind", "source": format!("{dir}/src"), "target": "/src", "bind": {}},
            {"type": "bind", "source": "/home/tester/cfg", "target": "/cfg", "bind": {}},
            {"type": "volume", "target": "/anon", "volume": {}},
        ])
    );
}

#[test]
fn top_level_volumes() {
    let c = config(concat!(
        "name: test\nservices:\n  foo:\n    image: alpine\nvolumes:\n  some-volume:\n",
        "  other-volume:\n    driver: flocker\n    driver_opts: {foo: bar, baz: 1}\n    labels: {foo: bar}\n",
        "  another-volume:\n    name: user_specified_name\n    driver: vsphere\n",
        "  external-volume:\n    external: true\n",
        "  other-external-volume:\n    external:\n      name: my-cool-volume\n",
        "  external-volume3:\n    name: this-is-volume3\n    external: true\n    x-bar: baz\n    x-foo: bar\n",
    ));
    let v = &c["volumes"];
    assert_eq!(v["some-volume"], json!({"name": "test_some-volume"}));
    assert_eq!(
        v["other-volume"],
        json!({"name": "test_other-volume", "driver": "flocker", "driver_opts": {"foo": "bar", "baz": "1"}, "labels": {"foo": "bar"}})
    );
    assert_eq!(
        v["another-volume"],
        json!({"name": "user_specified_name", "driver": "vsphere"})
    );
    assert_eq!(
        v["external-volume"],
        json!({"name": "external-volume", "external": true})
    );
    assert_eq!(
        v["other-external-volume"],
        json!({"name": "my-cool-volume", "external": true})
    );
    assert_eq!(
        v["external-volume3"],
        json!({"name": "this-is-volume3", "external": true, "x-bar": "baz", "x-foo": "bar"})
    );
}

#[test]
fn volume_labels_may_be_a_list() {
    assert_eq!(
        volumes(
            "      - {type: volume, source: mydata, target: /data, volume: {labels: [a=b, c]}}\n"
        ),
        json!([{"type": "volume", "source": "mydata", "target": "/data", "volume": {"labels": {"a": "b", "c": ""}}}])
    );
}
