//! Egress: a container on a normal network reaches an "outside" namespace
//! (one this test creates, standing in for the world) only thanks to the
//! masquerade rule, since the outside has no route back to the network's
//! subnet; a container on an internal network gets nothing out. Needs root.

mod container_support;
mod network_support;

use compose_runtime::network::{Attachment, NetworkSpec};
use network_support::*;
use std::process::Command;

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A test-made namespace joined to the host by a veth, 10.89.250.1/30 on
/// the host side, 10.89.250.2/30 inside, and no route beyond that /30. The
/// namespace is one of the runtime's persistent ones under the test's own
/// COMPOSE_ROOT (not `ip netns add`, which leaves a /run/netns mount on the
/// machine); commands run in it through `nsenter`.
struct Outside<'a> {
    nets: &'a compose_runtime::network::Networks,
    netns: String,
    path: std::path::PathBuf,
    host_if: String,
}

impl<'a> Outside<'a> {
    fn new(nets: &'a compose_runtime::network::Networks) -> Outside<'a> {
        let netns = unique("cmpt-out");
        let path = nets.create_netns(&netns).expect("outside netns");
        let o = Outside {
            nets,
            netns,
            path,
            host_if: unique("xoh"),
        };
        let peer = unique("xop");
        // Both ends are made inside, then the host end moves to the host's
        // namespace (that of PID 1).
        o.inside(&[
            "link", "add", &peer, "type", "veth", "peer", "name", &o.host_if, "netns", "1",
        ]);
        ip(&["addr", "add", "10.89.250.1/30", "dev", &o.host_if]);
        ip(&["link", "set", &o.host_if, "up"]);
        o.inside(&["addr", "add", "10.89.250.2/30", "dev", &peer]);
        o.inside(&["link", "set", &peer, "up"]);
        o.inside(&["link", "set", "lo", "up"]);
        o
    }

    /// `ip ARGS` inside the outside namespace.
    fn inside(&self, args: &[&str]) {
        let out = Command::new("nsenter")
            .arg(format!("--net={}", self.path.display()))
            .arg("ip")
            .args(args)
            .output()
            .expect("nsenter");
        assert!(
            out.status.success(),
            "ip {args:?} in {}: {}",
            self.netns,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Outside<'_> {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .status();
        let _ = self.nets.remove_netns(&self.netns);
    }
}

#[test]
fn masquerade_gives_egress_and_internal_networks_get_none() {
    let ext = fixture("ext");
    let int = fixture("int");
    let tmp = tempfile::tempdir().unwrap();
    let nets = networks(tmp.path(), "n");
    let (open, closed) = (unique("open"), unique("closed"));
    let mut guard = Teardown::new(&nets);
    guard.networks = vec![open.clone(), closed.clone()];
    guard.containers = vec![ext.id().to_string(), int.id().to_string()];
    let outside = Outside::new(&nets);

    let mut open_spec = NetworkSpec::new(&open);
    open_spec.subnet = Some("10.89.192.0/24".parse().unwrap());
    let mut closed_spec = NetworkSpec::new(&closed);
    closed_spec.subnet = Some("10.89.193.0/24".parse().unwrap());
    closed_spec.internal = true;
    let open_rec = nets.create(&open_spec).unwrap();
    let closed_rec = nets.create(&closed_spec).unwrap();
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward")
            .unwrap()
            .trim(),
        "1"
    );

    let mut hosts = Vec::new();
    for (fx, net) in [(&ext, &open), (&int, &closed)] {
        let path = nets.create_netns(fx.id()).unwrap();
        hosts.push(
            nets.attach(&Attachment::new(net, fx.id()), &path)
                .unwrap()
                .host_interface,
        );
        let (code, out) = run_in(
            fx,
            &path,
            &[
                "sh",
                "-c",
                "ping -c1 -W2 10.89.250.2 >/dev/null && echo out || echo no-egress",
            ],
        );
        assert_eq!(code, 0, "{out}");
        let expected = if fx.id() == ext.id() {
            "out\n"
        } else {
            "no-egress\n"
        };
        assert_eq!(out, expected, "network {net}");
    }

    drop(outside);
    for fx in [&ext, &int] {
        nets.teardown_container(fx.id()).unwrap();
    }
    nets.remove(&open).unwrap();
    nets.remove(&closed).unwrap();
    hosts.extend([open_rec.bridge, closed_rec.bridge]);
    assert_nothing_left(tmp.path(), &hosts, nets.nft_table());
}
