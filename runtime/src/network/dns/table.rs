//! The DNS lookup table of one consumer container, pure: the names it can
//! resolve and their addresses. Like Docker's embedded server, answers are
//! per consumer: a container sees the names of the networks it is attached
//! to (service names, container names, hostnames, aliases), looked up in
//! its networks' order (the first network that knows a name answers), plus
//! the aliases of its own `links:` (which no other container sees). A
//! service's name resolves to all its replicas, rotated on each lookup
//! (round-robin DNS). The table also says where the consumer's unknown
//! names go: its own `dns:` servers when it has some.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// One container's entries on a network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub container: String,
    /// The Compose service (empty for none).
    pub service: String,
    pub aliases: Vec<String>,
    pub address: Ipv4Addr,
}

impl Entry {
    /// The entry of an attached container: its container name, service
    /// name and the attachment's aliases.
    pub fn for_attachment(
        att: &crate::network::Attachment,
        service: &str,
        address: Ipv4Addr,
    ) -> Entry {
        Entry {
            container: att.container.clone(),
            service: service.to_string(),
            aliases: att.aliases.clone(),
            address,
        }
    }

    /// Whether `name` (normalized) names this entry.
    fn named(&self, name: &str) -> bool {
        !name.is_empty()
            && (normalize(&self.container) == name
                || normalize(&self.service) == name
                || self.aliases.iter().any(|a| normalize(a) == name))
    }
}

/// The names of one network: every running container attached to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkNames {
    pub network: String,
    pub entries: Vec<Entry>,
    /// Container → its IPv6 address, on a network with `enable_ipv6`.
    pub ipv6: BTreeMap<String, Ipv6Addr>,
}

/// What one consumer may resolve. Networks are shared between the views
/// of all their consumers (one copy per network, not per container).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    /// The consumer's networks, in its order (highest priority first).
    pub networks: Vec<Arc<NetworkNames>>,
    /// The consumer's `links:` aliases → the linked container's name.
    pub links: BTreeMap<String, String>,
    /// The consumer's own `dns:` servers; empty: the host's.
    pub upstreams: Vec<SocketAddr>,
}

/// Names → addresses for one consumer, with the round-robin state.
#[derive(Debug, Default)]
pub struct DnsTable {
    view: View,
    rotation: AtomicUsize,
    /// AAAA answers rotate on their own: a resolver asks A and AAAA for
    /// one lookup, and one shared counter would step twice.
    rotation6: AtomicUsize,
}

/// DNS names are case-insensitive; a trailing dot is the root.
pub fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl DnsTable {
    pub fn new(view: View) -> DnsTable {
        DnsTable {
            view,
            ..Default::default()
        }
    }

    /// Replace what the consumer sees; the rotation goes on where it was
    /// (a rebuild must not send every client to the first replica again).
    pub fn replace(&mut self, view: View) {
        self.view = view;
    }

    pub fn view(&self) -> &View {
        &self.view
    }

    /// Where the consumer's unknown names go, when it has its own servers.
    pub fn upstreams(&self) -> Option<&[SocketAddr]> {
        (!self.view.upstreams.is_empty()).then_some(self.view.upstreams.as_slice())
    }

    /// The network that answers for `name` and its entries there: for a
    /// `links` alias (the consumer's own name for a container) the linked
    /// container, else what the name names; the first network of the
    /// consumer that has any answers.
    fn matching(&self, name: &str) -> Option<(&NetworkNames, Vec<&Entry>)> {
        let name = normalize(name);
        if name.is_empty() {
            return None;
        }
        let linked = self
            .view
            .links
            .iter()
            .find(|(alias, _)| normalize(alias) == name)
            .map(|(_, target)| target);
        self.view.networks.iter().find_map(|net| {
            let found: Vec<&Entry> = net
                .entries
                .iter()
                .filter(|e| match linked {
                    Some(target) => &e.container == target,
                    None => e.named(&name),
                })
                .collect();
            (!found.is_empty()).then_some((net.as_ref(), found))
        })
    }

    /// Every address `name` has, sorted, before rotation.
    pub fn addresses(&self, name: &str) -> Vec<Ipv4Addr> {
        let mut out: Vec<Ipv4Addr> = self
            .matching(name)
            .map(|(_, found)| found.iter().map(|e| e.address).collect())
            .unwrap_or_default();
        out.sort();
        out.dedup();
        out
    }

    /// The IPv6 addresses `name` has on the network that answers for it,
    /// sorted, before rotation.
    fn addresses6(&self, name: &str) -> Vec<Ipv6Addr> {
        let mut out: Vec<Ipv6Addr> = self
            .matching(name)
            .map(|(net, found)| {
                found
                    .iter()
                    .filter_map(|e| net.ipv6.get(&e.container).copied())
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out.dedup();
        out
    }

    /// The AAAA answer for `name`, rotating as [`DnsTable::lookup`] does.
    pub fn lookup6(&self, name: &str) -> Vec<Ipv6Addr> {
        rotate(self.addresses6(name), &self.rotation6)
    }

    /// The answer to a query for `name`: all addresses, starting one further
    /// along on each call. Empty when the name is not ours.
    pub fn lookup(&self, name: &str) -> Vec<Ipv4Addr> {
        rotate(self.addresses(name), &self.rotation)
    }

    /// True when `name` is one of ours (answer it even without an A record).
    pub fn knows(&self, name: &str) -> bool {
        self.matching(name).is_some()
    }
}

fn rotate<T>(mut addrs: Vec<T>, counter: &AtomicUsize) -> Vec<T> {
    if addrs.len() > 1 {
        let n = counter.fetch_add(1, Ordering::Relaxed) % addrs.len();
        addrs.rotate_left(n);
    }
    addrs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(container: &str, service: &str, aliases: &[&str], last: u8) -> Entry {
        Entry {
            container: container.into(),
            service: service.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            address: Ipv4Addr::new(10, 89, 0, last),
        }
    }

    fn net(name: &str, entries: Vec<Entry>) -> Arc<NetworkNames> {
        Arc::new(NetworkNames {
            network: name.into(),
            entries,
            ipv6: BTreeMap::new(),
        })
    }

    fn table(networks: Vec<Arc<NetworkNames>>) -> DnsTable {
        DnsTable::new(View {
            networks,
            ..Default::default()
        })
    }

    #[test]
    fn service_container_and_alias_names_resolve() {
        let t = table(vec![net(
            "a",
            vec![
                entry("shop-web-1", "web", &["www"], 2),
                entry("shop-db-1", "db", &[], 3),
            ],
        )]);
        assert_eq!(t.lookup("web"), [Ipv4Addr::new(10, 89, 0, 2)]);
        assert_eq!(t.lookup("SHOP-WEB-1."), [Ipv4Addr::new(10, 89, 0, 2)]);
        assert_eq!(t.lookup("www"), [Ipv4Addr::new(10, 89, 0, 2)]);
        assert_eq!(t.lookup("db"), [Ipv4Addr::new(10, 89, 0, 3)]);
        assert!(t.lookup("cache").is_empty());
        assert!(t.lookup("").is_empty());
        assert!(!t.knows("cache"));
    }

    #[test]
    fn replicas_rotate() {
        let t = table(vec![net(
            "a",
            (1..=3)
                .map(|n| entry(&format!("p-web-{n}"), "web", &[], n + 1))
                .collect(),
        )]);
        let firsts: Vec<u8> = (0..4).map(|_| t.lookup("web")[0].octets()[3]).collect();
        assert_eq!(firsts, [2, 3, 4, 2]);
        assert_eq!(t.lookup("web").len(), 3);
    }

    #[test]
    fn a_rebuild_keeps_the_rotation() {
        let replicas = || {
            net(
                "a",
                (1..=2)
                    .map(|n| entry(&format!("p-web-{n}"), "web", &[], n + 1))
                    .collect(),
            )
        };
        let mut t = table(vec![replicas()]);
        assert_eq!(t.lookup("web")[0].octets()[3], 2);
        t.replace(View {
            networks: vec![replicas()],
            ..Default::default()
        });
        assert_eq!(t.lookup("web")[0].octets()[3], 3, "rotation kept");
        let servers = vec!["192.0.2.53:53".parse().unwrap()];
        assert_eq!(t.upstreams(), None);
        t.replace(View {
            networks: vec![replicas()],
            upstreams: servers.clone(),
            ..Default::default()
        });
        assert_eq!(t.upstreams(), Some(servers.as_slice()));
    }

    #[test]
    fn the_first_network_that_knows_a_name_answers() {
        let mut front = entry("p-web-1", "web", &[], 2);
        front.address = Ipv4Addr::new(10, 89, 1, 2);
        let t = table(vec![
            net("front", vec![front]),
            net(
                "back",
                vec![
                    entry("p-web-1", "web", &[], 2),
                    entry("p-db-1", "db", &[], 3),
                ],
            ),
        ]);
        assert_eq!(t.lookup("web"), [Ipv4Addr::new(10, 89, 1, 2)]);
        assert_eq!(t.lookup("db"), [Ipv4Addr::new(10, 89, 0, 3)]);
    }

    #[test]
    fn links_aliases_name_the_linked_container_only() {
        let mut t = table(vec![net(
            "a",
            vec![entry("p-db-1", "db", &[], 3), entry("p-db-2", "db", &[], 4)],
        )]);
        assert!(!t.knows("database"));
        t.replace(View {
            networks: t.view().networks.clone(),
            links: BTreeMap::from([("Database".to_string(), "p-db-2".to_string())]),
            upstreams: vec![],
        });
        assert_eq!(t.lookup("database."), [Ipv4Addr::new(10, 89, 0, 4)]);
        // A link to a container that is not running (or not on the
        // consumer's networks) is no name at all.
        t.replace(View {
            networks: t.view().networks.clone(),
            links: BTreeMap::from([("cache".to_string(), "p-cache-1".to_string())]),
            upstreams: vec![],
        });
        assert!(!t.knows("cache"));
    }

    #[test]
    fn ipv6_addresses_answer_aaaa_for_the_same_names() {
        let v6 = |n: u16| Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, n);
        let t = table(vec![Arc::new(NetworkNames {
            network: "a".into(),
            entries: vec![
                entry("p-web-1", "web", &["www"], 2),
                entry("p-web-2", "web", &[], 3),
            ],
            ipv6: BTreeMap::from([
                ("p-web-1".to_string(), v6(2)),
                ("p-web-2".to_string(), v6(3)),
            ]),
        })]);
        assert_eq!(t.lookup6("www"), [v6(2)]);
        let firsts: Vec<Ipv6Addr> = (0..3).map(|_| t.lookup6("web")[0]).collect();
        assert_eq!(firsts, [v6(2), v6(3), v6(2)]);
        assert_eq!(
            t.lookup("web")[0],
            Ipv4Addr::new(10, 89, 0, 2),
            "A rotates apart"
        );
        assert!(t.lookup6("db").is_empty());
    }
}
