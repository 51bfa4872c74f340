//! The supervisor's network services: one DNS server per container, on
//! 127.0.0.11:53 inside its own namespace (`dns`), and one proxy per
//! published port of a service, balancing across its running replicas.
//! Both follow the project on disk: every [`Services::refresh`] rebuilds
//! the wanted state ([`want::wanted`]) and makes the servers and proxies
//! match it. They run on the supervisor's own tokio runtime, so they live
//! exactly as long as the supervisor; a new supervisor re-adopts them from
//! disk (`ports.json` keeps the host ports it bound).
//!
//! A port is published by [`Services::publish`] before its container
//! starts, so a port in use fails the start before anything runs. Until
//! the thread that published it has refreshed after the start (or died),
//! the proxy is kept even though no replica runs yet: other services start
//! in parallel threads and refresh meanwhile.
//!
//! While a port has ready replicas the kernel forwards it (DNAT rules,
//! [`ports::FastPath`]) and its proxy only holds the port; the rules of a
//! port going away are removed before its socket closes.

mod dns;
pub mod ports;
mod snapshot;
pub mod want;

use crate::network::dns::{resolv, DnsServer};
use crate::network::proxy::{Backends, PortProxy};
use crate::network::store::Store;
use crate::network::{NetworkError, NetworkRecord, Protocol};
use crate::project::{ContainerRecord, ProjectDir, ProjectError, Services, Snapshot};
use ports::PortEntry;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::thread::ThreadId;
use want::{PortKey, Wanted};

/// The DNS servers and port proxies of one project.
pub struct NetServices {
    project: ProjectDir,
    /// Where names that are not the project's go (the host's resolvers).
    host_upstreams: Vec<SocketAddr>,
    state: Mutex<State>,
    /// Declared last: dropped after every server and proxy.
    runtime: tokio::runtime::Runtime,
}

#[derive(Default)]
struct State {
    dns: dns::Embedded,
    proxies: BTreeMap<PortKey, Bound>,
    starting: Vec<Starting>,
    /// What a previous supervisor bound (ports.json at our start).
    previous: Vec<PortEntry>,
    /// What ports.json says now.
    written: Vec<PortEntry>,
    /// Failures already logged (a refresh every tick must not repeat them).
    logged: BTreeSet<String>,
    /// The kernel fast path; `None` only in `State::default()`, which
    /// `new` completes.
    fast: Option<ports::FastPath>,
}

/// The proxies of one published port: one, or for a port without
/// `host_ip` one on `0.0.0.0` and one on `[::]` (as Docker publishes).
struct Bound {
    backends: Backends,
    entries: Vec<PortEntry>,
    proxies: Vec<PortProxy>,
}

/// A container between `publish` and the end of its start.
struct Starting {
    record: ContainerRecord,
    thread: ThreadId,
    /// Dead once the publishing thread exited (a start that failed before
    /// its refresh).
    alive: Weak<()>,
}

thread_local! {
    static ALIVE: Arc<()> = Arc::new(());
}

impl Starting {
    fn here(record: &ContainerRecord) -> Starting {
        Starting {
            record: record.clone(),
            thread: std::thread::current().id(),
            alive: ALIVE.with(Arc::downgrade),
        }
    }

    /// Still starting, seen from a refresh on the current thread.
    fn pending(&self) -> bool {
        self.thread != std::thread::current().id() && self.alive.strong_count() > 0
    }
}

impl NetServices {
    /// The services of `project`, nothing served yet (see [`NetServices::refresh`]).
    pub fn new(project: ProjectDir) -> std::io::Result<NetServices> {
        // Two workers: a proxy copies in both directions at once.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("compose-net")
            .enable_all()
            .build()?;
        let host_upstreams = std::fs::read_to_string("/etc/resolv.conf")
            .map(|text| resolv::nameservers(&text))
            .unwrap_or_default();
        let previous = ports::read(&project);
        Ok(NetServices {
            state: Mutex::new(State {
                fast: Some(ports::FastPath::new(&project, !previous.is_empty())),
                written: previous.clone(),
                previous,
                ..Default::default()
            }),
            project,
            host_upstreams,
            runtime,
        })
    }

    /// Where unknown names go (tests point this at a fake resolver).
    pub fn with_upstreams(mut self, upstreams: Vec<SocketAddr>) -> NetServices {
        self.host_upstreams = upstreams;
        self
    }

    /// What is published now, sorted.
    pub fn ports(&self) -> Vec<PortEntry> {
        let mut entries: Vec<PortEntry> = self
            .lock()
            .proxies
            .values()
            .flat_map(|b| b.entries.iter().cloned())
            .collect();
        entries.sort();
        entries
    }

    /// The containers whose DNS server runs, sorted.
    pub fn dns_clients(&self) -> Vec<String> {
        self.lock().dns.containers()
    }

    /// Stop serving: every server and proxy closes (supervisor exit).
    /// ports.json stays for the next supervisor of still-running containers.
    pub fn shutdown(&self) {
        let mut state = self.lock();
        sync_fast(&mut state, &BTreeMap::new());
        let proxies = std::mem::take(&mut state.proxies);
        let dns = state.dns.take_all();
        self.close(proxies.into_values(), dns);
    }

    /// Close servers and proxies and wait until their sockets are gone:
    /// a port released by a stop can be bound again right away.
    fn close(&self, proxies: impl Iterator<Item = Bound>, servers: Vec<DnsServer>) {
        let proxies: Vec<PortProxy> = proxies.flat_map(|b| b.proxies).collect();
        if proxies.is_empty() && servers.is_empty() {
            return;
        }
        self.runtime.block_on(async {
            for proxy in proxies {
                proxy.close().await;
            }
            for server in servers {
                server.close().await;
            }
        });
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every network of the root. Read without the IPAM lock: ipam.json is
    /// replaced atomically, and a refresh every tick must not contend with
    /// other projects' attaches for the lock.
    fn networks(&self) -> Result<BTreeMap<String, NetworkRecord>, NetworkError> {
        let path = Store::new(self.project.root()).path();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(source) => return Err(NetworkError::Io { path, source }),
        };
        let state: crate::network::ipam::IpamState = serde_json::from_slice(&bytes)
            .map_err(|source| NetworkError::State { path, source })?;
        Ok(state.networks)
    }

    /// Make servers and proxies match the project now; the ports that
    /// could not be bound, with why.
    fn sync(&self, state: &mut State) -> Result<Vec<(PortKey, NetworkError)>, ProjectError> {
        // Read under the state lock: a snapshot older than another
        // thread's sync would undo what that one did.
        let snap: Snapshot = snapshot::snapshot(&self.project);
        let starting: Vec<&ContainerRecord> = state.starting.iter().map(|s| &s.record).collect();
        // A project without networks has nothing to serve and no reason
        // to read the root's network state.
        let networked = !snap.networks.is_empty()
            || !starting.is_empty()
            || snap
                .containers
                .iter()
                .any(|c| !c.record.networks.is_empty());
        let networks = if networked {
            self.networks()?
        } else {
            BTreeMap::new()
        };
        let guests = if networked {
            snapshot::guests(&self.project, &want::relevant_networks(&snap))
        } else {
            Vec::new()
        };
        let guests: Vec<&ContainerRecord> = guests.iter().collect();
        let wanted = want::wanted(
            &snap,
            &networks,
            &starting,
            &crate::supervisor::health::health_of,
        );
        let running = snap
            .containers
            .iter()
            .filter(|c| want::is_up(c))
            .map(|c| c.record.name.clone())
            .collect();
        let views = dns::views::views(&snap, &networks, &starting, &guests);
        self.sync_dns(state, views, &running);
        // Rules of ports going away go before their sockets close.
        sync_fast(state, &wanted.fast);
        let failed = self.sync_ports(state, &wanted);
        let mut entries: Vec<PortEntry> = state
            .proxies
            .values()
            .flat_map(|b| b.entries.iter().cloned())
            .collect();
        entries.sort();
        if entries != state.written {
            if let Err(e) = ports::write(&self.project, &entries) {
                log(
                    state,
                    format!("cannot write {}: {e}", ports::path(&self.project).display()),
                );
            }
            state.written = entries;
        }
        // After ports.json: a supervisor that dies now leaves rules its
        // successor knows to replace.
        sync_fast(state, &wanted.fast);
        Ok(failed)
    }

    fn sync_ports(&self, state: &mut State, wanted: &Wanted) -> Vec<(PortKey, NetworkError)> {
        let gone: Vec<PortKey> = state
            .proxies
            .keys()
            .filter(|key| !wanted.ports.contains_key(*key))
            .cloned()
            .collect();
        let closed: Vec<Bound> = gone
            .iter()
            .filter_map(|k| state.proxies.remove(k))
            .collect();
        self.close(closed.into_iter(), Vec::new());
        let mut failed = Vec::new();
        for (key, backends) in &wanted.ports {
            if let Some(bound) = state.proxies.get(key) {
                bound.backends.set(backends.clone());
                continue;
            }
            let backends = Backends::new(backends.clone());
            match self.bind(state, key, &backends) {
                Ok((proxy, port)) => {
                    let mut bound = Bound {
                        backends,
                        entries: vec![PortEntry::new(key, port)],
                        proxies: vec![proxy],
                    };
                    if key.port.host_ip.is_none() {
                        self.bind_v6_twin(key, port, &mut bound);
                    }
                    state.proxies.insert(key.clone(), bound);
                }
                Err(e) => failed.push((key.clone(), e)),
            }
        }
        failed
    }

    /// A port published without `host_ip` also listens on `[::]` (IPv6
    /// only), so `localhost` resolving to ::1 reaches it too. Best effort:
    /// a host without IPv6, or with the port taken there, keeps IPv4 only.
    fn bind_v6_twin(&self, key: &PortKey, port: u16, bound: &mut Bound) {
        let addr = SocketAddr::new(std::net::Ipv6Addr::UNSPECIFIED.into(), port);
        let backends = bound.backends.clone();
        let twin = match key.port.protocol {
            Protocol::Tcp => self.runtime.block_on(PortProxy::tcp(addr, backends)),
            Protocol::Udp => self.runtime.block_on(PortProxy::udp(addr, backends)),
        };
        if let Ok(proxy) = twin {
            bound.entries.push(PortEntry {
                host_ip: addr.ip(),
                ..PortEntry::new(key, port)
            });
            bound.proxies.push(proxy);
        }
    }

    /// Listen for `key`: the first host port of its candidates that is
    /// free. A port one of our own proxies holds is named as that service's.
    fn bind(
        &self,
        state: &State,
        key: &PortKey,
        backends: &Backends,
    ) -> Result<(PortProxy, u16), NetworkError> {
        let ip = ports::host_ip(&key.port);
        let proto = key.port.protocol;
        let previous = state
            .previous
            .iter()
            .find(|e| e.is_for(key))
            .map(|e| e.host_port);
        let candidates = ports::candidates(&key.port, previous);
        let mut last_error = None;
        for port in &candidates {
            if let Some(other) = state
                .proxies
                .values()
                .flat_map(|b| &b.entries)
                .find(|e| *port != 0 && e.overlaps(ip, *port, proto))
            {
                last_error = Some(NetworkError::PortInUse {
                    addr: SocketAddr::new(ip, *port),
                    proto: proto.as_str(),
                    holder: Some(format!("service {} of this project", other.service)),
                    source: std::io::ErrorKind::AddrInUse.into(),
                });
                continue;
            }
            let addr = SocketAddr::new(ip, *port);
            let listening = match proto {
                Protocol::Tcp => self
                    .runtime
                    .block_on(PortProxy::tcp(addr, backends.clone())),
                Protocol::Udp => self
                    .runtime
                    .block_on(PortProxy::udp(addr, backends.clone())),
            };
            match listening {
                Ok(proxy) => {
                    let port = proxy.local_addr().port();
                    return Ok((proxy, port));
                }
                Err(e @ NetworkError::PortInUse { .. }) => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        match (key.port.host_ports, last_error) {
            (Some((first, last)), Some(_)) if first != last => Err(NetworkError::PortRangeInUse {
                host_ip: ip,
                first,
                last,
                proto: proto.as_str(),
            }),
            (_, Some(e)) => Err(e),
            (_, None) => Err(NetworkError::Listen {
                addr: SocketAddr::new(ip, 0),
                proto: proto.as_str(),
                source: std::io::ErrorKind::InvalidInput.into(),
            }),
        }
    }
}

impl Drop for NetServices {
    /// Sockets are closed before the runtime goes (which would close them
    /// too, in no particular order).
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Make the fast path forward the bound ports of `fast`.
fn sync_fast(state: &mut State, fast: &BTreeMap<PortKey, Vec<std::net::SocketAddrV4>>) {
    let bound = state
        .proxies
        .iter()
        .flat_map(|(key, b)| b.entries.iter().map(move |e| (key, e)));
    let wanted = ports::nat_ports(bound, fast);
    let Some(path) = state.fast.as_mut() else {
        return;
    };
    if let Err(e) = path.sync(wanted) {
        log(state, format!("published ports stay on the proxy: {e}"));
    }
}

/// Into the supervisor's log, once per distinct message.
fn log(state: &mut State, message: String) {
    if state.logged.insert(message.clone()) {
        eprintln!("{message}");
    }
}

/// A port a refresh could not bind, for the log.
fn failure(key: &PortKey, e: &NetworkError) -> String {
    format!(
        "service {}: publishing {}/{}: {e}",
        key.service, key.port.container_port, key.port.protocol
    )
}

impl Services for NetServices {
    fn publish(&self, record: &ContainerRecord) -> Result<(), ProjectError> {
        let mut state = self.lock();
        state.starting.push(Starting::here(record));
        let me = std::thread::current().id();
        let forget = |state: &mut State| {
            state
                .starting
                .retain(|s| !(s.thread == me && s.record.name == record.name))
        };
        let failed = match self.sync(&mut state) {
            Ok(failed) => failed,
            Err(e) => {
                forget(&mut state);
                return Err(e);
            }
        };
        let mut mine = None;
        for (key, e) in failed {
            if key.service == record.service && mine.is_none() {
                mine = Some(e);
            } else {
                log(&mut state, failure(&key, &e));
            }
        }
        let Some(source) = mine else {
            return Ok(());
        };
        // Nothing of this start stays published.
        forget(&mut state);
        if let Err(e) = self.sync(&mut state) {
            log(&mut state, e.to_string());
        }
        Err(ProjectError::Publish {
            service: record.service.clone(),
            source,
        })
    }

    fn joined(&self, record: &ContainerRecord) -> Result<(), ProjectError> {
        let mut state = self.lock();
        let err = |source| ProjectError::Network {
            container: record.name.clone(),
            source,
        };
        // Served from the refresh after the start, with its view; a
        // lookup before waits in the socket's queue.
        self.bind_dns(&mut state, &record.name).map_err(err)
    }

    fn refresh(&self) {
        let mut state = self.lock();
        state.starting.retain(Starting::pending);
        match self.sync(&mut state) {
            Ok(failed) => {
                for (key, e) in failed {
                    log(&mut state, failure(&key, &e));
                }
            }
            Err(e) => log(&mut state, e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests;
