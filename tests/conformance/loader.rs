//! Whole-file behaviours of compose-go's `loader/loader_test.go`: shape
//! errors, typed values read from interpolated strings, label and env files,
//! build defaults, external resources, tmpfs and bind mounts.

use super::support::{assert_has, config, error, service, Project};
use serde_json::json;

#[track_caller]
fn assert_error(yaml: &str, parts: &[&str]) {
    let err = error(yaml);
    for part in parts {
        assert!(err.contains(part), "`{part}` missing from:\n{err}");
    }
}

#[test]
fn the_top_level_must_be_a_mapping() {
    for text in ["1", "\"hello\"", "[\"hello\"]"] {
        assert_error(text, &["top-level object must be a mapping"]);
    }
}

#[test]
fn keys_must_be_strings() {
    // compose-go names the path ("non-string key in services: 123"); the
    // YAML reader names the line and column of the key instead.
    assert_error(
        "123:\n  foo:\n    image: busybox\n",
        &["compose.yaml:1:1", "key 123"],
    );
    assert_error(
        "services:\n  foo:\n    image: busybox\n  123:\n    image: busybox\n",
        &["compose.yaml:4:3", "key 123"],
    );
    assert_error(
        "services:\n  foo:\n    image: busybox\nnetworks:\n  default:\n    ipam:\n      config:\n        - 123: oh dear\n",
        &["compose.yaml:8:11", "key 123"],
    );
    assert_error(
        "services:\n  dict-env:\n    image: busybox\n    environment:\n      1: FOO\n",
        &["compose.yaml:5:7", "key 1 "],
    );
}

#[test]
fn a_version_1_file_is_refused() {
    assert_error("foo:\n  image: busybox\n", &["foo"]);
}

#[test]
fn sections_and_their_entries_must_be_mappings() {
    let cases = [
        ("services:\n  - foo:\n      image: busybox\n", "services"),
        ("services:\n  foo: busybox\n", "services.foo"),
        (
            "networks:\n  - default:\n      driver: bridge\n",
            "networks",
        ),
        ("networks:\n  default: bridge\n", "networks.default"),
        ("volumes:\n  - data:\n      driver: local\n", "volumes"),
        ("volumes:\n  data: local\n", "volumes.data"),
    ];
    for (body, path) in cases {
        assert_error(
            &format!("name: non-mapping-object\n{body}"),
            &[&format!("{path}:"), "mapping"],
        );
    }
}

#[test]
fn image_must_be_a_string() {
    assert_error(
        "name: x\nservices:\n  foo:\n    image: [busybox, latest]\n",
        &["services.foo.image", "string"],
    );
}

#[test]
fn environment_mapping_and_list_read_the_same() {
    let c = Project::new(concat!(
        "name: env\nservices:\n  dict-env:\n    image: busybox\n    environment:\n",
        "      FOO: '1'\n      BAR: 2\n      GA: 2.5\n      BU: ''\n      ZO:\n      MEU:\n",
        "  list-env:\n    image: busybox\n    environment: [FOO=1, BAR=2, GA=2.5, BU=, ZO, MEU]\n",
    ))
    .env("MEU", "Shadoks")
    .config();
    let expected =
        json!({"FOO": "1", "BAR": "2", "GA": "2.5", "BU": "", "ZO": null, "MEU": "Shadoks"});
    assert_eq!(c["services"]["dict-env"]["environment"], expected);
    assert_eq!(c["services"]["list-env"]["environment"], expected);
}

#[test]
fn environment_booleans_are_strings() {
    let s = service(
        "name: x\nservices:\n  foo:\n    image: busybox\n    environment:\n      FOO: true\n      BAR: false\n",
        "foo",
    );
    assert_eq!(s["environment"], json!({"FOO": "true", "BAR": "false"}));
}

#[test]
fn environment_values_and_shape_are_checked() {
    assert_error(
        "name: x\nservices:\n  dict-env:\n    image: busybox\n    environment:\n      FOO: ['1']\n",
        &["services.dict-env.environment.FOO"],
    );
    assert_error(
        "name: x\nservices:\n  dict-env:\n    image: busybox\n    environment: 'FOO=1'\n",
        &["services.dict-env.environment"],
    );
}

#[test]
fn environment_keys_with_a_space_before_the_equal_sign_are_refused() {
    assert_error(
        "name: x\nservices:\n  test:\n    image: busybox\n    environment:\n      - DEBUG = true\n",
        &["DEBUG", "space"],
    );
}

#[test]
fn interpolation_in_labels_and_resource_drivers() {
    let c = Project::new(concat!(
        "# a comment may say ${SHOULD_NOT_BREAK}\n",
        "name: interp\nservices:\n  test:\n    image: busybox\n    labels:\n",
        "      - home1=$HOME\n      - home2=${HOME}\n      - nonexistent=$NONEXISTENT\n      - default=${NONEXISTENT-default}\n",
        "networks:\n  test:\n    driver: $HOME\nvolumes:\n  test:\n    driver: $HOME\n",
    ))
    .env("HOME", "/home/foo")
    .config();
    assert_eq!(
        c["services"]["test"]["labels"],
        json!({"home1": "/home/foo", "home2": "/home/foo", "nonexistent": "", "default": "default"})
    );
    assert_eq!(c["networks"]["test"]["driver"], json!("/home/foo"));
    assert_eq!(c["volumes"]["test"]["driver"], json!("/home/foo"));
}

/// compose-go TestLoadWithInterpolationCastFull: each typed attribute
/// written as a variable reads as its type.
#[test]
fn interpolated_values_are_cast_to_their_types() {
    let c = Project::new(concat!(
        "name: cast\nservices:\n  web:\n    image: busybox\n",
        "    configs:\n      - {source: appconfig, mode: '$theint'}\n",
        "    secrets:\n      - {source: super, mode: '$theint'}\n",
        "    healthcheck:\n      retries: ${theint}\n      disable: $thebool\n",
        "    deploy:\n      replicas: $theint\n      update_config:\n        parallelism: $theint\n        max_failure_ratio: $thefloat\n",
        "      restart_policy:\n        max_attempts: $theint\n      placement:\n        max_replicas_per_node: $theint\n",
        "    ports:\n      - $theint\n      - '34567'\n      - target: $theint\n        published: '$theint'\n        x-foo-bar: true\n",
        "    ulimits:\n      nproc: $theint\n      nofile:\n        hard: $theint\n        soft: $theint\n",
        "    privileged: $thebool\n    read_only: $thebool\n    shm_size: ${thesize}\n",
        "    stop_grace_period: ${theduration}\n    stdin_open: ${thebool}\n    tty: $thebool\n",
        "    scale: ${theint}\n",
        "    volumes:\n      - {source: data, type: volume, target: /data, read_only: $thebool, volume: {nocopy: $thebool}}\n",
        "configs:\n  appconfig:\n    external: $thebool\n",
        "secrets:\n  super:\n    external: $thebool\n",
        "volumes:\n  data:\n    external: $thebool\n",
        "networks:\n  front:\n    external: $thebool\n    internal: $thebool\n    attachable: $thebool\n  back:\n",
    ))
    .env("theint", "555")
    .env("thefloat", "3.25")
    .env("thebool", "true")
    .env("theduration", "60s")
    .env("thesize", "2gb")
    .config();
    let web = &c["services"]["web"];
    assert_has(
        web,
        &json!({
            "configs": [{"source": "appconfig", "mode": "0555"}],
            "secrets": [{"source": "super", "mode": "0555"}],
            "healthcheck": {"retries": 555, "disable": true},
            "deploy": {
                "replicas": 555,
                "update_config": {"parallelism": 555, "max_failure_ratio": 3.25},
                "restart_policy": {"max_attempts": 555},
                "placement": {"max_replicas_per_node": 555},
            },
            "ports": [
                {"mode": "ingress", "target": 555, "protocol": "tcp"},
                {"mode": "ingress", "target": 34567, "protocol": "tcp"},
                {"mode": "ingress", "target": 555, "published": "555", "protocol": "tcp", "x-foo-bar": true},
            ],
            "ulimits": {"nproc": 555, "nofile": {"soft": 555, "hard": 555}},
            "privileged": true, "read_only": true, "shm_size": "2147483648",
            "stop_grace_period": "1m0s", "stdin_open": true, "tty": true, "scale": 555,
            "volumes": [{"type": "volume", "source": "data", "target": "/data", "read_only": true, "volume": {"nocopy": true}}],
        }),
    );
    assert_eq!(
        c["networks"]["front"],
        json!({"name": "front", "external": true, "internal": true, "attachable": true})
    );
    assert_eq!(
        c["volumes"]["data"],
        json!({"name": "data", "external": true})
    );
}

#[test]
fn label_files_are_read_and_labels_win() {
    let p = Project::files(&[
        (
            "compose.yaml",
            "name: labels\nservices:\n  s1:\n    image: x\n    label_file: ./example1.label\n  s2:\n    image: x\n    label_file: [./example2.label]\n    labels: {QUX: from_yaml}\n",
        ),
        ("example1.label", "# passed through\nFOO=foo_from_label_file\nLABEL.WITH.DOT=ok\nLABEL_WITH_UNDERSCORE=ok\n\nBAR=bar_from_label_file\nBAZ=baz_from_label_file\n"),
        ("example2.label", "BAR=bar_from_label_file_2\nQUX=quz_from_label_file_2\n"),
    ]);
    let c = p.config();
    assert_eq!(
        c["services"]["s1"]["labels"],
        json!({"FOO": "foo_from_label_file", "LABEL.WITH.DOT": "ok", "LABEL_WITH_UNDERSCORE": "ok", "BAR": "bar_from_label_file", "BAZ": "baz_from_label_file"})
    );
    assert_eq!(
        c["services"]["s2"]["labels"],
        json!({"BAR": "bar_from_label_file_2", "QUX": "from_yaml"})
    );
    assert_eq!(
        c["services"]["s1"]["label_file"],
        json!([format!("{}/example1.label", p.dir_str())])
    );
}

#[test]
fn a_missing_label_file_is_an_error() {
    let err =
        Project::new("name: x\nservices:\n  s:\n    image: x\n    label_file: ./nope.label\n")
            .error();
    assert!(err.contains("nope.label"), "{err}");
}

#[test]
fn env_files_fill_the_environment_and_may_be_discarded() {
    let files = [
        (
            "compose.yaml",
            "name: test\nservices:\n  web:\n    image: nginx\n    env_file:\n      - example1.env\n      - path: example2.env\n        required: false\n      - path: missing.env\n        required: false\n",
        ),
        ("example1.env", "FOO=foo_from_env_file\nENV.WITH.DOT=ok\nENV_WITH_UNDERSCORE=ok\nBAR=bar_from_env_file\nBAZ=baz_from_env_file\n"),
        ("example2.env", "BAR=bar_from_env_file_2\nQUX=quz_from_env_file_2\n"),
    ];
    let expected = json!({
        "FOO": "foo_from_env_file", "ENV.WITH.DOT": "ok", "ENV_WITH_UNDERSCORE": "ok",
        "BAR": "bar_from_env_file_2", "BAZ": "baz_from_env_file", "QUX": "quz_from_env_file_2",
    });
    let p = Project::files(&files);
    let c = p.config();
    assert_eq!(c["services"]["web"]["environment"], expected);
    let dir = p.dir_str();
    assert_eq!(
        c["services"]["web"]["env_file"],
        json!([
            {"path": format!("{dir}/example1.env")},
            {"path": format!("{dir}/example2.env"), "required": false},
            {"path": format!("{dir}/missing.env"), "required": false},
        ])
    );
    let mut p = Project::files(&files);
    p.opts.discard_env_files = true;
    let c = p.config();
    assert_eq!(c["services"]["web"]["environment"], expected);
    assert!(c["services"]["web"].get("env_file").is_none());
}

#[test]
fn a_tab_in_the_indentation_is_a_yaml_error() {
    let err = error("name: test\nservices:\n  web:\n    image: nginx\n\tbuild: .");
    assert!(
        err.contains("compose.yaml:4:") && err.contains("tab"),
        "{err}"
    );
}

#[test]
fn build_gets_context_and_dockerfile_defaults() {
    let p = Project::new("name: test\nservices:\n  web:\n    image: web\n    build: .\n  db:\n    image: db\n    build:\n      context: ./db\n      shm_size: 2gb\n");
    let c = p.config();
    let dir = p.dir_str();
    assert_eq!(
        c["services"]["web"]["build"],
        json!({"context": dir, "dockerfile": "Dockerfile"})
    );
    assert_eq!(
        c["services"]["db"]["build"],
        json!({"context": format!("{dir}/db"), "dockerfile": "Dockerfile", "shm_size": "2147483648"})
    );
}

#[test]
fn unknown_properties_are_refused() {
    assert_error(
        "name: test\nservices:\n  foo:\n    image: busybox\n    deploy:\n      resources:\n        impossible:\n          x: 1\n",
        &["services.foo.deploy.resources.impossible", "impossible"],
    );
    assert_error(
        "name: test\nservices:\n  tmpfs:\n    image: nginx\n    volumes:\n      - type: tmpfs\n        target: /app\n        foo:\n          bar: zot\n",
        &["services.tmpfs.volumes[0]", "foo"],
    );
}

#[test]
fn an_external_volume_takes_nothing_but_a_name() {
    for (key, body) in [
        ("driver", "    driver: foobar\n"),
        ("driver_opts", "    driver_opts:\n      beep: boop\n"),
        ("labels", "    labels:\n      - beep=boop\n"),
    ] {
        assert_error(
            &format!("name: x\nservices:\n  s:\n    image: x\nvolumes:\n  external_volume:\n    external: true\n{body}"),
            &[&format!("volumes.external_volume.{key}"), "external"],
        );
    }
}

#[test]
fn name_and_external_name_conflict() {
    for section in ["volumes", "networks", "secrets"] {
        assert_error(
            &format!("name: x\nservices:\n  s:\n    image: x\n{section}:\n  ext:\n    name: user_specified_name\n    external:\n      name: external_name\n"),
            &[&format!("{section}.ext"), "name"],
        );
    }
}

#[test]
fn deprecated_external_name_becomes_the_name_with_a_warning() {
    for section in ["volumes", "networks", "secrets"] {
        let p = Project::new(&format!(
            "name: x\nservices:\n  s:\n    image: x\n{section}:\n  foo:\n    external:\n      name: oops\n"
        ));
        let loaded = p.load();
        assert!(
            loaded
                .warnings
                .iter()
                .any(|w| w.message.contains("external.name")),
            "{section}: {:?}",
            loaded.warnings
        );
        let c = p.config();
        assert_eq!(
            c[section]["foo"],
            json!({"name": "oops", "external": true}),
            "{section}"
        );
    }
}

#[test]
fn tmpfs_size_is_a_byte_count() {
    for size in ["1kb", "1024"] {
        let s = service(
            &format!("name: x\nservices:\n  tmpfs:\n    image: nginx\n    volumes:\n      - type: tmpfs\n        target: /app\n        tmpfs:\n          size: {size}\n"),
            "tmpfs",
        );
        assert_eq!(
            s["volumes"],
            json!([{"type": "tmpfs", "target": "/app", "tmpfs": {"size": "1024"}}])
        );
    }
    let s = service(
        "name: x\nservices:\n  tmpfs:\n    image: nginx\n    volumes:\n      - type: tmpfs\n        target: /app\n        tmpfs:\n          size: 0\n",
        "tmpfs",
    );
    assert_eq!(
        s["volumes"],
        json!([{"type": "tmpfs", "target": "/app", "tmpfs": {}}])
    );
}

#[test]
fn tmpfs_size_must_be_a_non_negative_integer() {
    for (size, what) in [("-1", "0"), ("0.0001", "integer")] {
        assert_error(
            &format!("name: x\nservices:\n  tmpfs:\n    image: nginx\n    volumes:\n      - type: tmpfs\n        target: /app\n        tmpfs:\n          size: {size}\n"),
            &["services.tmpfs.volumes[0].tmpfs.size", what],
        );
    }
}

#[test]
fn a_bind_mount_needs_a_source() {
    assert_error(
        "name: x\nservices:\n  b:\n    image: nginx\n    volumes:\n      - type: bind\n        target: /app\n",
        &["services.b.volumes[0]", "source"],
    );
}

#[test]
fn a_bind_mount_source_is_made_absolute() {
    let p = Project::new("name: x\nservices:\n  bind:\n    image: nginx\n    volumes:\n      - type: bind\n        target: /app\n        source: .\n");
    let c = p.config();
    assert_eq!(
        c["services"]["bind"]["volumes"],
        json!([{"type": "bind", "source": p.dir_str(), "target": "/app"}])
    );
}

#[test]
fn volume_subpath_and_long_read_only() {
    let c = config(concat!(
        "name: x\nservices:\n  test:\n    image: alpine\n    volumes:\n",
        "      - {type: volume, source: asdf, target: /app, volume: {subpath: etc/settings}}\n",
        "      - {type: volume, source: foo, target: /target, read_only: true}\n",
        "volumes:\n  asdf: {}\n  foo: {}\n",
    ));
    assert_eq!(
        c["services"]["test"]["volumes"],
        json!([
            {"type": "volume", "source": "asdf", "target": "/app", "volume": {"subpath": "etc/settings"}},
            {"type": "volume", "source": "foo", "target": "/target", "read_only": true},
        ])
    );
}

#[test]
fn expanded_port_formats() {
    let s = service(
        concat!(
            "name: x\nservices:\n  web:\n    image: busybox\n    ports:\n",
            "      - '80-82:8080-8082'\n      - '90-92:8090-8092/udp'\n      - '85:8500'\n      - 8600\n",
            "      - {protocol: udp, target: 53, published: 10053}\n      - {mode: host, target: 22, published: 10022}\n",
        ),
        "web",
    );
    let port = |target: u32, published: Option<&str>, protocol: &str, mode: &str| {
        let mut p = json!({"mode": mode, "target": target, "protocol": protocol});
        if let Some(published) = published {
            p["published"] = json!(published);
        }
        p
    };
    assert_eq!(
        s["ports"],
        json!([
            port(8080, Some("80"), "tcp", "ingress"),
            port(8081, Some("81"), "tcp", "ingress"),
            port(8082, Some("82"), "tcp", "ingress"),
            port(8090, Some("90"), "udp", "ingress"),
            port(8091, Some("91"), "udp", "ingress"),
            port(8092, Some("92"), "udp", "ingress"),
            port(8500, Some("85"), "tcp", "ingress"),
            port(8600, None, "tcp", "ingress"),
            port(53, Some("10053"), "udp", "ingress"),
            port(22, Some("10022"), "tcp", "host"),
        ])
    );
}

/// compose-go casts every string at a typed path, not only interpolated
/// ones: `privileged: "true"` is a boolean.
#[test]
fn quoted_values_at_typed_paths_are_cast() {
    let c = config(concat!(
        "name: t\nservices:\n  s:\n    image: x\n    attach: 'false'\n    init: 'true'\n    cpu_count: '4'\n",
        "    cpus: '1.5'\n    oom_score_adj: '100'\n    pids_limit: '10'\n    privileged: 'true'\n    scale: '3'\n",
        "    blkio_config: {weight: '300'}\n",
        "    build: {context: ., no_cache: 'true', pull: 'true', provenance: 'true'}\n",
        "    deploy:\n      replicas: '3'\n      update_config: {parallelism: '2', max_failure_ratio: '0.5'}\n",
        "      resources:\n        limits: {cpus: '0.5', pids: '5'}\n",
        "networks:\n  n:\n    internal: 'true'\n  e:\n    external: 'true'\n",
    ));
    assert_has(
        &c["services"]["s"],
        &json!({
            "attach": false, "init": true, "cpu_count": 4, "cpus": 1.5, "oom_score_adj": 100,
            "pids_limit": 10, "privileged": true, "scale": 3, "blkio_config": {"weight": 300},
            "build": {"no_cache": true, "pull": true, "provenance": "true"},
            "deploy": {"replicas": 3, "update_config": {"parallelism": 2, "max_failure_ratio": 0.5},
                       "resources": {"limits": {"cpus": 0.5, "pids": 5}}},
        }),
    );
    assert_eq!(c["networks"]["n"]["internal"], json!(true));
    assert_eq!(c["networks"]["e"], json!({"name": "e", "external": true}));
}
