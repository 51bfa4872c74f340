//! `projects/<project>/ports.json`: what the supervisor publishes, with the
//! host port each proxy actually bound (a random or ranged one is only
//! known then). `compose port` and `ps` show it, and a supervisor started
//! after a crash binds the same ports again when they are free. Written
//! atomically; removed when nothing is published.

use super::want::PortKey;
use crate::network::{Protocol, PublishedPort};
use crate::project::ProjectDir;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
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
