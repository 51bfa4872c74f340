//! What each container's DNS server answers, computed from the project on
//! disk and nothing else (pure). As Docker's embedded server, answers are
//! per consumer: a container sees the running containers of the networks
//! it is attached to (one on networks A and B sees both; one on A only
//! does not see B's), in its own networks' order, plus the aliases of its
//! own `links:` (no other container resolves them), and forwards unknown
//! names to its own `dns:` servers.

use super::super::want::{is_up, servers};
use crate::network::dns::table::{Entry, NetworkNames, View};
use crate::network::NetworkRecord;
use crate::project::{ContainerRecord, Snapshot};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The view of every consumer: the project's up containers on networks
/// and those `starting` (between `publish` and the end of their start), by
/// container name. `networks` is every network of the root; `guests` are
/// other projects' running containers on networks ours are on (a shared
/// external network): they answer by name too.
pub fn views(
    snap: &Snapshot,
    networks: &BTreeMap<String, NetworkRecord>,
    starting: &[&ContainerRecord],
    guests: &[&ContainerRecord],
) -> BTreeMap<String, View> {
    let mut consumers: BTreeMap<&str, &ContainerRecord> = BTreeMap::new();
    for record in snap
        .containers
        .iter()
        .filter(|c| is_up(c))
        .map(|c| &c.record)
        .chain(starting.iter().copied())
        .filter(|r| !r.networks.is_empty())
    {
        consumers.insert(&record.name, record);
    }
    // Guests after ours: a name is one container, ours wins a clash.
    let mut named: BTreeMap<&str, &ContainerRecord> = BTreeMap::new();
    for record in guests.iter().chain(consumers.values()) {
        named.insert(&record.name, record);
    }
    let mut names: BTreeMap<&str, Arc<NetworkNames>> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for consumer in consumers.values() {
        let mut view = View {
            upstreams: servers(&consumer.dns.servers),
            ..Default::default()
        };
        for att in &consumer.networks {
            let Some(net) = networks.get(&att.network) else {
                continue;
            };
            let shared = names
                .entry(att.network.as_str())
                .or_insert_with(|| Arc::new(network_names(&att.network, net, &named)));
            view.networks.push(shared.clone());
        }
        view.links = consumer
            .links
            .iter()
            .map(|l| (l.alias.clone(), l.container.clone()))
            .collect();
        out.insert(consumer.name.clone(), view);
    }
    out
}

/// The names of one network: each named container attached to it with an
/// address there answers to its container name, service name, hostname
/// and the attachment's aliases.
fn network_names(
    name: &str,
    net: &NetworkRecord,
    named: &BTreeMap<&str, &ContainerRecord>,
) -> NetworkNames {
    let mut out = NetworkNames {
        network: name.to_string(),
        ..Default::default()
    };
    for record in named.values() {
        let Some(att) = record.networks.iter().find(|a| a.network == name) else {
            continue;
        };
        let Some(address) = net.leases.get(&record.name) else {
            continue;
        };
        let mut entry = Entry::for_attachment(att, &record.service, *address);
        if !record.spec.hostname.is_empty() {
            entry.aliases.push(record.spec.hostname.clone());
        }
        entry.aliases.sort();
        entry.aliases.dedup();
        out.entries.push(entry);
        if let Some(v6) = net.ipv6.as_ref().and_then(|b| b.leases.get(&record.name)) {
            out.ipv6.insert(record.name.clone(), *v6);
        }
    }
    out
}

#[cfg(test)]
mod tests;
