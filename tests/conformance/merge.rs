//! Merging Compose files (spec 13-merge.md; compose-go `override/*_test.go`
//! and `loader/override_test.go`), end to end: `-f base.yaml -f
//! override.yaml`, checked on what `compose config` prints.

use super::support::Project;
use serde_json::{json, Value};

/// `compose config` of `base` overridden by `over` (the files' own text,
/// without `name`).
#[track_caller]
fn merged(base: &str, over: &str) -> Value {
    let mut p = Project::files(&[
        ("base.yaml", &format!("name: m\n{base}")),
        ("override.yaml", over),
    ]);
    p.opts.files = vec!["base.yaml".into(), "override.yaml".into()];
    p.config()
}

#[track_caller]
fn merged_test(base: &str, over: &str) -> Value {
    merged(
        &format!("services:\n  test:\n    image: foo\n{base}"),
        &format!("services:\n  test:\n{over}"),
    )["services"]["test"]
        .clone()
}

#[test]
fn scalars_are_replaced() {
    let s = merged_test(
        "    scale: 1\n    mem_limit: '256m'\n",
        "    image: bar\n    scale: 2\n    mem_limit: 1\n",
    );
    assert_eq!(s["image"], json!("bar"));
    assert_eq!(s["scale"], json!(2));
    assert_eq!(s["mem_limit"], json!("1"));
    let s = merged_test("    mem_limit: 1\n", "    mem_limit: '256m'\n");
    assert_eq!(s["mem_limit"], json!("268435456"));
}

#[test]
fn logging_options_merge_only_for_the_same_or_an_implied_driver() {
    let s = merged_test(
        "    logging:\n      options:\n        max-size: 10m\n",
        "    logging:\n      options:\n        max-file: 3\n",
    );
    assert_eq!(
        s["logging"],
        json!({"options": {"max-size": "10m", "max-file": "3"}})
    );
    let s = merged_test(
        "    logging:\n      driver: local\n      options:\n        max-size: 10m\n",
        "    logging:\n      driver: syslog\n      options:\n        syslog-address: 'tcp://127.0.0.1:123'\n",
    );
    assert_eq!(
        s["logging"],
        json!({"driver": "syslog", "options": {"syslog-address": "tcp://127.0.0.1:123"}})
    );
}

#[test]
fn secrets_merge_by_target() {
    let c = merged(
        "services:\n  test:\n    image: foo\n    secrets: [foo, bar, zot]\nsecrets:\n  foo: {file: ./f}\n  bar: {file: ./b}\n  zot: {file: ./z}\n",
        "services:\n  test:\n    secrets:\n      - source: zot\n        target: /run/secrets/foo\n",
    );
    assert_eq!(
        c["services"]["test"]["secrets"],
        json!([
            {"source": "zot", "target": "/run/secrets/foo"},
            {"source": "bar", "target": "/run/secrets/bar"},
            {"source": "zot", "target": "/run/secrets/zot"},
        ])
    );
}

/// compose-go has no merge rule for `models.*.runtime_flags`: the lists are
/// appended (its replace test, `Test_mergeYamlModelsRuntimeFlagsMerge`, is
/// commented out).
#[test]
fn model_runtime_flags_are_appended() {
    let c = Project::files(&[
        ("base.yaml", "name: m\nservices:\n  test:\n    image: foo\nmodels:\n  llm:\n    model: ai/smollm2\n    runtime_flags: ['--gpu', '--batch-size=32']\n"),
        ("override.yaml", "models:\n  llm:\n    model: ai/smollm2\n    runtime_flags: ['--fp16', '--batch-size=64']\n"),
    ]);
    let mut c = c.json_lossy();
    c.opts.files = vec!["base.yaml".into(), "override.yaml".into()];
    let c = c.config();
    assert_eq!(
        c["models"]["llm"]["runtime_flags"],
        json!(["--gpu", "--batch-size=32", "--fp16", "--batch-size=64"])
    );
}

#[test]
fn service_models_list_and_mapping_merge() {
    let mut p = Project::files(&[
        ("base.yaml", "name: m\nservices:\n  test:\n    image: foo\n    models: [llm, embedding-model]\nmodels:\n  llm: {model: a}\n  embedding-model: {model: b}\n  vision-model: {model: c}\n"),
        ("override.yaml", "services:\n  test:\n    models:\n      vision-model:\n        endpoint_var: VISION_URL\n        model_var: VISION_MODEL\n"),
    ])
    .json_lossy();
    p.opts.files = vec!["base.yaml".into(), "override.yaml".into()];
    let c = p.config();
    assert_eq!(
        c["services"]["test"]["models"],
        json!({"llm": null, "embedding-model": null, "vision-model": {"endpoint_var": "VISION_URL", "model_var": "VISION_MODEL"}})
    );
}

#[test]
fn volumes_append_and_devices_merge_by_container_path() {
    let c = merged(
        "services:\n  test:\n    image: foo\n    volumes:\n      - data_a:/a\n      - {type: bind, source: /b, target: /b}\n    devices: ['/dev/sda:/dev/sda', '/dev/sdb:/dev/sdb', '/dev/sdd:/dev/sdd']\nvolumes:\n  data_a:\n  data_c:\n",
        "services:\n  test:\n    volumes:\n      - data_c:/c\n    devices: ['/dev/nvme0n1p1:/dev/sda', '/dev/nvme1n1p1:/dev/sdb']\n",
    );
    let s = &c["services"]["test"];
    let targets: Vec<&Value> = s["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["target"])
        .collect();
    assert_eq!(targets, [&json!("/a"), &json!("/b"), &json!("/c")]);
    assert_eq!(
        s["devices"],
        json!([
            {"source": "/dev/nvme0n1p1", "target": "/dev/sda", "permissions": "rwm"},
            {"source": "/dev/nvme1n1p1", "target": "/dev/sdb", "permissions": "rwm"},
            {"source": "/dev/sdd", "target": "/dev/sdd", "permissions": "rwm"},
        ])
    );
}

#[test]
fn each_ulimit_is_replaced_whole() {
    let s = merged_test(
        "    ulimits:\n      nofile: {soft: 20000, hard: 40000}\n      nproc: 65535\n      locks: {soft: 20000, hard: 40000}\n",
        "    ulimits:\n      nofile: {soft: 10000, hard: 40000}\n      nproc: {soft: 1024, hard: 65535}\n      locks: 65535\n",
    );
    assert_eq!(
        s["ulimits"],
        json!({"nofile": {"soft": 10000, "hard": 40000}, "nproc": {"soft": 1024, "hard": 65535}, "locks": 65535})
    );
}

#[test]
fn service_networks_list_and_mapping_merge() {
    let c = merged(
        "services:\n  test:\n    image: foo\n    networks: [front-network, back-network, network1]\nnetworks:\n  front-network:\n  back-network:\n  network1:\n  network2:\n",
        "services:\n  test:\n    networks:\n      network1:\n        aliases: [alias1, alias2]\n      network2:\n        aliases: [alias1, alias3]\n",
    );
    assert_eq!(
        c["services"]["test"]["networks"],
        json!({
            "front-network": null, "back-network": null,
            "network1": {"aliases": ["alias1", "alias2"]},
            "network2": {"aliases": ["alias1", "alias3"]},
        })
    );
}

#[test]
fn top_level_networks_merge_ipam_by_subnet_and_labels_by_key() {
    let c = merged(
        concat!(
            "services:\n  test:\n    image: foo\nnetworks:\n  network1:\n    ipam:\n      config:\n",
            "        - subnet: 172.28.0.0/16\n          ip_range: 172.28.5.0/24\n          aux_addresses: {host1: 172.28.1.5, host2: 172.28.1.6, host3: 172.28.1.7}\n",
            "      options: {foo: bar, baz: '0'}\n",
            "    labels:\n      com.example.description: Financial transaction network\n      com.example.department: Finance\n",
        ),
        concat!(
            "networks:\n  network1:\n    ipam:\n      config:\n",
            "        - subnet: 172.28.0.0/16\n          ip_range: 172.28.5.1/24\n          aux_addresses: {host1: 172.28.1.5, host2: 172.28.1.4, host4: 172.28.1.10}\n",
            "        - subnet: 172.28.10.0/16\n          ip_range: 172.28.10.1/24\n",
            "      options: {bar: foo, baz: '0'}\n",
            "    labels: ['com.example.department-new=New']\n  network2:\n",
        ),
    );
    let n = &c["networks"]["network1"];
    assert_eq!(
        n["ipam"]["config"],
        json!([
            {"subnet": "172.28.0.0/16", "ip_range": "172.28.5.1/24",
             "aux_addresses": {"host1": "172.28.1.5", "host2": "172.28.1.4", "host3": "172.28.1.7", "host4": "172.28.1.10"}},
            {"subnet": "172.28.10.0/16", "ip_range": "172.28.10.1/24"},
        ])
    );
    assert_eq!(
        n["ipam"]["options"],
        json!({"foo": "bar", "baz": "0", "bar": "foo"})
    );
    assert_eq!(
        n["labels"],
        json!({"com.example.description": "Financial transaction network", "com.example.department": "Finance", "com.example.department-new": "New"})
    );
    assert_eq!(c["networks"]["network2"], json!({"name": "m_network2"}));
}

#[test]
fn key_value_lists_and_mappings_merge_by_key() {
    let s = merged_test(
        "    environment: {FOO: BAR, NUM: 1}\n    labels: [a=1, b=2]\n    annotations: {x: '1'}\n    sysctls: [net.core.somaxconn=1024]\n    build:\n      context: .\n      args: [A=1]\n",
        "    environment: [QIX=ZOT, NUM=2]\n    labels: {b: 3}\n    annotations: [y=2]\n    sysctls: {net.ipv4.tcp_syncookies: 0}\n    build:\n      args: {B: 2}\n",
    );
    assert_eq!(
        s["environment"],
        json!({"FOO": "BAR", "NUM": "2", "QIX": "ZOT"})
    );
    assert_eq!(s["labels"], json!({"a": "1", "b": "3"}));
    assert_eq!(s["annotations"], json!({"x": "1", "y": "2"}));
    assert_eq!(
        s["sysctls"],
        json!({"net.core.somaxconn": "1024", "net.ipv4.tcp_syncookies": "0"})
    );
    assert_eq!(s["build"]["args"], json!({"A": "1", "B": "2"}));
}

#[test]
fn extra_hosts_keep_every_distinct_address() {
    let s = merged_test(
        "    extra_hosts:\n      example.com: 1.2.3.4\n",
        "    extra_hosts:\n      - localhost=127.0.0.1\n      - example.com=1.2.3.4\n      - example.com=4.3.2.1\n",
    );
    assert_eq!(
        s["extra_hosts"],
        json!([
            "example.com=1.2.3.4",
            "example.com=4.3.2.1",
            "localhost=127.0.0.1"
        ])
    );
}

#[test]
fn string_or_list_attributes_merge_as_sets() {
    let s = merged_test(
        "    dns: [8.8.8.8, 10.10.10.10, 9.9.9.9]\n    dns_opt: [use-vc, no-tld-query]\n    dns_search: [dc1.example.com, dc2.example.com]\n    cap_add: [NET_ADMIN]\n    tmpfs: /run\n",
        "    dns: 9.9.9.9\n    dns_opt: [no-tld-query]\n    dns_search: dc2.example.com\n    cap_add: [NET_ADMIN, SYS_ADMIN]\n    tmpfs: [/tmp]\n",
    );
    assert_eq!(s["dns"], json!(["8.8.8.8", "10.10.10.10", "9.9.9.9"]));
    assert_eq!(s["dns_opt"], json!(["use-vc", "no-tld-query"]));
    assert_eq!(
        s["dns_search"],
        json!(["dc1.example.com", "dc2.example.com"])
    );
    assert_eq!(s["cap_add"], json!(["NET_ADMIN", "SYS_ADMIN"]));
    assert_eq!(s["tmpfs"], json!(["/run", "/tmp"]));
}

#[test]
fn env_files_merge_by_path() {
    let mut p = Project::files(&[
        (
            "base.yaml",
            "name: m\nservices:\n  test:\n    image: foo\n    env_file: [bar.env, foo.env]\n",
        ),
        (
            "override.yaml",
            "services:\n  test:\n    env_file:\n      - path: foo.env\n        required: false\n",
        ),
        ("bar.env", "A=1\n"),
    ]);
    p.opts.files = vec!["base.yaml".into(), "override.yaml".into()];
    let loaded = p.load();
    let files: Vec<(String, bool)> = loaded.project.services["test"]
        .env_files
        .iter()
        .map(|f| (f.path.rsplit('/').next().unwrap().to_string(), f.required))
        .collect();
    assert_eq!(
        files,
        [
            ("bar.env".to_string(), true),
            ("foo.env".to_string(), false)
        ]
    );
}

#[test]
fn ports_are_unique_as_written() {
    let s = merged_test(
        "    ports: ['9080:80', '9081:81', '5000', '6060:6060/udp']\n",
        "    ports: ['9080:80', '5000', '9080:6060/udp']\n",
    );
    let ports: Vec<String> = s["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}:{}/{}",
                p["published"].as_str().unwrap_or(""),
                p["target"],
                p["protocol"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        ports,
        [
            "9080:80/tcp",
            "9081:81/tcp",
            ":5000/tcp",
            "6060:6060/udp",
            "9080:6060/udp"
        ]
    );
}

#[test]
fn commands_are_replaced_and_depends_on_merges() {
    let c = merged(
        "services:\n  test:\n    image: foo\n    command: [a, b]\n    depends_on: [db]\n  db: {image: db}\n  cache: {image: c}\n",
        "services:\n  test:\n    command: c\n    depends_on:\n      cache: {condition: service_healthy}\n",
    );
    let s = &c["services"]["test"];
    assert_eq!(s["command"], json!(["c"]));
    assert_eq!(
        s["depends_on"],
        json!({"db": {"condition": "service_started", "required": true}, "cache": {"condition": "service_healthy", "required": true}})
    );
}

#[test]
fn build_string_over_mapping_replaces_the_context_only() {
    let p = {
        let mut p = Project::files(&[
            ("base.yaml", "name: m\nservices:\n  test:\n    build:\n      context: ./a\n      dockerfile: Other\n"),
            ("override.yaml", "services:\n  test:\n    build: ./b\n"),
        ]);
        p.opts.files = vec!["base.yaml".into(), "override.yaml".into()];
        p
    };
    let c = p.config();
    assert_eq!(
        c["services"]["test"]["build"],
        json!({"context": format!("{}/b", p.dir_str()), "dockerfile": "Other"})
    );
}

#[test]
fn reset_and_override_tags_in_a_later_file() {
    let s = merged_test(
        "    ports: ['8080:80']\n    environment: {A: '1', B: '2'}\n    command: [a]\n",
        "    ports: !reset []\n    environment: !override\n      C: '3'\n    command: !reset null\n",
    );
    assert!(s.get("ports").is_none());
    assert!(s.get("command").is_none());
    assert_eq!(s["environment"], json!({"C": "3"}));
}

#[test]
fn profiles_merge_as_a_set() {
    let mut p = Project::files(&[
        (
            "base.yaml",
            "name: m\nservices:\n  test:\n    image: foo\n    profiles: [profile1, profile2]\n",
        ),
        (
            "override.yaml",
            "services:\n  test:\n    profiles: [profile2, profile3]\n",
        ),
    ])
    .profiles(&["profile3"]);
    p.opts.files = vec!["base.yaml".into(), "override.yaml".into()];
    let c = p.config();
    assert_eq!(
        c["services"]["test"]["profiles"],
        json!(["profile1", "profile2", "profile3"])
    );
}

/// A two-character spec or a letter and a colon (`a:/a`) is a Windows drive
/// path in compose-go's `ParseVolume`: an anonymous volume at `a:/a`.
#[test]
fn a_one_letter_volume_name_reads_as_a_drive() {
    let c = merged(
        "services:\n  test:\n    image: foo\n    volumes: ['a:/a']\n",
        "services: {}\n",
    );
    assert_eq!(
        c["services"]["test"]["volumes"],
        json!([{"type": "volume", "target": "a:/a", "volume": {}}])
    );
}

/// compose-go `loader/override_test.go`: overrides across files.
#[test]
fn override_files_refine_networks_build_depends_on_and_volumes() {
    let c = merged(
        "services:\n  test:\n    image: test\n    networks: [test_network]\nnetworks:\n  test_network: {}\n",
        "services:\n  test:\n    image: test\n    networks:\n      test_network:\n        aliases: [alias1, alias2]\n",
    );
    assert_eq!(
        c["services"]["test"]["networks"],
        json!({"test_network": {"aliases": ["alias1", "alias2"]}})
    );
    let mut p = Project::files(&[
        ("base.yaml", "name: m\nservices:\n  test:\n    build: .\n"),
        (
            "override.yaml",
            "services:\n  test:\n    build:\n      context: src\n",
        ),
    ]);
    p.opts.files = vec!["base.yaml".into(), "override.yaml".into()];
    let c = p.config();
    assert_eq!(
        c["services"]["test"]["build"]["context"],
        json!(format!("{}/src", p.dir_str()))
    );
    let s = merged_test(
        "    depends_on: [foo]\n  foo:\n    image: foo\n",
        "    depends_on:\n      foo:\n        condition: service_healthy\n        required: false\n",
    );
    assert_eq!(
        s["depends_on"],
        json!({"foo": {"condition": "service_healthy", "required": false}})
    );
    // An override that alone would not satisfy the schema (no
    // `condition`) is fine once merged.
    let s = merged_test(
        "    depends_on:\n      foo:\n        condition: service_healthy\n  foo:\n    image: foo\n",
        "    depends_on:\n      foo:\n        required: false\n",
    );
    assert_eq!(
        s["depends_on"],
        json!({"foo": {"condition": "service_healthy", "required": false}})
    );
    let s = merged_test(
        "    volumes: ['/src:/src']\n",
        "    volumes: ['/src:/src']\n",
    );
    assert_eq!(s["volumes"].as_array().map(Vec::len), Some(1));
}

/// docker/compose#13298: `!override` in a file that is itself extended.
#[test]
fn override_tags_through_a_chain_of_extended_files() {
    let c = Project::files(&[
        ("base.yaml", "services:\n  base:\n    volumes:\n      - /foo:/foo\n    networks:\n      - foo\n"),
        ("override.yaml", "services:\n  override:\n    extends:\n      file: ./base.yaml\n      service: base\n    volumes: !override\n      - /bar:/bar\n    networks: !override\n      - bar\n"),
        ("compose.yaml", "name: test\nservices:\n  test:\n    image: test\n    extends:\n      file: ./override.yaml\n      service: override\n    volumes:\n      - /zot:/zot\n    networks: !override\n      - zot\nnetworks:\n  zot: {}\n"),
    ])
    .config();
    let s = &c["services"]["test"];
    assert_eq!(
        s["volumes"],
        json!([
            {"type": "bind", "source": "/bar", "target": "/bar", "bind": {}},
            {"type": "bind", "source": "/zot", "target": "/zot", "bind": {}},
        ])
    );
    assert_eq!(s["networks"], json!({"zot": null}));
}

/// docker/compose#13346: `!override` on a service that is extended again.
#[test]
fn override_tags_survive_extending_the_extending_service() {
    let c = Project::new(concat!(
        "name: t\nservices:\n",
        "  depend_base:\n    image: nginx\n    ports: ['8092:80']\n",
        "  depend_one:\n    image: nginx\n    ports: ['8091:80']\n",
        "  depend_two:\n    extends:\n      service: depend_one\n",
        "  main_one:\n    image: nginx\n    depends_on: [depend_one]\n    ports: ['8090:80']\n",
        "  main_two:\n    extends: main_one\n    depends_on: !override\n      - depend_two\n",
        "  main:\n    extends:\n      service: main_two\n    depends_on:\n      - depend_base\n",
    ))
    .config();
    assert_eq!(
        c["services"]["main"]["depends_on"],
        json!({
            "depend_two": {"condition": "service_started", "required": true},
            "depend_base": {"condition": "service_started", "required": true},
        })
    );
}

/// Spec 13-merge.md "Unique resources": an entry with the same target
/// replaces the earlier one.
#[test]
fn a_volume_with_the_same_target_replaces_the_earlier_one() {
    let c = merged(
        "services:\n  foo:\n    image: x\n    volumes: ['foo:/work']\nvolumes:\n  foo:\n  bar:\n",
        "services:\n  foo:\n    volumes: ['bar:/work']\n",
    );
    assert_eq!(
        c["services"]["foo"]["volumes"],
        json!([{"type": "volume", "source": "bar", "target": "/work", "volume": {}}])
    );
}

/// Spec 13-merge.md "Reset value" and "Replace value", with the override
/// file found next to `compose.yaml` (`compose.override.yaml`).
#[test]
fn the_spec_reset_and_replace_examples() {
    let base = "name: m\nservices:\n  app:\n    image: myapp\n    ports:\n      - '8080:80'\n    environment:\n      FOO: BAR\n";
    let c = Project::files(&[
        ("compose.yaml", base),
        ("compose.override.yaml", "services:\n  app:\n    image: myapp\n    ports: !reset []\n    environment:\n      FOO: !reset null\n"),
    ])
    .config();
    let app = &c["services"]["app"];
    assert_eq!(app["image"], json!("myapp"));
    assert!(app.get("ports").is_none());
    assert!(app.get("environment").is_none());
    let c = Project::files(&[
        ("compose.yaml", base),
        (
            "compose.override.yaml",
            "services:\n  app:\n    ports: !override\n      - '8443:443'\n",
        ),
    ])
    .config();
    assert_eq!(
        c["services"]["app"]["ports"],
        json!([{"mode": "ingress", "target": 443, "published": "8443", "protocol": "tcp"}])
    );
}
