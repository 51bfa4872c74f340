//! The kernel fast path of published ports: per project, two nat base
//! chains in the root's table (`prerouting` for traffic from other hosts
//! and namespaces, `output` for the host's own, 127.0.0.1 included) that
//! DNAT `host_ip:port` to the ready replicas, one per connection in turn
//! (`numgen inc mod N map { … }`), as Docker's DNAT rules do when its
//! userland proxy is not needed; we balance across replicas on top.
//!
//! The script is rendered whole from the project's [`NatPort`]s (pure,
//! golden-tested) and applied in one `nft -f -` transaction: the chains are
//! declared (so the flush cannot fail), flushed and filled, so a packet
//! sees either the old map or the new one, never half of it, and open
//! connections keep their conntrack mapping. It never creates the table:
//! the network part owns that ([`super::render`]), and a table deleted
//! with the root's last network must not come back for a stale port.

use super::run_nft;
use crate::network::error::NetworkError;
use crate::network::spec::BRIDGE_PREFIX;
use crate::network::Protocol;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::{Command, Stdio};

/// One published port on the fast path: where the host takes it and the
/// replicas it goes to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NatPort {
    /// `None`: every local IPv4 address (published without `host_ip`).
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub protocol: Protocol,
    /// Never empty: a port without ready replica stays with the proxy.
    pub backends: Vec<SocketAddrV4>,
    /// Shown in `nft list` (service and container port).
    pub comment: String,
}

/// A project's two chains in its root's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortChains {
    pub table: String,
    pub prerouting: String,
    pub output: String,
}

impl PortChains {
    /// The chains of `project` in `table`: `ports_` and 8 hex digits of the
    /// project's name (nft names take no `-`, and two projects of a root
    /// must not share chains).
    pub fn new(table: &str, project: &str) -> PortChains {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(project.as_bytes());
        let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
        PortChains {
            table: table.to_string(),
            prerouting: format!("ports_{hex}_pre"),
            output: format!("ports_{hex}_out"),
        }
    }

    /// Declarations of both chains (adding an existing one is a no-op;
    /// adding to a missing table fails the whole transaction).
    fn declare(&self, out: &mut String) {
        // dstnat (-100) for both hooks: before routing decides where the
        // packet goes. nft 1.0 names the priority only for prerouting.
        for (chain, hook) in [(&self.prerouting, "prerouting"), (&self.output, "output")] {
            let _ = writeln!(
                out,
                "add chain ip {} {chain} {{ type nat hook {hook} priority -100; policy accept; }}",
                self.table
            );
        }
    }
}

/// The script that makes the project's chains hold exactly `ports`; with
/// none, the chains are deleted.
pub fn render(chains: &PortChains, ports: &[NatPort]) -> String {
    let mut out = String::new();
    chains.declare(&mut out);
    let table = &chains.table;
    if ports.is_empty() {
        for chain in [&chains.prerouting, &chains.output] {
            let _ = writeln!(out, "delete chain ip {table} {chain}");
        }
        return out;
    }
    for chain in [&chains.prerouting, &chains.output] {
        let _ = writeln!(out, "flush chain ip {table} {chain}");
    }
    for port in ports {
        let (local, remote) = matches(port);
        let target = dnat(port);
        if let Some(remote) = remote {
            let _ = writeln!(
                out,
                "add rule ip {table} {} {remote} {target}",
                chains.prerouting
            );
        }
        let _ = writeln!(
            out,
            "add rule ip {table} {} {local} {target}",
            chains.output
        );
    }
    out
}

/// What a port's rules match in output (the host's own traffic) and in
/// prerouting (`None`: nothing there).
///
/// From other hosts, only non-loopback destinations: a packet to
/// 127.0.0.1 that arrives on a real interface is a martian the routing
/// would drop, and DNAT before routing would let it through
/// (CVE-2020-8558). Traffic from our bridges (`cb-*`, containers reaching
/// the host's port) is left to the proxy: forwarding between bridges is
/// dropped and a hairpin needs NAT on both sides.
fn matches(port: &NatPort) -> (String, Option<String>) {
    let l4 = format!("{} dport {}", port.protocol, port.host_port);
    match port.host_ip {
        None => (
            format!("fib daddr type local {l4}"),
            Some(format!(
                "iifname != \"{BRIDGE_PREFIX}*\" fib daddr type local ip daddr != 127.0.0.0/8 {l4}"
            )),
        ),
        Some(ip) if ip.is_loopback() => (format!("ip daddr {ip} {l4}"), None),
        Some(ip) => (
            format!("ip daddr {ip} {l4}"),
            Some(format!(
                "iifname != \"{BRIDGE_PREFIX}*\" ip daddr {ip} {l4}"
            )),
        ),
    }
}

/// The DNAT statement: the next backend per new connection (nat rules see
/// only a connection's first packet; conntrack keeps the mapping).
fn dnat(port: &NatPort) -> String {
    let map: Vec<String> = port
        .backends
        .iter()
        .enumerate()
        .map(|(i, b)| format!("{i} : {} . {}", b.ip(), b.port()))
        .collect();
    let comment: String = port.comment.chars().filter(|c| *c != '"').collect();
    format!(
        "dnat ip to numgen inc mod {} map {{ {} }} comment \"{comment}\"",
        port.backends.len(),
        map.join(", ")
    )
}

/// Make the project's chains hold `ports` (delete them when empty), in one
/// transaction. Deleting from a table that is gone (the root's last
/// network removed it, and its chains with it) succeeds.
pub fn apply(chains: &PortChains, ports: &[NatPort]) -> Result<(), NetworkError> {
    match run_nft(&render(chains, ports)) {
        Err(_) if ports.is_empty() && !table_exists(&chains.table) => Ok(()),
        other => other,
    }
}

/// Whether the root's `ip` table exists.
pub fn table_exists(table: &str) -> bool {
    Command::new("nft")
        .args(["list", "table", "ip", table])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web(host_ip: Option<Ipv4Addr>, backends: &[&str]) -> NatPort {
        NatPort {
            host_ip,
            host_port: 8080,
            protocol: Protocol::Tcp,
            backends: backends.iter().map(|b| b.parse().unwrap()).collect(),
            comment: "web 80/tcp".into(),
        }
    }

    #[test]
    fn chains_are_per_project_and_free_of_dashes() {
        let a = PortChains::new("compose", "my-app");
        let b = PortChains::new("compose", "my_app");
        assert_ne!(a.prerouting, b.prerouting);
        assert!(a.prerouting.starts_with("ports_") && a.output.ends_with("_out"));
        assert!(!a.output.contains('-'));
    }

    #[test]
    fn every_local_address_balances_over_the_replicas() {
        let chains = PortChains {
            table: "compose".into(),
            prerouting: "ports_p_pre".into(),
            output: "ports_p_out".into(),
        };
        let ports = [
            web(None, &["10.89.0.2:80", "10.89.0.3:80", "10.89.0.4:80"]),
            NatPort {
                protocol: Protocol::Udp,
                host_ip: Some(Ipv4Addr::LOCALHOST),
                host_port: 5353,
                backends: vec!["10.89.0.5:53".parse().unwrap()],
                comment: "dns 53/udp".into(),
            },
        ];
        assert_eq!(
            render(&chains, &ports),
            "add chain ip compose ports_p_pre { type nat hook prerouting priority -100; policy accept; }
add chain ip compose ports_p_out { type nat hook output priority -100; policy accept; }
flush chain ip compose ports_p_pre
flush chain ip compose ports_p_out
add rule ip compose ports_p_pre iifname != \"cb-*\" fib daddr type local ip daddr != 127.0.0.0/8 tcp dport 8080 \
dnat ip to numgen inc mod 3 map { 0 : 10.89.0.2 . 80, 1 : 10.89.0.3 . 80, 2 : 10.89.0.4 . 80 } comment \"web 80/tcp\"
add rule ip compose ports_p_out fib daddr type local tcp dport 8080 \
dnat ip to numgen inc mod 3 map { 0 : 10.89.0.2 . 80, 1 : 10.89.0.3 . 80, 2 : 10.89.0.4 . 80 } comment \"web 80/tcp\"
add rule ip compose ports_p_out ip daddr 127.0.0.1 udp dport 5353 \
dnat ip to numgen inc mod 1 map { 0 : 10.89.0.5 . 53 } comment \"dns 53/udp\"
"
        );
    }

    #[test]
    fn a_host_address_is_matched_from_outside_too_and_none_deletes_the_chains() {
        let chains = PortChains::new("compose_1", "p");
        let text = render(
            &chains,
            &[web(Some(Ipv4Addr::new(192, 0, 2, 1)), &["10.89.0.2:80"])],
        );
        let pre = format!(
            "add rule ip compose_1 {} iifname != \"cb-*\" ip daddr 192.0.2.1 tcp dport 8080 dnat",
            chains.prerouting
        );
        assert!(text.contains(&pre), "{text}");
        let gone = render(&chains, &[]);
        assert!(gone.ends_with(&format!(
            "delete chain ip compose_1 {}\ndelete chain ip compose_1 {}\n",
            chains.prerouting, chains.output
        )));
        assert!(!gone.contains("add rule") && !gone.contains("add table"));
    }
}
