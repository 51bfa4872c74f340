//! `projects/<project>/ports.json`: what the supervisor publishes, with the
//! host port each proxy actually bound (a random or ranged one is only
//! known then). `compose port` and `ps` show it, and a supervisor started
//! after a crash binds the same ports again when they are free. Written
//! atomically; removed when nothing is published.
//!
//! [`FastPath`] keeps the project's DNAT chains (`network::nft::ports`) in
//! step with what is bound: the listening socket stays the port's
//! reservation and the fallback, the kernel forwards while a replica is
//! ready.

use super::want::PortKey;
use crate::network::nft::ports::{self as nat, NatPort, PortChains};
use crate::network::{NetworkError, Protocol, PublishedPort};
use crate::project::ProjectDir;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;

pub const PORTS_FILE: &str = "ports.json";

/// One published port, as bound.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PortEntry {
    pub service: String,
    pub container_port: u16,
    pub protocol: Protocol,
    pub host_ip: IpAddr,
    pub host_port: u16,
    /// The host ports asked for (`None`: any free port).
    #[serde(default)]
    pub requested: Option<(u16, u16)>,
}

impl PortEntry {
    pub fn new(key: &PortKey, host_port: u16) -> PortEntry {
        PortEntry {
            service: key.service.clone(),
            container_port: key.port.container_port,
            protocol: key.port.protocol,
            host_ip: host_ip(&key.port),
            host_port,
            requested: key.port.host_ports,
        }
    }

    /// Whether this entry was bound for `key` (a previous supervisor's).
    pub fn is_for(&self, key: &PortKey) -> bool {
        *self == PortEntry::new(key, self.host_port)
    }

    /// Whether a listener of this entry takes `port` at `ip` too.
    pub fn overlaps(&self, ip: IpAddr, port: u16, protocol: Protocol) -> bool {
        self.protocol == protocol
            && self.host_port == port
            && (self.host_ip == ip || self.host_ip.is_unspecified() || ip.is_unspecified())
    }
}

/// The address a port listens on: `host_ip`, else every IPv4 address
/// (Docker's `0.0.0.0`).
pub fn host_ip(port: &PublishedPort) -> IpAddr {
    port.host_ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// The host ports to try in order: the one a previous supervisor bound
/// when it still fits, then the range (`0`: the kernel picks).
pub fn candidates(port: &PublishedPort, previous: Option<u16>) -> Vec<u16> {
    let mut out = Vec::new();
    match port.host_ports {
        None => {
            out.extend(previous.filter(|&p| p != 0));
            out.push(0);
        }
        Some((first, last)) => {
            out.extend(previous.filter(|p| (first..=last).contains(p)));
            out.extend((first..=last).filter(|p| Some(*p) != previous));
        }
    }
    out
}

/// The fast-path rules of the bound `entries`: each IPv4 one whose port
/// has ready replicas in `fast` (an IPv6 listener stays with its proxy:
/// the replicas' addresses are IPv4). Sorted, so equal sets compare equal.
pub fn nat_ports<'a>(
    entries: impl IntoIterator<Item = (&'a PortKey, &'a PortEntry)>,
    fast: &std::collections::BTreeMap<PortKey, Vec<SocketAddrV4>>,
) -> Vec<NatPort> {
    let mut out: Vec<NatPort> = entries
        .into_iter()
        .filter_map(|(key, entry)| {
            let IpAddr::V4(ip) = entry.host_ip else {
                return None;
            };
            let backends = fast.get(key).filter(|b| !b.is_empty())?;
            Some(NatPort {
                host_ip: Some(ip).filter(|ip| !ip.is_unspecified()),
                host_port: entry.host_port,
                protocol: entry.protocol,
                backends: backends.clone(),
                comment: format!(
                    "{} {}/{}",
                    entry.service, entry.container_port, entry.protocol
                ),
            })
        })
        .collect();
    out.sort();
    out
}

/// What the project's chains hold, as far as we know.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Applied {
    /// Unknown: a previous supervisor may have left rules (re-adopted by
    /// replacing them at the first sync).
    Unknown,
    Rules(Vec<NatPort>),
    /// This set failed (no `nft`, no table): the proxies serve, and it is
    /// not retried every tick, only when the wanted set changes.
    Failed(Vec<NatPort>),
}

/// The project's DNAT rules, applied only when they change.
#[derive(Debug)]
pub struct FastPath {
    chains: PortChains,
    applied: Applied,
}

impl FastPath {
    /// The fast path of `project`; `leftover`: a previous supervisor
    /// published ports (ports.json), so its rules may still be there.
    pub fn new(project: &ProjectDir, leftover: bool) -> FastPath {
        let table = crate::network::nft::table_for_root(project.root());
        FastPath {
            chains: PortChains::new(&table, project.name()),
            applied: if leftover {
                Applied::Unknown
            } else {
                Applied::Rules(Vec::new())
            },
        }
    }

    pub fn chains(&self) -> &PortChains {
        &self.chains
    }

    /// Make the chains hold `wanted` (one transaction) unless they do or
    /// this very set failed before.
    pub fn sync(&mut self, wanted: Vec<NatPort>) -> Result<(), NetworkError> {
        match &self.applied {
            Applied::Rules(now) | Applied::Failed(now) if *now == wanted => return Ok(()),
            _ => {}
        }
        match nat::apply(&self.chains, &wanted) {
            Ok(()) => {
                self.applied = Applied::Rules(wanted);
                Ok(())
            }
            Err(e) => {
                self.applied = Applied::Failed(wanted);
                Err(e)
            }
        }
    }
}

pub fn path(project: &ProjectDir) -> PathBuf {
    project.dir().join(PORTS_FILE)
}

/// The recorded entries; none when the file is missing or unreadable (it
/// is only a hint for re-adoption).
pub fn read(project: &ProjectDir) -> Vec<PortEntry> {
    std::fs::read(path(project))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Replace the file (temp file + rename), or remove it when `entries` is
/// empty so that `down` leaves no project directory behind.
pub fn write(project: &ProjectDir, entries: &[PortEntry]) -> std::io::Result<()> {
    let path = path(project);
    if entries.is_empty() {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    let dir = project.dir();
    std::fs::create_dir_all(&dir)?;
    let mut tmp = tempfile::NamedTempFile::with_prefix_in(".tmp-ports", &dir)?;
    let json = serde_json::to_vec_pretty(entries).expect("port entries serialise");
    tmp.write_all(&json)?;
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(host: Option<(u16, u16)>) -> PublishedPort {
        PublishedPort {
            host_ip: None,
            host_ports: host,
            container_port: 80,
            protocol: Protocol::Tcp,
        }
    }

    #[test]
    fn candidates_reuse_a_previous_port_that_still_fits() {
        assert_eq!(candidates(&port(None), None), [0]);
        assert_eq!(candidates(&port(None), Some(41000)), [41000, 0]);
        assert_eq!(candidates(&port(Some((8080, 8080))), Some(9)), [8080]);
        assert_eq!(
            candidates(&port(Some((8000, 8002))), Some(8002)),
            [8002, 8000, 8001]
        );
    }

    #[test]
    fn only_bound_ipv4_ports_with_ready_replicas_go_to_the_kernel() {
        let key = PortKey {
            service: "web".into(),
            port: port(None),
        };
        let idle = PortKey {
            service: "idle".into(),
            port: port(None),
        };
        let v4 = PortEntry::new(&key, 41000);
        let v6 = PortEntry {
            host_ip: std::net::Ipv6Addr::UNSPECIFIED.into(),
            ..v4.clone()
        };
        let other = PortEntry::new(&idle, 41001);
        let replica: SocketAddrV4 = "10.89.0.2:80".parse().unwrap();
        let fast = std::collections::BTreeMap::from([
            (key.clone(), vec![replica]),
            (idle.clone(), vec![]),
        ]);
        let rules = nat_ports([(&key, &v4), (&key, &v6), (&idle, &other)], &fast);
        assert_eq!(
            rules,
            [NatPort {
                host_ip: None,
                host_port: 41000,
                protocol: Protocol::Tcp,
                backends: vec![replica],
                comment: "web 80/tcp".into(),
            }],
            "0.0.0.0 is every local address; [::] and a port without replica stay on the proxy"
        );
    }

    #[test]
    fn entries_round_trip_and_an_empty_list_removes_the_file() {
        let root = tempfile::tempdir().unwrap();
        let project = ProjectDir::new(root.path(), "p");
        let key = PortKey {
            service: "web".into(),
            port: port(None),
        };
        let entry = PortEntry::new(&key, 41234);
        assert!(entry.is_for(&key));
        assert!(entry.overlaps("127.0.0.1".parse().unwrap(), 41234, Protocol::Tcp));
        assert!(!entry.overlaps("127.0.0.1".parse().unwrap(), 41234, Protocol::Udp));
        write(&project, std::slice::from_ref(&entry)).unwrap();
        assert_eq!(read(&project), [entry]);
        write(&project, &[]).unwrap();
        assert!(!path(&project).exists());
        assert!(read(&project).is_empty());
    }
}
