//! The DNS lookup table of one network, pure: which names (service names,
//! container names, aliases) resolve to which addresses. A service's name
//! resolves to all its replicas, rotated on each lookup (round-robin DNS,
//! as Docker's embedded server does). It also says where a client's
//! unknown names go: a container with its own `dns:` servers has them as
//! upstreams (Docker's embedded server forwards to the container's `dns`).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

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
}

/// Names → addresses for one network.
#[derive(Debug, Default)]
pub struct DnsTable {
    entries: BTreeMap<String, Entry>,
    /// Client address → the upstreams its unknown names go to.
    upstreams: BTreeMap<IpAddr, Vec<SocketAddr>>,
    /// Who may ask (the network's subnet); `None`: anyone.
    clients: Option<ipnet::Ipv4Net>,
    /// Container → its IPv6 address, on a network with `enable_ipv6`.
    ipv6: BTreeMap<String, Ipv6Addr>,
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
    pub fn new() -> DnsTable {
        DnsTable::default()
    }

    /// Add or replace a container's entries.
    pub fn upsert(&mut self, entry: Entry) {
        self.entries.insert(entry.container.clone(), entry);
    }

    pub fn remove(&mut self, container: &str) -> Option<Entry> {
        self.entries.remove(container)
    }

    /// Replace every entry and client upstream at once; the rotation goes
    /// on where it was (a rebuild must not send every client to the first
    /// replica again). Returns whether anything changed.
    pub fn replace(
        &mut self,
        entries: Vec<Entry>,
        upstreams: BTreeMap<IpAddr, Vec<SocketAddr>>,
    ) -> bool {
        let entries: BTreeMap<String, Entry> = entries
            .into_iter()
            .map(|e| (e.container.clone(), e))
            .collect();
        let changed = entries != self.entries || upstreams != self.upstreams;
        self.entries = entries;
        self.upstreams = upstreams;
        changed
    }

    /// Answer only clients in `subnet`: the server listens on the host,
    /// where other projects' containers could reach it and learn this
    /// network's names (or use it as an open resolver).
    pub fn restrict_to(&mut self, subnet: ipnet::Ipv4Net) {
        self.clients = Some(subnet);
    }

    /// Whether `client` may ask.
    pub fn serves(&self, client: IpAddr) -> bool {
        match (self.clients, client) {
            (None, _) => true,
            (Some(net), IpAddr::V4(v4)) => net.contains(&v4),
            (Some(_), IpAddr::V6(_)) => false,
        }
    }

    /// Where `client`'s unknown names go, when it has its own servers.
    pub fn upstreams_for(&self, client: IpAddr) -> Option<&[SocketAddr]> {
        self.upstreams.get(&client).map(Vec::as_slice)
    }

    /// Every entry, by container name.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// Every address `name` has, sorted, before rotation.
    pub fn addresses(&self, name: &str) -> Vec<Ipv4Addr> {
        let mut out: Vec<Ipv4Addr> = self.matching(name).map(|e| e.address).collect();
        out.sort();
        out.dedup();
        out
    }

    /// The entries `name` names.
    fn matching(&self, name: &str) -> impl Iterator<Item = &Entry> {
        let name = normalize(name);
        self.entries.values().filter(move |e| {
            !name.is_empty()
                && (normalize(&e.container) == name
                    || normalize(&e.service) == name
                    || e.aliases.iter().any(|a| normalize(a) == name))
        })
    }

    /// Set the containers' IPv6 addresses; whether anything changed.
    pub fn replace_ipv6(&mut self, ipv6: BTreeMap<String, Ipv6Addr>) -> bool {
        let changed = ipv6 != self.ipv6;
        self.ipv6 = ipv6;
        changed
    }

    /// The AAAA answer for `name`, rotating as [`DnsTable::lookup`] does.
    pub fn lookup6(&self, name: &str) -> Vec<Ipv6Addr> {
        let mut addrs: Vec<Ipv6Addr> = self
            .matching(name)
            .filter_map(|e| self.ipv6.get(&e.container).copied())
            .collect();
        addrs.sort();
        addrs.dedup();
        if addrs.len() > 1 {
            let n = self.rotation6.fetch_add(1, Ordering::Relaxed) % addrs.len();
            addrs.rotate_left(n);
        }
        addrs
    }

    /// The answer to a query for `name`: all addresses, starting one further
    /// along on each call. Empty when the name is not ours.
    pub fn lookup(&self, name: &str) -> Vec<Ipv4Addr> {
        let mut addrs = self.addresses(name);
        if addrs.len() > 1 {
            let n = self.rotation.fetch_add(1, Ordering::Relaxed) % addrs.len();
            addrs.rotate_left(n);
        }
        addrs
    }

    /// True when `name` is one of ours (answer it even without an A record).
    pub fn knows(&self, name: &str) -> bool {
        !self.addresses(name).is_empty()
    }
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

    #[test]
    fn service_container_and_alias_names_resolve() {
        let mut table = DnsTable::new();
        table.upsert(entry("shop-web-1", "web", &["www"], 2));
        table.upsert(entry("shop-db-1", "db", &[], 3));
        assert_eq!(table.lookup("web"), [Ipv4Addr::new(10, 89, 0, 2)]);
        assert_eq!(table.lookup("SHOP-WEB-1."), [Ipv4Addr::new(10, 89, 0, 2)]);
        assert_eq!(table.lookup("www"), [Ipv4Addr::new(10, 89, 0, 2)]);
        assert_eq!(table.lookup("db"), [Ipv4Addr::new(10, 89, 0, 3)]);
        assert!(table.lookup("cache").is_empty());
        assert!(table.lookup("").is_empty());
        table.remove("shop-db-1");
        assert!(!table.knows("db"));
    }

    #[test]
    fn replicas_rotate() {
        let mut table = DnsTable::new();
        for n in 1..=3 {
            table.upsert(entry(&format!("p-web-{n}"), "web", &[], n + 1));
        }
        let firsts: Vec<u8> = (0..4).map(|_| table.lookup("web")[0].octets()[3]).collect();
        assert_eq!(firsts, [2, 3, 4, 2]);
        assert_eq!(table.lookup("web").len(), 3);
    }

    #[test]
    fn a_rebuild_keeps_the_rotation_and_client_upstreams_follow() {
        let mut table = DnsTable::new();
        let replicas = || (1..=2).map(|n| entry(&format!("p-web-{n}"), "web", &[], n + 1));
        assert!(table.replace(replicas().collect(), BTreeMap::new()));
        assert_eq!(table.lookup("web")[0].octets()[3], 2);
        assert!(!table.replace(replicas().collect(), BTreeMap::new()));
        assert_eq!(table.lookup("web")[0].octets()[3], 3, "rotation kept");
        let client: IpAddr = Ipv4Addr::new(10, 89, 0, 2).into();
        let servers = vec!["192.0.2.53:53".parse().unwrap()];
        assert!(table.replace(
            replicas().collect(),
            BTreeMap::from([(client, servers.clone())])
        ));
        assert_eq!(table.upstreams_for(client), Some(servers.as_slice()));
        assert_eq!(
            table.upstreams_for(Ipv4Addr::new(10, 89, 0, 3).into()),
            None
        );
    }

    #[test]
    fn ipv6_addresses_answer_aaaa_for_the_same_names() {
        let mut table = DnsTable::new();
        table.upsert(entry("p-web-1", "web", &["www"], 2));
        table.upsert(entry("p-web-2", "web", &[], 3));
        let v6 = |n: u16| Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, n);
        assert!(table.replace_ipv6(BTreeMap::from([
            ("p-web-1".to_string(), v6(2)),
            ("p-web-2".to_string(), v6(3))
        ])));
        assert_eq!(table.lookup6("www"), [v6(2)]);
        let firsts: Vec<Ipv6Addr> = (0..3).map(|_| table.lookup6("web")[0]).collect();
        assert_eq!(firsts, [v6(2), v6(3), v6(2)]);
        assert_eq!(
            table.lookup("web")[0],
            Ipv4Addr::new(10, 89, 0, 2),
            "A rotates apart"
        );
        assert!(table.lookup6("db").is_empty());
    }

    #[test]
    fn a_restricted_table_serves_its_subnet_only() {
        let mut table = DnsTable::new();
        assert!(table.serves(Ipv4Addr::LOCALHOST.into()));
        table.restrict_to("10.89.0.0/24".parse().unwrap());
        assert!(table.serves(Ipv4Addr::new(10, 89, 0, 9).into()));
        assert!(!table.serves(Ipv4Addr::new(10, 89, 1, 9).into()));
        assert!(!table.serves("::1".parse().unwrap()));
    }
}
