//! The network RUN steps get by default: like Docker's default build
//! network, a bridge of the build's own with NAT out, so `RUN apt-get ...`
//! downloads while the step stays out of the host's namespace (it cannot
//! reach services that listen on the host's loopback, nor bind the host's
//! ports). Made on the first RUN that needs it, gone with the build.
//! `network: host` keeps the host's namespace, `none` loopback only.

use super::error::ExecError;
use crate::build::dockerfile::Location;
use crate::network::dns::resolv::nameservers;
use crate::network::{Attachment, NetworkSpec, Networks};
use std::path::{Path, PathBuf};

/// One build's network.
pub struct BuildNet {
    networks: Networks,
    name: String,
    /// The host's resolvers that a NAT'd namespace can reach.
    pub resolv_conf: String,
}

impl BuildNet {
    /// The network of the build whose scratch directory is `scratch`, in
    /// the state root `root`; `None` when the host resolves names only
    /// through loopback (127.0.0.53 and the like, unreachable from another
    /// namespace): RUN steps then use the host's namespace, as before.
    pub fn create(
        root: &Path,
        scratch: &Path,
        at: &Location,
    ) -> Result<Option<BuildNet>, ExecError> {
        let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let reachable: Vec<_> = nameservers(&host)
            .into_iter()
            .filter(|s| !s.ip().is_loopback())
            .collect();
        if reachable.is_empty() {
            return Ok(None);
        }
        let mut resolv_conf: String = reachable
            .iter()
            .map(|s| format!("nameserver {}\n", s.ip()))
            .collect();
        // The host's search domains and options still apply.
        for line in host.lines() {
            if line.starts_with("search ") || line.starts_with("options ") {
                resolv_conf.push_str(line);
                resolv_conf.push('\n');
            }
        }
        let suffix = scratch
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = format!("compose_build_{suffix}");
        let networks = Networks::new(root);
        networks
            .create(&NetworkSpec::new(&name))
            .map_err(|source| network_error(at, source))?;
        Ok(Some(BuildNet {
            networks,
            name,
            resolv_conf,
        }))
    }

    /// Put container `id` on the network: its namespace, for the spec's
    /// `NetworkMode::Join`.
    pub fn join(&self, id: &str, at: &Location) -> Result<PathBuf, ExecError> {
        let path = self
            .networks
            .create_netns(id)
            .map_err(|source| network_error(at, source))?;
        if let Err(source) = self
            .networks
            .attach(&Attachment::new(&self.name, id), &path)
        {
            self.leave(id);
            return Err(network_error(at, source));
        }
        Ok(path)
    }

    /// Take container `id` off the network again.
    pub fn leave(&self, id: &str) {
        let _ = self.networks.teardown_container(id);
    }
}

impl Drop for BuildNet {
    fn drop(&mut self) {
        let _ = self.networks.remove(&self.name);
    }
}

fn network_error(at: &Location, source: crate::network::NetworkError) -> ExecError {
    ExecError::Network {
        at: at.clone(),
        source: Box::new(source),
    }
}
