//! Project networks, the runtime side: IPAM, one Linux bridge per network,
//! a veth pair per container and network, persistent container network
//! namespaces, NAT and isolation with nftables, the per-network DNS server
//! and published-port proxies. Plain Rust API for the supervisor; no YAML.
//!
//! ```text
//! create(spec)        validate → lease subnet (ipam.json, locked) → bridge + gateway addr → nft
//! create_netns(c)     $COMPOSE_ROOT/netns/<c> (bind mount), the container joins it
//! attach(att, netns)  lease address → veth (host end on the bridge) → peer into netns as ethN,
//!                     address, up, default route via the gateway
//! detach / remove     delete veth / bridge, release, re-render nft; every error collected
//! ```
//! Every kernel step is undone in reverse when a later step fails
//! (netavark's setup.rs), and teardown never stops at the first error.

pub mod dns;
pub mod error;
pub mod ipam;
pub mod link;
pub mod netns;
pub mod nft;
pub mod port;
pub mod proxy;
pub mod spec;
pub mod store;

pub use error::{NetworkError, TeardownError};
pub use ipam::NetworkRecord;
pub use port::{ExposedPort, Link, Protocol, PublishedPort};
pub use spec::{Attachment, NetworkSpec, SpecProblem};

use ipnet::Ipv4Net;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use store::Store;

/// The network layer of one COMPOSE_ROOT.
#[derive(Debug, Clone)]
pub struct Networks {
    root: PathBuf,
    store: Store,
    pool: Ipv4Net,
    table: String,
    /// Mixed into derived interface names ([`spec::scope_for_root`]).
    scope: String,
}

/// What an attachment gave the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    pub network: String,
    pub container: String,
    /// `eth0`, `eth1`, ... inside the container.
    pub interface: String,
    /// The veth end on the host's bridge.
    pub host_interface: String,
    pub address: Ipv4Addr,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    /// On a network with IPv6.
    pub address6: Option<Ipv6Addr>,
}

impl Networks {
    /// The networks under `compose_root`, pool 10.89.0.0/16, and the
    /// root's own nftables table (see [`nft::table_for_root`]).
    pub fn new(compose_root: &Path) -> Networks {
        Networks {
            root: compose_root.to_path_buf(),
            store: Store::new(compose_root),
            pool: ipam::DEFAULT_POOL
                .parse()
                .expect("the default pool is a valid prefix"),
            table: nft::table_for_root(compose_root),
            scope: spec::scope_for_root(compose_root),
        }
    }

    /// Use another nftables table (tests: the table is machine-wide).
    pub fn with_nft_table(mut self, table: &str) -> Networks {
        self.table = table.to_string();
        self
    }

    /// Use another pool for subnets without an explicit `subnet`.
    pub fn with_pool(mut self, pool: Ipv4Net) -> Networks {
        self.pool = pool;
        self
    }

    pub fn nft_table(&self) -> &str {
        &self.table
    }

    /// The bridge a network of this root gets (an explicit
    /// `com.docker.network.bridge.name` as is, else derived).
    pub fn bridge_name(&self, spec: &NetworkSpec) -> String {
        spec.bridge(&self.scope)
    }

    /// The host end of a container's veth on a network of this root.
    pub fn host_ifname(&self, network: &str, container: &str) -> String {
        Attachment::new(network, container).host_ifname(&self.scope)
    }

    /// The network's record, if it was created.
    pub fn get(&self, name: &str) -> Result<Option<NetworkRecord>, NetworkError> {
        Ok(self.store.read()?.networks.remove(name))
    }

    /// Create a network (idempotent for an identical spec).
    pub fn create(&self, spec: &NetworkSpec) -> Result<NetworkRecord, NetworkError> {
        spec.validate()?;
        let mut locked = self.store.lock()?;
        if let Some(rec) = locked.state.networks.get(&spec.name) {
            if rec.spec == *spec {
                // Known network: make sure the kernel still has it (after a
                // reboot the bridge and the table are gone, ipam.json not).
                ensure_bridge(rec)?;
                nft::apply(&locked.state, &self.table)?;
                return Ok(rec.clone());
            }
            return Err(NetworkError::InvalidSpec {
                network: spec.name.clone(),
                problem: SpecProblem::ExistsDifferently,
            });
        }
        let bridge = self.bridge_name(spec);
        if let Some(other) = locked.state.networks.values().find(|o| o.bridge == bridge) {
            return Err(NetworkError::InvalidSpec {
                network: spec.name.clone(),
                problem: SpecProblem::BridgeTaken {
                    bridge,
                    other: other.spec.name.clone(),
                },
            });
        }
        // Subnets are chosen against the host's routes: two state roots
        // choosing at once must not both take the same free one.
        let _host = host_lock()?;
        let routes = host_routes()?;
        locked
            .state
            .allocate_network(spec, &bridge, &routes, self.pool)?;
        if spec.ipv6 {
            if let Err(e) = locked.state.allocate_ipv6(&spec.name, &host_routes6()) {
                locked.state.networks.remove(&spec.name);
                return Err(e);
            }
        }
        let rec = locked.state.networks[&spec.name].clone();
        ensure_bridge(&rec)?;
        let undo_bridge = || delete_bridge(&rec.bridge);
        if let Err(e) = nft::apply(&locked.state, &self.table) {
            let _ = undo_bridge();
            return Err(e);
        }
        if let Err(e) = locked.save() {
            locked.state.networks.remove(&spec.name);
            let _ = nft::apply(&locked.state, &self.table);
            let _ = undo_bridge();
            return Err(e);
        }
        Ok(rec)
    }

    /// Remove a network: every attached veth, the bridge, its leases and
    /// its nft rules. A missing network is no error.
    pub fn remove(&self, name: &str) -> Result<(), TeardownError> {
        let mut errors = Vec::new();
        let mut locked = match self.store.lock() {
            Ok(l) => l,
            Err(e) => return TeardownError::check(vec![e]),
        };
        let Some(rec) = locked.state.networks.remove(name) else {
            return Ok(());
        };
        for container in rec.leases.keys() {
            let host = self.host_ifname(name, container);
            if let Err(e) = delete_host_link(&host) {
                errors.push(e);
            }
        }
        if let Err(e) = delete_bridge(&rec.bridge) {
            errors.push(e);
        }
        if let Err(e) = nft::apply(&locked.state, &self.table) {
            errors.push(e);
        }
        if let Err(e) = locked.save() {
            errors.push(e);
        }
        TeardownError::check(errors)
    }

    /// The persistent netns path of a container.
    pub fn netns_path(&self, container: &str) -> PathBuf {
        netns::netns_path(&self.root, container)
    }

    /// Create the container's network namespace before the container (it
    /// then starts with `NetworkMode::Join { path }`).
    pub fn create_netns(&self, container: &str) -> Result<PathBuf, NetworkError> {
        let path = self.netns_path(container);
        netns::create(&path)?;
        Ok(path)
    }

    /// Unmount and remove the container's namespace.
    pub fn remove_netns(&self, container: &str) -> Result<(), NetworkError> {
        netns::remove(&self.netns_path(container))
    }

    /// Attach a container's namespace to a network.
    pub fn attach(&self, att: &Attachment, netns_path: &Path) -> Result<Attached, NetworkError> {
        let mac = att.mac()?;
        let mut locked = self.store.lock()?;
        let rec = locked
            .state
            .networks
            .get(&att.network)
            .cloned()
            .ok_or_else(|| NetworkError::UnknownNetwork {
                network: att.network.clone(),
            })?;
        let address = locked
            .state
            .lease(&att.network, &att.container, att.ipv4_address)?;
        let address6 = locked
            .state
            .lease6(&att.network, &att.container, att.ipv6_address)?;
        let attached = self.plug(att, &rec, mac, (address, address6), netns_path);
        match attached {
            Ok(attached) => {
                if let Err(e) = locked.save() {
                    let _ = delete_host_link(&attached.host_interface);
                    return Err(e);
                }
                Ok(attached)
            }
            Err(e) => Err(e),
        }
    }

    fn plug(
        &self,
        att: &Attachment,
        rec: &NetworkRecord,
        mac: Option<[u8; 6]>,
        (address, address6): (Ipv4Addr, Option<Ipv6Addr>),
        netns_path: &Path,
    ) -> Result<Attached, NetworkError> {
        let (host, peer) = (
            att.host_ifname(&self.scope),
            att.peer_tmp_ifname(&self.scope),
        );
        let ns_file = std::fs::File::open(netns_path).map_err(|source| NetworkError::Io {
            path: netns_path.to_path_buf(),
            source,
        })?;
        let mtu = rec.spec.mtu;
        let (host_ref, peer_ref, bridge, ns) = (&host, &peer, &rec.bridge, &ns_file);
        let create = || {
            link::with_netlink(None, "create veth", |h| async move {
                link::create_veth(&h, host_ref, peer_ref, bridge, mtu, ns).await
            })
        };
        // A pair of an earlier run of this container may still be on its
        // way out with its namespace (see `teardown_container`): it is ours
        // by name, delete it and try again.
        let created = match create() {
            Err(e) if e.is_exists() => {
                let _ = delete_host_link(&host);
                create()
            }
            other => other,
        };
        created.inspect_err(|_| {
            let _ = delete_host_link(&host);
        })?;
        let cfg = link::InterfaceConfig {
            tmp_name: &peer,
            mac,
            mtu,
            address,
            subnet: rec.subnet,
            gateway: rec.gateway,
            route_metric: att.route_metric(),
            ipv6: rec
                .ipv6
                .as_ref()
                .zip(address6)
                .map(|(b, a)| (a, b.subnet.prefix_len(), b.gateway)),
        };
        let interface = link::with_netlink(
            Some(netns_path),
            "configure the container interface",
            |h| async move { link::configure_in_container(&h, &cfg).await },
        )
        .inspect_err(|_| {
            // Deleting the host end deletes the peer with it.
            let _ = delete_host_link(&host);
        })?;
        Ok(Attached {
            network: att.network.clone(),
            container: att.container.clone(),
            interface,
            host_interface: host,
            address,
            subnet: rec.subnet,
            gateway: rec.gateway,
            address6,
        })
    }

    /// Detach a container from a network: delete its veth, release its
    /// address. Both are tried, whatever fails.
    pub fn detach(&self, network: &str, container: &str) -> Result<(), TeardownError> {
        let mut errors = Vec::new();
        if let Err(e) = delete_host_link(&self.host_ifname(network, container)) {
            errors.push(e);
        }
        match self.store.lock() {
            Ok(mut locked) => {
                if locked.state.release(network, container).is_some() {
                    if let Err(e) = locked.save() {
                        errors.push(e);
                    }
                }
            }
            Err(e) => errors.push(e),
        }
        TeardownError::check(errors)
    }

    /// Detach a container from every network and remove its namespace.
    ///
    /// The veths are not deleted one by one: unmounting the namespace of a
    /// container whose processes are gone destroys it, and the kernel takes
    /// each veth pair with it in the background. Deleting a veth waits for
    /// an RCU grace period (~25 ms a container, most of `down`'s time).
    /// When the namespace cannot be removed the links are deleted here.
    pub fn teardown_container(&self, container: &str) -> Result<(), TeardownError> {
        let mut errors = Vec::new();
        let networks = match self.release_all(container) {
            Ok(networks) => networks,
            Err(e) => {
                errors.push(e);
                Vec::new()
            }
        };
        if let Err(e) = self.remove_netns(container) {
            errors.push(e);
            for network in &networks {
                let host = self.host_ifname(network, container);
                if let Err(e) = delete_host_link(&host) {
                    errors.push(e);
                }
            }
        }
        TeardownError::check(errors)
    }

    /// Give back every address `container` holds; the networks it was on.
    fn release_all(&self, container: &str) -> Result<Vec<String>, NetworkError> {
        let mut locked = self.store.lock()?;
        let networks: Vec<String> = locked
            .state
            .networks
            .iter()
            .filter(|(_, rec)| rec.leases.contains_key(container))
            .map(|(name, _)| name.clone())
            .collect();
        if networks.is_empty() {
            return Ok(networks);
        }
        for network in &networks {
            locked.state.release(network, container);
        }
        locked.save()?;
        Ok(networks)
    }
}

/// Create the network's bridge with its gateway address, or complete it.
fn ensure_bridge(rec: &NetworkRecord) -> Result<(), NetworkError> {
    let (bridge, mtu, gw, subnet) = (&rec.bridge, rec.spec.mtu, rec.gateway, rec.subnet);
    let v6 = rec
        .ipv6
        .as_ref()
        .map(|b| (b.gateway, b.subnet.prefix_len()));
    link::with_netlink(None, "create bridge", |h| async move {
        link::ensure_bridge(&h, bridge, mtu, gw, subnet, v6).await
    })
}

fn delete_host_link(name: &str) -> Result<(), NetworkError> {
    let name = name.to_string();
    link::with_netlink(None, "delete link", |h| async move {
        link::delete_link(&h, &name).await
    })
}

fn delete_bridge(name: &str) -> Result<(), NetworkError> {
    delete_host_link(name)
}

/// Where the machine-wide lock of subnet choice lives.
pub const HOST_LOCK: &str = "/run/compose/networks.lock";

fn host_lock() -> Result<crate::image::lock::LockGuard, NetworkError> {
    let path = Path::new(HOST_LOCK);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| NetworkError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    crate::image::lock::lock(path, true).map_err(|e| NetworkError::Io {
        path: path.to_path_buf(),
        source: e.source,
    })
}

/// The host's IPv6 routes; none when the kernel has no IPv6.
fn host_routes6() -> Vec<ipnet::Ipv6Net> {
    std::fs::read_to_string("/proc/net/ipv6_route")
        .map(|text| ipam::parse_proc_net_ipv6_route(&text))
        .unwrap_or_default()
}

fn host_routes() -> Result<Vec<Ipv4Net>, NetworkError> {
    let path = "/proc/net/route";
    let text = std::fs::read_to_string(path).map_err(|source| NetworkError::Io {
        path: path.into(),
        source,
    })?;
    Ok(ipam::parse_proc_net_route(&text))
}
