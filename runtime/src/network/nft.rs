//! NAT and isolation with nftables: one table `ip compose` that we own,
//! rendered whole from the IPAM state (pure, golden-tested) and replaced in
//! one `nft -f -` transaction, so rules appear and vanish with networks and
//! no rule outlives the last network.
//!
//! As Docker's bridge driver: masquerade a non-internal network's subnet
//! when it leaves through another interface; drop forwarding between two
//! of our bridges (networks, and so projects, are isolated); an internal
//! network forwards nothing in or out.

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

/// The `nft -f` script that makes the table match `state`: create it (so
/// the delete cannot fail), delete it, then add it back with its rules; or
/// only delete it when there is no network left.
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

/// One family's table: isolation between bridges and of internal
/// networks, and masquerade for the subnets `subnet` gives.
fn render_family(
    out: &mut String,
    family: &str,
    table: &str,
    nets: &[&NetworkRecord],
    subnet: impl Fn(&NetworkRecord) -> Option<String>,
) {
    let _ = writeln!(out, "table {family} {table}\ndelete table {family} {table}");
    if nets.is_empty() {
        return;
    }
    let _ = writeln!(out, "table {family} {table} {{");
    out.push_str(
        "  chain forward {\n    type filter hook forward priority filter; policy accept;\n",
    );
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
    out.push_str("  }\n");
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
    out.push_str("  }\n}\n");
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
    run_nft(&render(state, table))
}

fn run_nft(script: &str) -> Result<(), NetworkError> {
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
            "table ip compose\ndelete table ip compose\ntable ip compose {
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
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 10.89.0.0/24 oifname != \"br-a\" masquerade
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
