//! Service `networks` and top-level `networks` (compose-go
//! `loader/tests/networks_test.go`, `network_*_test.go`, `gw_priority_test.go`,
//! `interface_name_test.go`, `link_local_ips_test.go`).

use super::support::{config, service};
use serde_json::json;

#[test]
fn service_network_attachments() {
    let s = service(
        concat!(
            "name: test\nservices:\n  foo:\n    image: alpine\n    networks:\n",
            "      some-network:\n        aliases: [alias1, alias3]\n",
            "      other-network:\n        ipv4_address: 172.16.238.10\n        ipv6_address: '2001:3984:3989::10'\n        mac_address: '02:42:72:98:65:08'\n",
            "      other-other-network:\n",
            "      net1:\n        gw_priority: 42\n        interface_name: eth0\n        link_local_ips: ['fe80::1:95ff:fe20:100']\n",
            "        driver_opts: {com.docker.network.endpoint.sysctls: ipv6.conf.accept_ra=0}\n",
            "networks:\n  some-network:\n  other-network:\n  other-other-network:\n  net1:\n",
        ),
        "foo",
    );
    assert_eq!(
        s["networks"],
        json!({
            "some-network": {"aliases": ["alias1", "alias3"]},
            "other-network": {"ipv4_address": "172.16.238.10", "ipv6_address": "2001:3984:3989::10", "mac_address": "02:42:72:98:65:08"},
            "other-other-network": null,
            "net1": {
                "driver_opts": {"com.docker.network.endpoint.sysctls": "ipv6.conf.accept_ra=0"},
                "link_local_ips": ["fe80::1:95ff:fe20:100"],
                "interface_name": "eth0",
                "gw_priority": 42,
            },
        })
    );
}

#[test]
fn top_level_networks() {
    let c = config(concat!(
        "name: test\nservices:\n  foo:\n    image: alpine\nnetworks:\n  some-network:\n",
        "  other-network:\n    driver: overlay\n    driver_opts: {foo: bar, baz: 1}\n",
        "    ipam:\n      driver: overlay\n      config:\n",
        "        - subnet: 172.28.0.0/16\n          ip_range: 172.28.5.0/24\n          gateway: 172.28.5.254\n",
        "          aux_addresses: {host1: 172.28.1.5, host2: 172.28.1.6}\n",
        "        - subnet: '2001:3984:3989::/64'\n          gateway: '2001:3984:3989::1'\n",
        "    labels: {foo: bar}\n",
        "  external-network:\n    external: true\n",
        "  other-external-network:\n    external:\n      name: my-cool-network\n    x-bar: baz\n    x-foo: bar\n",
        "  internal-net:\n    internal: true\n",
        "  attachable-net:\n    driver: overlay\n    attachable: true\n",
        "  net1:\n    enable_ipv4: false\n    enable_ipv6: true\n",
    ));
    let n = &c["networks"];
    assert_eq!(n["some-network"], json!({"name": "test_some-network"}));
    assert_eq!(
        n["other-network"],
        json!({
            "name": "test_other-network", "driver": "overlay", "driver_opts": {"foo": "bar", "baz": "1"},
            "ipam": {"driver": "overlay", "config": [
                {"subnet": "172.28.0.0/16", "ip_range": "172.28.5.0/24", "gateway": "172.28.5.254",
                 "aux_addresses": {"host1": "172.28.1.5", "host2": "172.28.1.6"}},
                {"subnet": "2001:3984:3989::/64", "gateway": "2001:3984:3989::1"},
            ]},
            "labels": {"foo": "bar"},
        })
    );
    assert_eq!(
        n["external-network"],
        json!({"name": "external-network", "external": true})
    );
    assert_eq!(
        n["other-external-network"],
        json!({"name": "my-cool-network", "external": true, "x-bar": "baz", "x-foo": "bar"})
    );
    assert_eq!(
        n["internal-net"],
        json!({"name": "test_internal-net", "internal": true})
    );
    assert_eq!(
        n["attachable-net"],
        json!({"name": "test_attachable-net", "driver": "overlay", "attachable": true})
    );
    assert_eq!(
        n["net1"],
        json!({"name": "test_net1", "enable_ipv4": false, "enable_ipv6": true})
    );
}

#[test]
fn ipam_options() {
    let c = config(concat!(
        "name: test\nservices:\n  foo:\n    image: alpine\nnetworks:\n  net1:\n    ipam:\n      driver: default\n",
        "      options: {com.docker.network.ipam.foo: bar, com.docker.network.ipam.baz: '1'}\n",
        "      config:\n        - {subnet: 172.28.0.0/16, gateway: 172.28.0.1}\n",
    ));
    assert_eq!(
        c["networks"]["net1"]["ipam"],
        json!({
            "driver": "default",
            "config": [{"subnet": "172.28.0.0/16", "gateway": "172.28.0.1"}],
            "options": {"com.docker.network.ipam.foo": "bar", "com.docker.network.ipam.baz": "1"},
        })
    );
}

/// compose-go `loader_test.go` TestParseAndLoad (with `with_me` declared,
/// as the consistency check requires): a declared `default` network is
/// kept and named even when no service uses it.
#[test]
fn the_sample_project() {
    let c = config(concat!(
        "name: sample\nservices:\n  foo:\n    image: busybox\n    networks:\n      with_me:\n",
        "  bar:\n    image: busybox\n    environment: [FOO=1]\n    networks: [with_ipam]\n",
        "volumes:\n  hello:\n    driver: default\n    driver_opts:\n      beep: boop\n",
        "networks:\n  default:\n    driver: bridge\n    driver_opts:\n      beep: boop\n",
        "  with_me:\n  with_ipam:\n    ipam:\n      driver: default\n      config:\n        - subnet: 172.28.0.0/16\n      options:\n        foo: bar\n",
    ));
    assert_eq!(c["services"]["foo"]["networks"], json!({"with_me": null}));
    assert_eq!(c["services"]["bar"]["environment"], json!({"FOO": "1"}));
    assert_eq!(c["services"]["bar"]["networks"], json!({"with_ipam": null}));
    assert_eq!(
        c["networks"]["default"],
        json!({"name": "sample_default", "driver": "bridge", "driver_opts": {"beep": "boop"}})
    );
    assert_eq!(
        c["networks"]["with_ipam"],
        json!({"name": "sample_with_ipam", "ipam": {"driver": "default", "config": [{"subnet": "172.28.0.0/16"}], "options": {"foo": "bar"}}})
    );
    assert_eq!(
        c["volumes"]["hello"],
        json!({"name": "sample_hello", "driver": "default", "driver_opts": {"beep": "boop"}})
    );
}
