//! Plain service attributes (compose-go `loader/tests/*_test.go`, one file
//! per attribute): each is read in its short and long forms and printed as
//! docker compose prints it.

use super::support::{assert_absent, assert_has, config, service, Project};
use compose::model::service::PullPolicy;
use compose::model::Duration;
use serde_json::json;

/// A one-service project `foo` with `body` (indented service attributes).
fn foo(body: &str) -> serde_json::Value {
    service(
        &format!("name: test\nservices:\n  foo:\n    image: alpine\n{body}"),
        "foo",
    )
}

fn foo_json_lossy(body: &str) -> serde_json::Value {
    let c = Project::new(&format!(
        "name: test\nservices:\n  foo:\n    image: alpine\n{body}"
    ))
    .json_lossy()
    .config();
    c["services"]["foo"].clone()
}

#[test]
fn annotations_list_and_mapping_read_the_same() {
    let c = config(
        "name: test\nservices:\n  list:\n    image: alpine\n    annotations: [com.example.foo=bar]\n  map:\n    image: alpine\n    annotations: {com.example.foo: bar}\n",
    );
    for s in ["list", "map"] {
        assert_eq!(
            c["services"][s]["annotations"],
            json!({"com.example.foo": "bar"})
        );
    }
}

#[test]
fn attach_is_kept_when_set_and_absent_otherwise() {
    let c = config(
        "name: test\nservices:\n  attached: {image: alpine, attach: true}\n  detached: {image: alpine, attach: false}\n  default: {image: alpine}\n",
    );
    assert_eq!(c["services"]["attached"]["attach"], json!(true));
    assert_eq!(c["services"]["detached"]["attach"], json!(false));
    assert_absent(&c["services"]["default"], "attach");
}

#[test]
fn blkio_config_rates_are_byte_sizes() {
    // compose-go's blkio device types carry no JSON tags: `config --format
    // json` prints `Path`/`Rate`, which the schema then refuses.
    let s = foo_json_lossy(
        "    blkio_config:\n      weight: 300\n      weight_device: [{path: /dev/sda, weight: 400}]\n      device_read_bps: [{path: /dev/sda, rate: 1024k}]\n      device_write_bps: [{path: /dev/sda, rate: 1024}]\n      device_read_iops: [{path: /dev/sda, rate: 100}]\n      device_write_iops: [{path: /dev/sda, rate: 200}]\n",
    );
    assert_has(
        &s["blkio_config"],
        &json!({
            "weight": 300,
            "weight_device": [{"path": "/dev/sda", "weight": 400}],
            "device_read_bps": [{"path": "/dev/sda", "rate": "1048576"}],
            "device_write_bps": [{"path": "/dev/sda", "rate": "1024"}],
            "device_read_iops": [{"path": "/dev/sda", "rate": "100"}],
            "device_write_iops": [{"path": "/dev/sda", "rate": "200"}],
        }),
    );
}

#[test]
fn capabilities_cgroup_and_simple_strings_pass_through() {
    let s = foo(concat!(
        "    cap_add: [ALL]\n    cap_drop: [NET_ADMIN, SYS_ADMIN]\n",
        "    cgroup_parent: m-executor-abcd\n    cgroup: private\n",
        "    container_name: my-web-container\n    domainname: foo.com\n",
        "    hostname: foo\n    ipc: host\n    uts: host\n    pid: host\n",
        "    isolation: process\n    mac_address: '02:42:ac:11:65:43'\n",
        "    network_mode: 'container:0cfeab0f748b'\n    platform: linux/amd64\n",
        "    restart: always\n    runtime: nvidia\n    user: someone\n",
        "    userns_mode: host\n    working_dir: /code\n    stop_signal: SIGUSR1\n",
        "    pull_policy: always\n",
    ));
    assert_has(
        &s,
        &json!({
            "cap_add": ["ALL"], "cap_drop": ["NET_ADMIN", "SYS_ADMIN"],
            "cgroup_parent": "m-executor-abcd", "cgroup": "private",
            "container_name": "my-web-container", "domainname": "foo.com",
            "hostname": "foo", "ipc": "host", "uts": "host", "pid": "host",
            "isolation": "process", "mac_address": "02:42:ac:11:65:43",
            "network_mode": "container:0cfeab0f748b", "platform": "linux/amd64",
            "restart": "always", "runtime": "nvidia", "user": "someone",
            "userns_mode": "host", "working_dir": "/code", "stop_signal": "SIGUSR1",
            "pull_policy": "always",
        }),
    );
}

#[test]
fn command_and_entrypoint_strings_are_split_like_a_shell() {
    let s =
        foo("    command: bundle exec thin -p 3000\n    entrypoint: /code/entrypoint.sh -p 3000\n");
    assert_eq!(
        s["command"],
        json!(["bundle", "exec", "thin", "-p", "3000"])
    );
    assert_eq!(
        s["entrypoint"],
        json!(["/code/entrypoint.sh", "-p", "3000"])
    );
    let s =
        foo("    command: [bundle, exec]\n    entrypoint: ['/code/entrypoint.sh', '-p', '3000']\n");
    assert_eq!(s["command"], json!(["bundle", "exec"]));
    assert_eq!(
        s["entrypoint"],
        json!(["/code/entrypoint.sh", "-p", "3000"])
    );
}

#[test]
fn cpu_fields_are_numbers() {
    let s = foo(concat!(
        "    cpu_count: 4\n    cpu_percent: 50\n    cpu_shares: 1024\n    cpu_quota: 50000\n",
        "    cpu_period: 100000\n    cpu_rt_period: 1000000\n    cpu_rt_runtime: 950000\n",
        "    cpus: 1.5\n    cpuset: '0,1'\n",
    ));
    assert_has(
        &s,
        &json!({
            "cpu_count": 4, "cpu_percent": 50, "cpu_shares": 1024, "cpu_quota": 50000,
            "cpu_period": 100000, "cpu_rt_period": 1000000, "cpu_rt_runtime": 950000,
            "cpus": 1.5, "cpuset": "0,1",
        }),
    );
}

#[test]
fn memory_fields_are_byte_counts() {
    let s = foo(
        "    mem_limit: 512m\n    mem_reservation: 256m\n    mem_swappiness: 60\n    memswap_limit: 1g\n    shm_size: 64m\n",
    );
    assert_has(
        &s,
        &json!({
            "mem_limit": "536870912", "mem_reservation": "268435456",
            "mem_swappiness": "60", "memswap_limit": "1073741824", "shm_size": "67108864",
        }),
    );
}

#[test]
fn credential_spec_config_is_kept() {
    let s = foo("    credential_spec:\n      config: 0bt9dmxjvjiqermk6xrop3ekq\n");
    assert_eq!(
        s["credential_spec"],
        json!({"config": "0bt9dmxjvjiqermk6xrop3ekq"})
    );
}

#[test]
fn device_cgroup_rules_dns_opt_and_lists_pass_through() {
    let s = foo(concat!(
        "    device_cgroup_rules: ['c 1:3 mr', 'a 7:* rmw']\n",
        "    dns_opt: [use-vc, no-tld-query]\n",
        "    external_links: [redis_1, 'project_db_1:mysql', 'project_db_1:postgresql']\n",
        "    group_add: [mail, '0']\n",
        "    security_opt: ['label=level:s0:c100,c200', 'label=type:svirt_apache_t']\n",
    ));
    assert_has(
        &s,
        &json!({
            "device_cgroup_rules": ["c 1:3 mr", "a 7:* rmw"],
            "dns_opt": ["use-vc", "no-tld-query"],
            "external_links": ["redis_1", "project_db_1:mysql", "project_db_1:postgresql"],
            "group_add": ["mail", "0"],
            "security_opt": ["label=level:s0:c100,c200", "label=type:svirt_apache_t"],
        }),
    );
}

#[test]
fn devices_short_form_defaults_target_and_permissions() {
    let s = service(
        "name: test\nservices:\n  test:\n    image: alpine\n    devices:\n      - /dev/source:/dev/target:permissions\n      - /dev/single\n",
        "test",
    );
    assert_eq!(
        s["devices"],
        json!([
            {"source": "/dev/source", "target": "/dev/target", "permissions": "permissions"},
            {"source": "/dev/single", "target": "/dev/single", "permissions": "rwm"},
        ])
    );
}

#[test]
fn devices_long_form_is_kept() {
    let s = foo("    devices:\n      - {source: /dev/source, target: /dev/target, permissions: permissions}\n");
    assert_eq!(
        s["devices"],
        json!([{"source": "/dev/source", "target": "/dev/target", "permissions": "permissions"}])
    );
}

#[test]
fn dns_and_dns_search_accept_a_string_or_a_list() {
    let c = config(concat!(
        "name: test\nservices:\n",
        "  list: {image: alpine, dns: [8.8.8.8, 9.9.9.9], dns_search: [dc1.example.com, dc2.example.com]}\n",
        "  string: {image: alpine, dns: 8.8.8.8, dns_search: example.com}\n",
    ));
    assert_eq!(c["services"]["list"]["dns"], json!(["8.8.8.8", "9.9.9.9"]));
    assert_eq!(c["services"]["string"]["dns"], json!(["8.8.8.8"]));
    assert_eq!(
        c["services"]["list"]["dns_search"],
        json!(["dc1.example.com", "dc2.example.com"])
    );
    assert_eq!(
        c["services"]["string"]["dns_search"],
        json!(["example.com"])
    );
}

#[test]
fn dns_set_from_an_unset_variable_is_omitted() {
    let s = foo("    dns: ${UNSET_VAR}\n");
    assert_absent(&s, "dns");
}

#[test]
fn env_file_entries_keep_path_required_and_format() {
    let p = Project::new(
        "name: test\nservices:\n  foo:\n    image: alpine\n    env_file:\n      - path: .env\n        required: false\n        format: raw\n      - path: .env.local\n        required: false\n",
    );
    let loaded = p.load();
    let files = &loaded.project.services["foo"].env_files;
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].format, "raw");
    assert!(!files[0].required);
    assert_eq!(files[1].path, format!("{}/.env.local", p.dir_str()));
}

#[test]
fn expose_reads_strings_and_numbers_as_strings() {
    let s = foo("    expose: ['3000', 8000]\n");
    assert_eq!(s["expose"], json!(["3000", "8000"]));
}

#[test]
fn extensions_at_top_level_and_in_services_are_kept() {
    let c = config(
        "name: test\nservices:\n  foo:\n    image: alpine\n    x-bar: baz\n    x-foo: bar\nx-foo: bar\nx-bar: baz\nx-nested:\n  foo: bar\n  bar: baz\n",
    );
    assert_eq!(c["x-foo"], json!("bar"));
    assert_eq!(c["x-bar"], json!("baz"));
    assert_eq!(c["x-nested"], json!({"foo": "bar", "bar": "baz"}));
    assert_eq!(c["services"]["foo"]["x-bar"], json!("baz"));
    assert_eq!(c["services"]["foo"]["x-foo"], json!("bar"));
}

/// compose-go's `HostsList` prints sorted `host=ip` entries, one per address.
#[test]
fn extra_hosts_mapping_list_repeated_and_long_forms() {
    let s = foo("    extra_hosts:\n      zulu: '162.242.195.82'\n      alpha: '50.31.209.229'\n");
    assert_eq!(
        s["extra_hosts"],
        json!(["alpha=50.31.209.229", "zulu=162.242.195.82"])
    );
    let s = foo("    extra_hosts: ['alpha:50.31.209.229', 'zulu:127.0.0.2', 'zulu:ff02::1']\n");
    assert_eq!(
        s["extra_hosts"],
        json!(["alpha=50.31.209.229", "zulu=127.0.0.2", "zulu=ff02::1"])
    );
    let s = foo("    extra_hosts: ['myhost=0.0.0.1,0.0.0.2']\n");
    assert_eq!(
        s["extra_hosts"],
        json!(["myhost=0.0.0.1", "myhost=0.0.0.2"])
    );
    let s = foo("    extra_hosts:\n      myhost: ['0.0.0.1', '0.0.0.2']\n");
    assert_eq!(
        s["extra_hosts"],
        json!(["myhost=0.0.0.1", "myhost=0.0.0.2"])
    );
}

#[test]
fn gpus_default_count_is_all() {
    let s = foo(
        "    gpus:\n      - driver: nvidia\n      - driver: 3dfx\n        device_ids: [voodoo2]\n        capabilities: [directX]\n",
    );
    assert_eq!(
        s["gpus"],
        json!([
            {"driver": "nvidia", "count": -1},
            {"capabilities": ["directX"], "driver": "3dfx", "device_ids": ["voodoo2"]},
        ])
    );
    let s = foo("    gpus: all\n");
    assert_eq!(s["gpus"], json!([{"count": -1}]));
}

#[test]
fn healthcheck_string_test_is_cmd_shell_and_durations_are_printed() {
    let s = foo(
        "    healthcheck:\n      test: echo \"hello world\"\n      interval: 10s\n      timeout: 1s\n      retries: 5\n      start_period: 15s\n      start_interval: 5s\n",
    );
    assert_eq!(
        s["healthcheck"],
        json!({
            "test": ["CMD-SHELL", "echo \"hello world\""],
            "timeout": "1s", "interval": "10s", "retries": 5,
            "start_period": "15s", "start_interval": "5s",
        })
    );
}

#[test]
fn init_is_kept_when_set_and_absent_otherwise() {
    let c = config(
        "name: test\nservices:\n  with-init: {image: alpine, init: true}\n  without-init: {image: alpine, init: false}\n  default: {image: alpine}\n",
    );
    assert_eq!(c["services"]["with-init"]["init"], json!(true));
    assert_eq!(c["services"]["without-init"]["init"], json!(false));
    assert_absent(&c["services"]["default"], "init");
}

#[test]
fn labels_mapping_and_list_forms_stringify_values() {
    let expected = json!({
        "com.example.description": "Accounting webapp",
        "com.example.number": "42",
        "com.example.empty-label": "",
    });
    let s = foo("    labels:\n      com.example.description: Accounting webapp\n      com.example.number: 42\n      com.example.empty-label:\n");
    assert_eq!(s["labels"], expected);
    let s = foo("    labels:\n      - com.example.description=Accounting webapp\n      - com.example.number=42\n      - com.example.empty-label\n");
    assert_eq!(s["labels"], expected);
}

#[test]
fn links_and_volumes_from_are_kept() {
    let c = config(
        "name: test\nservices:\n  foo:\n    image: alpine\n    links: [db, 'db:database', redis]\n    volumes_from: [bar, 'bar:ro']\n  db: {image: postgres}\n  redis: {image: redis}\n  bar: {image: alpine}\n",
    );
    assert_eq!(
        c["services"]["foo"]["links"],
        json!(["db", "db:database", "redis"])
    );
    assert_eq!(
        c["services"]["foo"]["volumes_from"],
        json!(["bar", "bar:ro"])
    );
}

#[test]
fn logging_driver_and_options() {
    let s = foo("    logging:\n      driver: syslog\n      options:\n        syslog-address: 'tcp://192.168.0.42:123'\n");
    assert_eq!(
        s["logging"],
        json!({"driver": "syslog", "options": {"syslog-address": "tcp://192.168.0.42:123"}})
    );
}

#[test]
fn oom_pids_privileged_tty_and_flags() {
    let s = foo(concat!(
        "    oom_kill_disable: true\n    oom_score_adj: 500\n    pids_limit: 100\n",
        "    privileged: true\n    read_only: true\n    stdin_open: true\n    tty: true\n",
        "    use_api_socket: true\n    scale: 3\n    stop_grace_period: 20s\n",
    ));
    assert_has(
        &s,
        &json!({
            "oom_kill_disable": true, "oom_score_adj": 500, "pids_limit": 100,
            "privileged": true, "read_only": true, "stdin_open": true, "tty": true,
            "use_api_socket": true, "scale": 3, "stop_grace_period": "20s",
        }),
    );
}

#[test]
fn pull_policy_every_duration_is_a_refresh() {
    let p = Project::new(
        "name: test\nservices:\n  test:\n    image: alpine\n    pull_policy: every_2d\n",
    );
    let loaded = p.load();
    assert_eq!(
        loaded.project.services["test"].pull_policy(),
        Ok(PullPolicy::Refresh(Duration::from_secs(2 * 24 * 3600)))
    );
}

#[test]
fn storage_opt_sysctls_and_tmpfs() {
    let s = foo("    storage_opt:\n      size: 20G\n    tmpfs: /run\n");
    assert_eq!(s["storage_opt"], json!({"size": "20G"}));
    assert_eq!(s["tmpfs"], json!(["/run"]));
    let expected = json!({
        "net.core.somaxconn": "1024", "net.ipv4.tcp_syncookies": "0",
        "testing.one.one": "", "testing.one.two": "",
    });
    let s = foo("    sysctls:\n      - net.core.somaxconn=1024\n      - net.ipv4.tcp_syncookies=0\n      - testing.one.one=\n      - testing.one.two\n    tmpfs: [/run, /tmp]\n");
    assert_eq!(s["sysctls"], expected);
    assert_eq!(s["tmpfs"], json!(["/run", "/tmp"]));
    let s = foo("    sysctls:\n      net.core.somaxconn: 1024\n      net.ipv4.tcp_syncookies: 0\n      testing.one.one: ''\n      testing.one.two:\n");
    assert_eq!(s["sysctls"], expected);
}

#[test]
fn ulimits_single_value_and_soft_hard() {
    let s = foo("    ulimits:\n      nproc: 65535\n      nofile:\n        soft: 20000\n        hard: 40000\n");
    assert_eq!(
        s["ulimits"],
        json!({"nproc": 65535, "nofile": {"soft": 20000, "hard": 40000}})
    );
}

/// compose-go `HostsList`: `=` is tried before `:`, brackets around an
/// IPv6 address are dropped, and a host without an address is refused.
#[test]
fn extra_hosts_separators_and_ipv6() {
    let s = foo("    extra_hosts: ['myhost=[::1]', 'other:::1', 'third=10.0.0.1,[fe80::1]']\n");
    assert_eq!(
        s["extra_hosts"],
        json!(["myhost=::1", "other=::1", "third=10.0.0.1", "third=fe80::1"])
    );
    let err = super::support::error(
        "name: t\nservices:\n  foo:\n    image: x\n    extra_hosts: [nohost]\n",
    );
    assert!(
        err.contains("services.foo.extra_hosts") && err.contains("nohost"),
        "{err}"
    );
}

#[test]
fn env_file_raw_format_keeps_values_verbatim() {
    let c = Project::files(&[
        ("compose.yaml", "name: t\nservices:\n  s:\n    image: x\n    env_file:\n      - path: app.env\n        format: raw\n"),
        ("app.env", "QUOTED=\"kept\"\nDOLLAR=$HOME\n"),
    ])
    .config();
    assert_eq!(
        c["services"]["s"]["environment"],
        json!({"DOLLAR": "$HOME", "QUOTED": "\"kept\""})
    );
}
