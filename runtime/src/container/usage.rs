//! `docker compose stats`: a container's resource usage, its cgroup's
//! (`cgroups::Usage`) plus the bytes its network interfaces received and
//! sent, read from /proc/<init>/net/dev, which shows the interfaces of
//! that process's network namespace (proc(5)).

use crate::cgroups::Usage;
use crate::container::create::Container;
use crate::container::error::ContainerError;
use std::os::unix::fs::MetadataExt;

/// One sample of a container's usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContainerUsage {
    pub cgroup: Usage,
    pub net_rx: u64,
    pub net_tx: u64,
}

/// What the host has, for percentages: total memory (the limit Docker
/// shows for an unlimited container) and online CPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostResources {
    pub memory: u64,
    pub cpus: u64,
}

impl HostResources {
    pub fn read() -> HostResources {
        let memory = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|t| {
                let kb = t.lines().find_map(|l| l.strip_prefix("MemTotal:"))?;
                kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok()
            })
            .map_or(0, |kb| kb * 1024);
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
        HostResources { memory, cpus }
    }
}

impl Container {
    /// A sample of the container's usage now.
    pub fn usage(&self) -> Result<ContainerUsage, ContainerError> {
        let cgroup = self
            .cgroup
            .usage()
            .map_err(|source| ContainerError::Cgroup {
                id: self.id.clone(),
                source,
            })?;
        let (net_rx, net_tx) = network_bytes(self.pid().as_raw());
        Ok(ContainerUsage {
            cgroup,
            net_rx,
            net_tx,
        })
    }
}

/// Bytes received and sent by the interfaces of `pid`'s network namespace
/// but loopback; zero for a container on the host's network (Docker shows
/// no network usage for `network_mode: host`) or one that is gone.
fn network_bytes(pid: i32) -> (u64, u64) {
    let ns = |p: &str| std::fs::metadata(p).map(|m| (m.dev(), m.ino())).ok();
    let theirs = ns(&format!("/proc/{pid}/ns/net"));
    if theirs.is_none() || theirs == ns("/proc/self/ns/net") {
        return (0, 0);
    }
    std::fs::read_to_string(format!("/proc/{pid}/net/dev"))
        .map(|t| parse_net_dev(&t))
        .unwrap_or((0, 0))
}

/// /proc/net/dev: two header lines, then `iface: rx_bytes rx_packets ...
/// (8 receive fields) tx_bytes ...`.
fn parse_net_dev(text: &str) -> (u64, u64) {
    let (mut rx, mut tx) = (0, 0);
    for line in text.lines().skip(2) {
        let Some((iface, fields)) = line.split_once(':') else {
            continue;
        };
        if iface.trim() == "lo" {
            continue;
        }
        let fields: Vec<u64> = fields
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        if fields.len() >= 9 {
            rx += fields[0];
            tx += fields[8];
        }
    }
    (rx, tx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_dev_sums_every_interface_but_loopback() {
        let text = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:     500       5    0    0    0     0          0         0      500       5    0    0    0     0       0          0\n  eth0:    1200      10    0    0    0     0          0         0      648       6    0    0    0     0       0          0\n  eth1:      10       1    0    0    0     0          0         0        2       1    0    0    0     0       0          0\n";
        assert_eq!(parse_net_dev(text), (1210, 650));
    }

    #[test]
    fn host_resources_are_read() {
        let host = HostResources::read();
        assert!(host.memory > 0 && host.cpus > 0, "{host:?}");
    }
}
