//! What the supervisor should serve, computed from the project on disk and
//! nothing else (pure): the DNS entries of each network the project created
//! and the published ports with their backends. `NetServices` then makes
//! the running servers and proxies match.

use crate::container::Status;
use crate::network::dns::table::Entry;
use crate::network::{NetworkRecord, PublishedPort};
use crate::project::{ContainerRecord, ObservedContainer, Snapshot};
use crate::supervisor::health::HealthStatus;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};

/// One published port of one service (replicas share it: the proxy
/// balances across them).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortKey {
    pub service: String,
    pub port: PublishedPort,
}

/// A network's DNS server: where it listens and what it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkDns {
    pub gateway: Ipv4Addr,
    /// Who may ask: the network's containers.
    pub subnet: ipnet::Ipv4Net,
    pub entries: Vec<Entry>,
    /// Containers with their own `dns:` servers, by their address here.
    pub upstreams: BTreeMap<IpAddr, Vec<SocketAddr>>,
    /// Container → IPv6 address, on a network with `enable_ipv6`.
    pub ipv6: BTreeMap<String, Ipv6Addr>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    pub dns: BTreeMap<String, NetworkDns>,
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
/// container's first network may be another project's); DNS is served
/// for the project's own (`snap.networks`). `starting` are containers
/// whose ports are published before they run. `guests` are other
/// projects' running containers on [`relevant_networks`] (a network
/// declared `external` by them, or by us): they answer by name too.
///
/// `health` tells a container's health (see `supervisor::health`): where a
/// service has healthy replicas, only they take connections; else every
/// replica that is not unhealthy; else all (something still answers).
pub fn wanted(
    snap: &Snapshot,
    networks: &BTreeMap<String, NetworkRecord>,
    starting: &[&ContainerRecord],
    guests: &[&ContainerRecord],
    health: &dyn Fn(&ObservedContainer) -> Option<HealthStatus>,
) -> Wanted {
    let up: Vec<&ContainerRecord> = snap
        .containers
        .iter()
        .filter(|c| is_up(c))
        .map(|c| &c.record)
        .collect();
    let relevant = relevant_networks(snap);
    let named: Vec<&ContainerRecord> = up.iter().chain(guests).copied().collect();
    let dns = snap
        .networks
        .iter()
        .filter_map(|name| {
            let net = networks.get(name)?;
            Some((
                name.clone(),
                network_dns(name, net, networks, &relevant, &named),
            ))
        })
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
    Wanted { dns, ports, fast }
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

/// The entries of one network: every up container attached to it answers
/// to its service name, container name, hostname and aliases, and to the
/// aliases other containers' `links:` give it. A container asks the server
/// of its first network only, yet Docker resolves every network it is on:
/// so the project's containers on other networks answer here too, with
/// their address there (reachable from a client that shares that network;
/// a client that does not gets an address it cannot reach, where Docker
/// says NXDOMAIN).
fn network_dns(
    name: &str,
    net: &NetworkRecord,
    networks: &BTreeMap<String, NetworkRecord>,
    relevant: &BTreeSet<String>,
    up: &[&ContainerRecord],
) -> NetworkDns {
    let mut link_aliases: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for consumer in up {
        for link in &consumer.links {
            link_aliases
                .entry(link.container.as_str())
                .or_default()
                .push(link.alias.clone());
        }
    }
    let mut entries = Vec::new();
    let mut upstreams = BTreeMap::new();
    let mut ipv6 = BTreeMap::new();
    for record in up {
        let here = record
            .networks
            .iter()
            .find(|a| a.network == name)
            .and_then(|att| Some((att, *net.leases.get(&record.name)?)));
        // Never by a network the project has nothing to do with (another
        // project's private one).
        let elsewhere = || {
            record
                .networks
                .iter()
                .filter(|a| relevant.contains(&a.network))
                .find_map(|att| {
                    let address = networks.get(&att.network)?.leases.get(&record.name)?;
                    Some((att, *address))
                })
        };
        let Some((att, address)) = here.or_else(elsewhere) else {
            continue;
        };
        let mut entry = Entry::for_attachment(att, &record.service, address);
        if !record.spec.hostname.is_empty() {
            entry.aliases.push(record.spec.hostname.clone());
        }
        if let Some(aliases) = link_aliases.get(record.name.as_str()) {
            entry.aliases.extend(aliases.iter().cloned());
        }
        entry.aliases.sort();
        entry.aliases.dedup();
        entries.push(entry);
        if here.is_none() {
            continue;
        }
        if let Some(v6) = net.ipv6.as_ref().and_then(|b| b.leases.get(&record.name)) {
            ipv6.insert(record.name.clone(), *v6);
        }
        let own = servers(&record.dns.servers);
        if !own.is_empty() {
            upstreams.insert(IpAddr::V4(address), own);
        }
    }
    NetworkDns {
        gateway: net.gateway,
        subnet: net.subnet,
        entries,
        upstreams,
        ipv6,
    }
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
pub(super) mod tests;
