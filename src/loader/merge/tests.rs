//! One test per merge rule, after compose-go's `override/*_test.go`.

use super::*;
use crate::loader::yaml;
use std::path::Path;
use std::sync::Arc;

fn doc(file: &str, text: &str) -> Node {
    yaml::parse_str(text, &Arc::from(Path::new(file))).expect("test YAML parses")
}

fn merged(base: &str, over: &str) -> Node {
    let mut n = merge(doc("base.yaml", base), doc("over.yaml", over)).expect("merge succeeds");
    enforce_unicity(&mut n).expect("unicity holds");
    n
}

/// The message starts with `file:line:` (any column) and then says `what`.
fn assert_at(text: &str, file_line: &str, what: &str) {
    assert!(text.starts_with(file_line), "{text}");
    assert!(text.contains(&format!(": {what}")), "{text}");
}

fn assert_merge(base: &str, over: &str, expected: &str) {
    assert_eq!(
        merged(base, over).to_json(),
        doc("expected.yaml", expected).to_json()
    );
}

#[test]
fn scalars_later_file_wins() {
    assert_merge(
        "services: {test: {image: foo, scale: 1}}",
        "services: {test: {image: bar, scale: 2}}",
        "services: {test: {image: bar, scale: 2}}",
    );
}

#[test]
fn mappings_merge_recursively() {
    assert_merge(
        "services: {foo: {key1: value1, key2: value2}}",
        "services: {foo: {key2: VALUE, key3: value3}}",
        "services: {foo: {key1: value1, key2: VALUE, key3: value3}}",
    );
}

#[test]
fn plain_sequences_append() {
    assert_merge(
        "services: {foo: {group_add: [a]}}",
        "services: {foo: {group_add: [b]}}",
        "services: {foo: {group_add: [a, b]}}",
    );
}

#[test]
fn null_in_later_file_keeps_earlier_value() {
    assert_merge(
        "services: {foo: {image: a, networks: {front: {aliases: [x]}}}}",
        "services: {foo: {networks: {front: null}}}",
        "services: {foo: {image: a, networks: {front: {aliases: [x]}}}}",
    );
}

#[test]
fn shell_commands_are_replaced() {
    assert_merge(
        "services: {foo: {command: [echo, foo], entrypoint: [a, b], healthcheck: {test: [CMD, a], retries: 3}}}",
        "services: {foo: {command: [echo, bar], entrypoint: [c], healthcheck: {test: [CMD, b]}}}",
        "services: {foo: {command: [echo, bar], entrypoint: [c], healthcheck: {test: [CMD, b], retries: 3}}}",
    );
}

#[test]
fn environment_lists_fold_by_key() {
    assert_merge(
        "services: {t: {environment: [FOO=BAR, QIX=1]}}",
        "services: {t: {environment: [FOO=BAZ, NEW]}}",
        "services: {t: {environment: [FOO=BAZ, QIX=1, NEW]}}",
    );
}

#[test]
fn environment_mappings_merge_and_null_entry_replaces() {
    assert_merge(
        "services: {t: {environment: {FOO: 1, BAR: x}}}",
        "services: {t: {environment: {FOO: 3, BAR: null}}}",
        "services: {t: {environment: {FOO: 3, BAR: null}}}",
    );
}

#[test]
fn environment_mapping_and_list_mix() {
    assert_merge(
        "services: {t: {image: foo, environment: {FOO: BAR, N: 1, E: null}}}",
        "services: {t: {environment: [QIX=ZOT, N=2]}}",
        "services: {t: {image: foo, environment: [FOO=BAR, N=2, E, QIX=ZOT]}}",
    );
}

#[test]
fn labels_annotations_sysctls_build_args_follow_key_value_rule() {
    assert_merge(
        "services: {t: {labels: [a=1], annotations: {x: 1}, sysctls: [s=1], build: {args: {A: 1}, labels: [l=1]}, deploy: {labels: {d: 1}}}}",
        "services: {t: {labels: {a: 2}, annotations: [x=2, y=3], sysctls: {s: 2}, build: {args: [A=2], labels: {l: 2}}, deploy: {labels: [d=2]}}}",
        "services: {t: {labels: [a=2], annotations: [x=2, y=3], sysctls: [s=2], build: {args: [A=2], labels: [l=2]}, deploy: {labels: [d=2]}}}",
    );
}

#[test]
fn network_and_volume_labels_merge() {
    assert_merge(
        "networks: {n: {labels: {a: x}}}\nvolumes: {v: {labels: [b=1]}}",
        "networks: {n: {labels: [c=1]}}\nvolumes: {v: {labels: [c=2]}}",
        "networks: {n: {labels: [a=x, c=1]}}\nvolumes: {v: {labels: [b=1, c=2]}}",
    );
}

#[test]
fn dns_tmpfs_and_env_file_strings_become_lists() {
    assert_merge(
        "services: {t: {dns: 1.1.1.1, tmpfs: /a, env_file: [bar.env, foo.env]}}",
        "services: {t: {dns: [8.8.8.8, 1.1.1.1], tmpfs: /b, env_file: foo.env}}",
        "services: {t: {dns: [1.1.1.1, 8.8.8.8], tmpfs: [/a, /b], env_file: [bar.env, foo.env]}}",
    );
}

#[test]
fn env_file_string_and_mapping_are_the_same_entry() {
    assert_merge(
        "services: {t: {env_file: [bar.env, foo.env]}}",
        "services: {t: {env_file: [{path: foo.env, required: true}]}}",
        "services: {t: {env_file: [bar.env, {path: foo.env, required: true}]}}",
    );
}

#[test]
fn extra_hosts_keep_every_distinct_address() {
    assert_merge(
        "services: {t: {extra_hosts: {example.com: 1.2.3.4}}}",
        "services: {t: {extra_hosts: [localhost=127.0.0.1, example.com=1.2.3.4, example.com=4.3.2.1]}}",
        "services: {t: {extra_hosts: [example.com=1.2.3.4, localhost=127.0.0.1, example.com=4.3.2.1]}}",
    );
}

#[test]
fn build_string_is_short_for_context() {
    assert_merge(
        "services: {t: {build: ./dir}}",
        "services: {t: {build: {dockerfile: Other, args: [A=1]}}}",
        "services: {t: {build: {context: ./dir, dockerfile: Other, args: [A=1]}}}",
    );
}

#[test]
fn depends_on_list_is_short_for_mapping() {
    assert_merge(
        "services: {t: {depends_on: [db, cache]}}",
        "services: {t: {depends_on: {db: {condition: service_healthy}}}}",
        "services: {t: {depends_on: {db: {condition: service_healthy, required: true}, cache: {condition: service_started, required: true}}}}",
    );
}

#[test]
fn service_networks_and_models_list_is_short_for_mapping() {
    assert_merge(
        "services: {t: {networks: [front, back], models: [m1]}}",
        "services: {t: {networks: {back: {aliases: [b]}, extra: null}, models: {m1: {endpoint_var: URL}}}}",
        "services: {t: {networks: {front: null, back: {aliases: [b]}, extra: null}, models: {m1: {endpoint_var: URL}}}}",
    );
}

#[test]
fn logging_options_merge_only_for_the_same_driver() {
    assert_merge(
        "services: {t: {logging: {driver: json-file, options: {max-size: 10m}}}}",
        "services: {t: {logging: {driver: json-file, options: {max-file: 3}}}}",
        "services: {t: {logging: {driver: json-file, options: {max-size: 10m, max-file: 3}}}}",
    );
    assert_merge(
        "services: {t: {logging: {driver: json-file, options: {max-size: 10m}}}}",
        "services: {t: {logging: {driver: syslog, options: {tag: x}}}}",
        "services: {t: {logging: {driver: syslog, options: {tag: x}}}}",
    );
    assert_merge(
        "services: {t: {logging: {options: {max-size: 10m}}}}",
        "services: {t: {logging: {options: {max-file: 3}}}}",
        "services: {t: {logging: {options: {max-size: 10m, max-file: 3}}}}",
    );
}

#[test]
fn each_ulimit_is_replaced_whole() {
    assert_merge(
        "services: {t: {ulimits: {nofile: {soft: 20000, hard: 40000}, nproc: 65535, core: 1}}}",
        "services: {t: {ulimits: {nofile: {soft: 10000}, nproc: {soft: 65535}}}}",
        "services: {t: {ulimits: {nofile: {soft: 10000}, nproc: {soft: 65535}, core: 1}}}",
    );
}

#[test]
fn ipam_config_entries_merge_by_subnet() {
    assert_merge(
        "networks: {n: {ipam: {config: [{subnet: 172.28.0.0/16, gateway: 172.28.5.254, aux_addresses: {h1: a, h3: c}}]}}}",
        "networks: {n: {ipam: {config: [{subnet: 172.28.0.0/16, ip_range: 172.28.5.1/24, aux_addresses: {h1: b}}, {subnet: 10.0.0.0/8}]}}}",
        "networks: {n: {ipam: {config: [{subnet: 172.28.0.0/16, gateway: 172.28.5.254, ip_range: 172.28.5.1/24, aux_addresses: {h1: b, h3: c}}, {subnet: 10.0.0.0/8}]}}}",
    );
}

#[test]
fn volumes_are_unique_by_target() {
    assert_merge(
        "services: {t: {volumes: ['foo:/work', {type: bind, source: ./a, target: /a}, /anon]}}",
        "services: {t: {volumes: ['bar:/work', './b:/a:ro', /anon]}}",
        "services: {t: {volumes: ['bar:/work', './b:/a:ro', /anon]}}",
    );
}

#[test]
fn ports_are_unique_as_written() {
    assert_merge(
        "services: {t: {ports: ['8080:80', 9000, {target: 80, host_ip: 127.0.0.1, published: '8080'}]}}",
        "services: {t: {ports: ['8080:80', '8443:443', 9000, {target: 80, host_ip: 127.0.0.1, published: '8080', protocol: tcp, mode: host}, {target: 80, published: '8080'}]}}",
        "services: {t: {ports: ['8080:80', 9000, {target: 80, host_ip: 127.0.0.1, published: '8080', protocol: tcp, mode: host}, '8443:443', {target: 80, published: '8080'}]}}",
    );
}

#[test]
fn secrets_and_configs_are_unique_by_target() {
    assert_merge(
        "services: {t: {secrets: [a, {source: b, target: /x}], configs: [c]}}",
        "services: {t: {secrets: [{source: a, mode: 0400}, {source: z, target: /x}], configs: [{source: c, target: /c}]}}",
        "services: {t: {secrets: [{source: a, mode: 0400}, {source: z, target: /x}], configs: [{source: c, target: /c}]}}",
    );
}

#[test]
fn devices_are_unique_by_container_path() {
    assert_merge(
        "services: {t: {devices: ['/dev/sda:/dev/sda', '/dev/sdd:/dev/sdd']}}",
        "services: {t: {devices: ['/dev/nvme0n1p1:/dev/sda', {source: /dev/x, target: /dev/sdd}]}}",
        "services: {t: {devices: ['/dev/nvme0n1p1:/dev/sda', {source: /dev/x, target: /dev/sdd}]}}",
    );
}

#[test]
fn expose_cap_add_profiles_dns_are_unique() {
    assert_merge(
        "services: {t: {expose: [80, '90'], cap_add: [NET_ADMIN], profiles: [a], dns_search: [x]}}",
        "services: {t: {expose: ['80', 90], cap_add: [NET_ADMIN, SYS_TIME], profiles: [a, b], dns_search: [x]}}",
        "services: {t: {expose: ['80', 90], cap_add: [NET_ADMIN, SYS_TIME], profiles: [a, b], dns_search: [x]}}",
    );
}

#[test]
fn network_aliases_are_unique() {
    assert_merge(
        "services: {t: {networks: {n: {aliases: [a, b]}}}}",
        "services: {t: {networks: {n: {aliases: [b, c]}}}}",
        "services: {t: {networks: {n: {aliases: [a, b, c]}}}}",
    );
}

#[test]
fn reset_removes_inherited_values() {
    // 13-merge.md "Reset value".
    assert_merge(
        "services: {app: {image: myapp, ports: ['8080:80'], environment: {FOO: BAR}}}",
        "services:\n  app:\n    image: myapp\n    ports: !reset []\n    environment:\n      FOO: !reset null\n",
        "services: {app: {image: myapp, environment: {}}}",
    );
}

#[test]
fn reset_of_a_key_absent_before_leaves_nothing() {
    assert_merge(
        "services: {app: {image: a}}",
        "services:\n  app:\n    command: !reset null\n    ports:\n      - !reset '80:80'\n      - '81:81'\n",
        "services: {app: {image: a, ports: ['81:81']}}",
    );
}

#[test]
fn reset_of_a_mapping_entry_over_a_list() {
    assert_merge(
        "services: {app: {environment: [FOO=BAR, KEEP=1]}}",
        "services:\n  app:\n    environment:\n      FOO: !reset null\n      NEW: 2\n",
        "services: {app: {environment: [KEEP=1, NEW=2]}}",
    );
}

#[test]
fn override_replaces_without_merging() {
    // 13-merge.md "Replace value".
    assert_merge(
        "services: {app: {image: myapp, ports: ['8080:80'], build: {context: ., args: [A=1]}}}",
        "services:\n  app:\n    ports: !override\n      - '8443:443'\n    build: !override\n      context: other\n",
        "services: {app: {image: myapp, ports: ['8443:443'], build: {context: other}}}",
    );
}

#[test]
fn merge_result_carries_no_tags() {
    let n = merged(
        "services: {a: {image: x}}",
        "services:\n  a:\n    ports: !override ['1:1']\n",
    );
    let ports = n
        .get("services")
        .and_then(|s| s.get("a"))
        .and_then(|a| a.get("ports"));
    assert_eq!(ports.map(|p| p.tag), Some(None));
}

#[test]
fn merge_resource_keeps_tags_for_the_next_merge() {
    let base = doc("base.yaml", "image: a\ncommand: [x]\n");
    let over = doc(
        "over.yaml",
        "command: !reset null\nports: !override ['1:1']\n",
    );
    let svc = merge_resource("services", "web", base, over).unwrap();
    assert_eq!(
        svc.get("command").map(|c| c.tag),
        Some(Some(MergeTag::Reset))
    );
    // The extended service, merged over an earlier file, still resets there.
    let earlier = doc(
        "a.yaml",
        "services: {web: {image: z, command: [y], ports: ['2:2']}}",
    );
    let mut later = Mapping::new();
    later.insert("web".into(), svc);
    let mut top = Mapping::new();
    top.insert("services".into(), Node::map(later));
    let out = merge(earlier, Node::map(top)).unwrap();
    let web = out.get("services").and_then(|s| s.get("web")).unwrap();
    assert!(web.get("command").is_none());
    assert_eq!(
        web.get("ports").unwrap().to_json(),
        serde_json::json!(["1:1"])
    );
}

#[test]
fn incompatible_types_name_both_places() {
    let err = merge(
        doc("base.yaml", "services:\n  web:\n    volumes: [a]\n"),
        doc("over.yaml", "services:\n  web:\n    volumes:\n      x: y\n"),
    )
    .unwrap_err();
    let text = err.to_string();
    assert_at(
        &text,
        "over.yaml:4:",
        "services.web.volumes: cannot merge a mapping into a list defined at base.yaml:3:14",
    );
}

#[test]
fn key_value_entry_cannot_be_a_mapping() {
    let err = merge(
        doc("base.yaml", "services: {web: {labels: [a=1]}}"),
        doc(
            "over.yaml",
            "services:\n  web:\n    labels:\n      b:\n        c: d\n",
        ),
    )
    .unwrap_err();
    assert_at(
        &err.to_string(),
        "over.yaml:5:",
        "services.web.labels.b: a mapping cannot",
    );
}

#[test]
fn unicity_reports_a_port_without_target() {
    let mut n = doc(
        "a.yaml",
        "services:\n  web:\n    ports:\n      - published: 80\n",
    );
    let err = enforce_unicity(&mut n).unwrap_err();
    assert_at(
        &err.to_string(),
        "a.yaml:4:",
        "services.web.ports[0]: this port has no `target`",
    );
}

#[test]
fn unicity_reports_a_non_string_label_entry() {
    let mut n = doc("a.yaml", "services:\n  web:\n    labels:\n      - [a]\n");
    let err = enforce_unicity(&mut n).unwrap_err();
    assert_at(
        &err.to_string(),
        "a.yaml:4:",
        "services.web.labels[0]: expected a string, found a list",
    );
}
