//! Each container's embedded DNS server, run by the supervisor: sockets on
//! 127.0.0.11:53 (UDP and TCP) bound inside the container's network
//! namespace when it joins its networks ([`NetServices::bind_dns`], from
//! `Services::joined`, before its workload runs), served on the
//! supervisor's tokio runtime from the next refresh on (which has its
//! view: a query sent before waits in the socket's queue), and dropped on
//! the first refresh after it stopped. Every refresh gives each server its
//! container's current view ([`views::views`]). A restarted supervisor
//! binds them again for the containers still running (their namespace
//! files outlive it), and a container whose namespace was made anew gets
//! new sockets there.
//!
//! Forwarded queries leave from the runtime's threads, in the supervisor's
//! own namespace (the host's), as before: the host's resolvers (even
//! 127.0.0.53) and a container's `dns:` servers are reached from there.

pub mod views;

use super::{log, NetServices, State};
use crate::network::dns::embedded::{self, DnsSockets};
use crate::network::dns::table::{DnsTable, View};
use crate::network::dns::{DnsServer, SharedTable};
use crate::network::netns::netns_path;
use crate::network::NetworkError;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};

/// The servers of the project's containers, by container name.
#[derive(Default)]
pub(super) struct Embedded {
    served: BTreeMap<String, Served>,
}

struct Served {
    /// The namespace the sockets are in (see [`embedded::namespace_id`]).
    namespace: Option<(u64, u64)>,
    serving: Serving,
}

enum Serving {
    /// Bound, waiting for the container's first view.
    Bound(DnsSockets),
    Running {
        table: SharedTable,
        server: DnsServer,
    },
}

impl Served {
    fn server(self) -> Option<DnsServer> {
        match self.serving {
            Serving::Bound(_) => None,
            Serving::Running { server, .. } => Some(server),
        }
    }
}

impl Embedded {
    /// The containers served now, sorted.
    pub(super) fn containers(&self) -> Vec<String> {
        self.served.keys().cloned().collect()
    }

    /// Stop serving every container; the servers to close.
    pub(super) fn take_all(&mut self) -> Vec<DnsServer> {
        std::mem::take(&mut self.served)
            .into_values()
            .filter_map(Served::server)
            .collect()
    }
}

impl NetServices {
    /// Bind `container`'s sockets inside its namespace (replacing those
    /// it had in an earlier namespace); the next [`NetServices::sync_dns`]
    /// serves them with its view.
    pub(super) fn bind_dns(&self, state: &mut State, container: &str) -> Result<(), NetworkError> {
        let path = netns_path(self.project.root(), container);
        let sockets = embedded::bind_in(&path)?;
        let served = Served {
            namespace: embedded::namespace_id(&path),
            serving: Serving::Bound(sockets),
        };
        if let Some(old) = state.dns.served.insert(container.to_string(), served) {
            self.close(std::iter::empty(), old.server().into_iter().collect());
        }
        Ok(())
    }

    /// Serve `served` with `view`: a running server takes the new view, a
    /// bound one starts.
    fn serve(&self, served: Served, view: View) -> Result<Served, NetworkError> {
        let serving = match served.serving {
            Serving::Running { table, server } => {
                table
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .replace(view);
                Serving::Running { table, server }
            }
            Serving::Bound(sockets) => {
                let table: SharedTable = Arc::new(RwLock::new(DnsTable::new(view)));
                // `from_std` and `spawn` need the runtime's context, not a
                // blocking wait on it.
                let _context = self.runtime.enter();
                let server = DnsServer::serve(sockets, table.clone(), self.host_upstreams.clone())?;
                Serving::Running { table, server }
            }
        };
        Ok(Served {
            namespace: served.namespace,
            serving,
        })
    }

    /// Make the servers match `views`: drop those of containers without a
    /// view (stopped, removed) or whose namespace is gone or was made anew,
    /// bind the missing ones of containers that run (re-adoption; a
    /// starting container gets its own from `joined`), and give each its
    /// view.
    pub(super) fn sync_dns(
        &self,
        state: &mut State,
        views: BTreeMap<String, View>,
        running: &BTreeSet<String>,
    ) {
        let root = self.project.root();
        let stale: Vec<String> = state
            .dns
            .served
            .iter()
            .filter(|(name, served)| {
                !views.contains_key(*name)
                    || embedded::namespace_id(&netns_path(root, name)) != served.namespace
            })
            .map(|(name, _)| name.clone())
            .collect();
        let closed: Vec<DnsServer> = stale
            .iter()
            .filter_map(|n| state.dns.served.remove(n))
            .filter_map(Served::server)
            .collect();
        self.close(std::iter::empty(), closed);
        for (name, view) in views {
            if !state.dns.served.contains_key(&name) && running.contains(&name) {
                if let Err(e) = self.bind_dns(state, &name) {
                    log(state, format!("DNS server of container {name}: {e}"));
                }
            }
            let Some(served) = state.dns.served.remove(&name) else {
                continue;
            };
            match self.serve(served, view) {
                Ok(served) => {
                    state.dns.served.insert(name, served);
                }
                Err(e) => log(state, format!("DNS server of container {name}: {e}")),
            }
        }
    }
}
