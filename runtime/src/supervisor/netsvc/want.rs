//! What the supervisor should serve, computed from the project on disk and
//! nothing else (pure): the published ports with their backends (each
//! container's DNS view is `dns::views`). `NetServices` then makes the
//! running proxies match.

use crate::container::Status;
use crate::network::{NetworkRecord, PublishedPort};
use crate::project::{ContainerRecord, ObservedContainer, Snapshot};
use crate::supervisor::health::HealthStatus;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};

/// One published port of one service (replicas share it: the proxy
/// balances across them).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortKey {
    pub service: String,
    pub port: PublishedPort,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    /// Each published port and the running replicas behind it (empty while
    /// its first replica is still starting).
    pub ports: BTreeMap<PortKey, Vec<SocketAddr>>,
    /// The ports the kernel forwards itself (DNAT), and to which replicas:
    /// of the proxy's choice, the ready ones (healthy, or without a
    /// healthcheck) on a network that forwards (not `internal`). A port
    /// missing here, or with no replica, is left to its proxy.
    pub fast: BTreeMap<PortKey, Vec<SocketAddrV4>>,
}

/// A container that answers by name and takes connections: running, or
/// paused (it keeps its address, as Docker's do), or started and not yet
/// marked running (its init moves state.json to Running after `create`
/// returned; the refresh right after the start must count it).
pub fn is_up(c: &ObservedContainer) -> bool {
    match c.status() {
        Status::Running | Status::Paused => true,
        Status::Created => c.state.as_ref().is_some_and(|s| s.pid.is_some()),
        Status::Stopped => false,
    }
}

/// The networks whose names matter to the project: the ones it created
/// and the ones its running containers are on (external ones included).
pub fn relevant_networks(snap: &Snapshot) -> BTreeSet<String> {
    let mut out = snap.networks.clone();
    for c in snap.containers.iter().filter(|c| is_up(c)) {
        out.extend(c.record.networks.iter().map(|a| a.network.clone()));
    }
    out
}

/// What to serve for `snap`. `networks` is every network of the root (a
/// container's first network may be another project's). `starting` are
/// containers whose ports are published before they run.
///
/// `health` tells a container's health (see `supervisor::health`): where a
/// service has healthy replicas, only they take connections; else every
/// replica that is not unhealthy; else all (something still answers).
pub fn wanted(
    snap: &Snapshot,
    networks: &BTreeMap<String, NetworkRecord>,
    starting: &[&ContainerRecord],
    health: &dyn Fn(&ObservedContainer) -> Option<HealthStatus>,
) -> Wanted {
    let up: Vec<&ContainerRecord> = snap
        .containers
        .iter()
        .filter(|c| is_up(c))
        .map(|c| &c.record)
        .collect();
    let mut ports: BTreeMap<PortKey, Vec<SocketAddr>> = BTreeMap::new();
    // Only containers on project networks publish: with `network_mode:
    // host` the workload listens on the host itself (Docker discards the
    // ports), and a shared namespace is published by its owner.
    let on_networks = |r: &&&ContainerRecord| !r.networks.is_empty();
    for record in starting.iter().chain(&up).filter(on_networks) {
        for port in &record.ports {
            ports.entry(key(record, port)).or_default();
        }
    }
    let mut rated: BTreeMap<PortKey, Vec<Candidate>> = BTreeMap::new();
    for c in snap.containers.iter().filter(|c| is_up(c)) {
        let record = &c.record;
        let Some((address, forwards)) = first_address(record, networks) else {
            continue;
        };
        let status = health(c);
        let rank = match status {
            Some(HealthStatus::Healthy) => Rank::Healthy,
            Some(HealthStatus::Unhealthy) => Rank::Unhealthy,
            Some(HealthStatus::Starting) | None => Rank::Unknown,
        };
        // A replica still starting its healthcheck is not ready yet: the
        // proxy may try it (and the next one when it refuses), DNAT may not.
        let ready = forwards && matches!(status, Some(HealthStatus::Healthy) | None);
        for port in &record.ports {
            rated.entry(key(record, port)).or_default().push(Candidate {
                rank,
                ready,
                addr: SocketAddrV4::new(address, port.container_port),
            });
        }
    }
    let fast = choose(rated, &mut ports);
    Wanted { ports, fast }
}

/// Per port, the proxy's backends (the best-ranked replicas, into
/// `ports`) and of those the ready ones, for the kernel (returned).
fn choose(
    rated: BTreeMap<PortKey, Vec<Candidate>>,
    ports: &mut BTreeMap<PortKey, Vec<SocketAddr>>,
) -> BTreeMap<PortKey, Vec<SocketAddrV4>> {
    let mut fast = BTreeMap::new();
    for (key, candidates) in rated {
        let best = candidates
            .iter()
            .map(|c| c.rank)
            .min()
            .unwrap_or(Rank::Unknown);
        let mut chosen: Vec<&Candidate> = candidates.iter().filter(|c| c.rank == best).collect();
        chosen.sort_by_key(|c| c.addr);
        chosen.dedup_by_key(|c| c.addr);
        let ready: Vec<SocketAddrV4> = chosen.iter().filter(|c| c.ready).map(|c| c.addr).collect();
        if !ready.is_empty() {
            fast.insert(key.clone(), ready);
        }
        ports.insert(key, chosen.iter().map(|c| c.addr.into()).collect());
    }
    fast
}

/// A running replica behind a published port.
struct Candidate {
    rank: Rank,
    /// May take the port's connections straight from the kernel.
    ready: bool,
    addr: SocketAddrV4,
}

/// How much a replica is wanted as a backend, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    Healthy,
    /// No healthcheck, or still starting.
    Unknown,
    Unhealthy,
}

fn key(record: &ContainerRecord, port: &PublishedPort) -> PortKey {
    PortKey {
        service: record.service.clone(),
        port: port.clone(),
    }
}

/// The container's address on its first (highest priority) network: where
/// its published ports are forwarded to; and whether that network
/// forwards from outside (an `internal` one does not).
fn first_address(
    record: &ContainerRecord,
    networks: &BTreeMap<String, NetworkRecord>,
) -> Option<(Ipv4Addr, bool)> {
    let first = record.networks.first()?;
    let net = networks.get(&first.network)?;
    Some((*net.leases.get(&record.name)?, !net.spec.internal))
}

/// A service's `dns:` entries as upstreams: addresses, port 53 unless
/// given (`1.1.1.1`, `[2606:4700::1111]:53`); anything else is skipped.
pub fn servers(texts: &[String]) -> Vec<SocketAddr> {
    texts
        .iter()
        .filter_map(|t| {
            t.parse::<SocketAddr>()
                .ok()
                .or_else(|| t.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 53)))
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests;
