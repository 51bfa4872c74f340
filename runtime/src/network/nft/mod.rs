//! NAT and isolation with nftables: one table per state root that we own.
//! The network part (forward, input and postrouting chains) is rendered
//! whole from the IPAM state (pure, golden-tested) and replaced in one
//! `nft -f -` transaction, so rules appear and vanish with networks and no
//! rule outlives the last network. The published ports' DNAT chains
//! ([`ports`]) live in the same table, one pair per project, and are
//! replaced by that project's supervisor alone: a network re-render
//! flushes only its own chains.
//!
//! As Docker's bridge driver: masquerade a non-internal network's subnet
//! when it leaves through another interface; drop forwarding between two
//! of our bridges (networks, and so projects, are isolated); an internal
//! network forwards nothing in or out. For published ports reached on
//! 127.0.0.1 (Docker's hairpin mode without the userland proxy):
//! `route_localnet` on our bridges, masquerade of 127.0.0.0/8 sources
//! leaving through them, and a drop of anything from a bridge to
//! 127.0.0.0/8 that is not a reply to such a connection (what
//! `route_localnet` would otherwise let a container reach, CVE-2020-8558).

pub mod ports;

use super::error::NetworkError;
use super::ipam::{IpamState, NetworkRecord};
use super::spec::BRIDGE_PREFIX;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Stdio};

/// Our table's name (family `ip`) for the default state root.
pub const TABLE: &str = "compose";

/// The table of a state root: `compose` for the default root, else
/// `compose_` and 8 hex digits of the root's path, so that two roots (a
/// test's and the user's) never overwrite each other's rules.
pub fn table_for_root(root: &std::path::Path) -> String {
    match crate::scope::scope_for_root(root) {
        scope if scope.is_empty() => TABLE.to_string(),
        scope => format!("{TABLE}_{scope}"),
    }
}

/// The `nft -f` script that makes the table match `state`: with networks,
/// declare the table and our chains (so the flush cannot fail), flush them
/// and add their rules, leaving the ports' chains of [`ports`] alone;
/// without networks, create the table (so the delete cannot fail) and
/// delete it with everything in it.
pub fn render(state: &IpamState, table: &str) -> String {
    let mut out = String::new();
    let nets: Vec<_> = state.networks.values().collect();
    render_family(&mut out, "ip", table, &nets, |n| Some(n.subnet.to_string()));
    // The IPv6 table covers the networks with IPv6 (isolation between
    // bridges is family-independent, so every bridge is in its rules).
    let with_v6 = nets.iter().any(|n| n.ipv6.is_some());
    let v6_nets: Vec<_> = if with_v6 { nets } else { Vec::new() };
    render_family(&mut out, "ip6", table, &v6_nets, |n| {
        n.ipv6.as_ref().map(|b| b.subnet.to_string())
    });
    out
}

/// The base chains of the network part, by family: name and hook.
fn chains(family: &str) -> &'static [(&'static str, &'static str)] {
    const FORWARD: (&str, &str) = ("forward", "type filter hook forward priority filter");
    const INPUT: (&str, &str) = ("input", "type filter hook input priority filter");
    const POSTROUTING: (&str, &str) = ("postrouting", "type nat hook postrouting priority srcnat");
    if family == "ip" {
        &[FORWARD, INPUT, POSTROUTING]
    } else {
        &[FORWARD, POSTROUTING]
    }
}

/// One family's table: isolation between bridges and of internal
/// networks, and masquerade for the subnets `subnet` gives.
fn render_family(
    out: &mut String,
    family: &str,
    table: &str,
    nets: &[&NetworkRecord],
    subnet: impl Fn(&NetworkRecord) -> Option<String>,
) {
    if nets.is_empty() {
        let _ = writeln!(out, "table {family} {table}\ndelete table {family} {table}");
        return;
    }
    let _ = writeln!(out, "table {family} {table} {{");
    for (name, hook) in chains(family) {
        let _ = writeln!(out, "  chain {name} {{\n    {hook}; policy accept;\n  }}");
    }
    out.push_str("}\n");
    for (name, _) in chains(family) {
        let _ = writeln!(out, "flush chain {family} {table} {name}");
    }
    let _ = writeln!(out, "table {family} {table} {{");
    out.push_str(
        "  chain forward {\n    type filter hook forward priority filter; policy accept;\n",
    );
    forward_rules(out, nets);
    out.push_str("  }\n");
    if family == "ip" {
        out.push_str(
            "  chain input {\n    type filter hook input priority filter; policy accept;\n",
        );
        // route_localnet lets the kernel accept 127.0.0.0/8 addresses on
        // the bridge: only the replies of a published port's connection
        // from 127.0.0.1 (DNAT in output) may use that, and they come from
        // the container's own address.
        for net in nets {
            let _ = writeln!(
                out,
                "    iifname \"{0}\" ip daddr 127.0.0.0/8 ct status & dnat != dnat drop\n    \
                 iifname \"{0}\" ip saddr 127.0.0.0/8 drop",
                net.bridge
            );
        }
        out.push_str("  }\n");
    }
    out.push_str(
        "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n",
    );
    for net in nets.iter().filter(|n| !n.spec.internal) {
        if let Some(subnet) = subnet(net) {
            let _ = writeln!(
                out,
                "    {family} saddr {subnet} oifname != \"{}\" masquerade",
                net.bridge
            );
        }
    }
    if family == "ip" {
        // A client on 127.0.0.1 DNATed to a container: a loopback source
        // cannot leave through the bridge, the gateway address stands in
        // (the container sees the gateway, as with Docker's hairpin NAT).
        for net in nets {
            let _ = writeln!(
                out,
                "    ip saddr 127.0.0.0/8 oifname \"{}\" masquerade",
                net.bridge
            );
        }
    }
    out.push_str("  }\n}\n");
}

/// The forward chain's drops: between our bridges, to and from other
/// roots' bridges, and in and out of internal networks.
fn forward_rules(out: &mut String, nets: &[&NetworkRecord]) {
    for a in nets {
        for b in nets {
            if a.bridge != b.bridge {
                let _ = writeln!(
                    out,
                    "    iifname \"{}\" oifname \"{}\" drop",
                    a.bridge, b.bridge
                );
            }
        }
    }
    // Bridges of other state roots (another table, another pool) are
    // `cb-` bridges too: nothing crosses from ours to theirs either way.
    for net in nets {
        let _ = writeln!(
            out,
            "    iifname \"{0}\" oifname \"{BRIDGE_PREFIX}*\" oifname != \"{0}\" drop",
            net.bridge
        );
        let _ = writeln!(
            out,
            "    oifname \"{0}\" iifname \"{BRIDGE_PREFIX}*\" iifname != \"{0}\" drop",
            net.bridge
        );
    }
    for net in nets.iter().filter(|n| n.spec.internal) {
        let _ = writeln!(
            out,
            "    iifname \"{0}\" oifname != \"{0}\" drop",
            net.bridge
        );
        let _ = writeln!(
            out,
            "    oifname \"{0}\" iifname != \"{0}\" drop",
            net.bridge
        );
    }
}

/// Apply `render(state)`; turns on IPv4 (and IPv6) forwarding when a
/// network needs egress (Docker does the same at daemon start; it is never turned off,
/// as other software may rely on it by then).
pub fn apply(state: &IpamState, table: &str) -> Result<(), NetworkError> {
    let egress = |v6: bool| {
        state
            .networks
            .values()
            .any(|n| !n.spec.internal && (!v6 || n.ipv6.is_some()))
    };
    for (v6, path) in [
        (false, "/proc/sys/net/ipv4/ip_forward"),
        (true, "/proc/sys/net/ipv6/conf/all/forwarding"),
    ] {
        if egress(v6) {
            std::fs::write(path, "1").map_err(|source| NetworkError::Io {
                path: path.into(),
                source,
            })?;
        }
    }
    run_nft(&render(state, table))?;
    for net in state.networks.values() {
        route_localnet(&net.bridge)?;
    }
    Ok(())
}

/// `route_localnet=1` on one of our bridges (ip-sysctl.rst): a connection
/// to 127.0.0.1 DNATed to a container may leave through it, as Docker
/// sets it on docker0 when the userland proxy is off. Only our bridges,
/// never `all`; a bridge already gone is skipped.
fn route_localnet(bridge: &str) -> Result<(), NetworkError> {
    let path = format!("/proc/sys/net/ipv4/conf/{bridge}/route_localnet");
    match std::fs::write(&path, "1") {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(NetworkError::Io {
            path: path.into(),
            source,
        }),
        Ok(()) => Ok(()),
    }
}

pub(crate) fn run_nft(script: &str) -> Result<(), NetworkError> {
    let spawn_err = |source| NetworkError::Io {
        path: "nft".into(),
        source,
    };
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_err)?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(script.as_bytes()).map_err(spawn_err)?;
    }
    let out = child.wait_with_output().map_err(spawn_err)?;
    if out.status.success() {
        Ok(())
    } else {
        Err(NetworkError::Nft {
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::ipam::DEFAULT_POOL;
    use crate::network::spec::NetworkSpec;

    /// The table goes with everything in it, the ports' chains included
    /// (no network, no replica to forward to).
    #[test]
    fn no_network_only_deletes_the_table() {
        assert_eq!(
            render(&IpamState::default(), TABLE),
            "table ip compose\ndelete table ip compose\ntable ip6 compose\ndelete table ip6 compose\n"
        );
    }

    #[test]
    fn two_networks_are_isolated_and_only_the_external_one_is_masqueraded() {
        let mut state = IpamState::default();
        let pool = DEFAULT_POOL.parse().unwrap();
        let mut a = NetworkSpec::new("a");
        a.bridge_name = Some("br-a".into());
        let mut b = NetworkSpec::new("b");
        b.bridge_name = Some("br-b".into());
        b.internal = true;
        state.allocate_network(&a, "br-a", &[], pool).unwrap();
        state.allocate_network(&b, "br-b", &[], pool).unwrap();
        assert_eq!(
            render(&state, TABLE),
            "table ip compose {
  chain forward {
    type filter hook forward priority filter; policy accept;
  }
  chain input {
    type filter hook input priority filter; policy accept;
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
  }
}
flush chain ip compose forward
flush chain ip compose input
flush chain ip compose postrouting
table ip compose {
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname \"br-a\" oifname \"br-b\" drop
    iifname \"br-b\" oifname \"br-a\" drop
    iifname \"br-a\" oifname \"cb-*\" oifname != \"br-a\" drop
    oifname \"br-a\" iifname \"cb-*\" iifname != \"br-a\" drop
    iifname \"br-b\" oifname \"cb-*\" oifname != \"br-b\" drop
    oifname \"br-b\" iifname \"cb-*\" iifname != \"br-b\" drop
    iifname \"br-b\" oifname != \"br-b\" drop
    oifname \"br-b\" iifname != \"br-b\" drop
  }
  chain input {
    type filter hook input priority filter; policy accept;
    iifname \"br-a\" ip daddr 127.0.0.0/8 ct status & dnat != dnat drop
    iifname \"br-a\" ip saddr 127.0.0.0/8 drop
    iifname \"br-b\" ip daddr 127.0.0.0/8 ct status & dnat != dnat drop
    iifname \"br-b\" ip saddr 127.0.0.0/8 drop
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 10.89.0.0/24 oifname != \"br-a\" masquerade
    ip saddr 127.0.0.0/8 oifname \"br-a\" masquerade
    ip saddr 127.0.0.0/8 oifname \"br-b\" masquerade
  }
}
table ip6 compose
delete table ip6 compose
"
        );
    }

    #[test]
    fn an_ipv6_network_gets_the_same_rules_in_the_ip6_table() {
        let mut state = IpamState::default();
        let pool = DEFAULT_POOL.parse().unwrap();
        let mut a = NetworkSpec::new("a");
        a.bridge_name = Some("br-a".into());
        a.ipv6 = true;
        a.subnet6 = Some("fd12:3456::/64".parse().unwrap());
        let mut b = NetworkSpec::new("b");
        b.bridge_name = Some("br-b".into());
        state.allocate_network(&a, "br-a", &[], pool).unwrap();
        state.allocate_ipv6("a", &[]).unwrap();
        state.allocate_network(&b, "br-b", &[], pool).unwrap();
        let text = render(&state, TABLE);
        let v6 = &text[text.find("table ip6 compose {").unwrap()..];
        assert_eq!(
            v6,
            "table ip6 compose {
  chain forward {
    type filter hook forward priority filter; policy accept;
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
  }
}
flush chain ip6 compose forward
flush chain ip6 compose postrouting
table ip6 compose {
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname \"br-a\" oifname \"br-b\" drop
    iifname \"br-b\" oifname \"br-a\" drop
    iifname \"br-a\" oifname \"cb-*\" oifname != \"br-a\" drop
    oifname \"br-a\" iifname \"cb-*\" iifname != \"br-a\" drop
    iifname \"br-b\" oifname \"cb-*\" oifname != \"br-b\" drop
    oifname \"br-b\" iifname \"cb-*\" iifname != \"br-b\" drop
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip6 saddr fd12:3456::/64 oifname != \"br-a\" masquerade
  }
}
"
        );
    }
}
