//! `compose.json`: what Compose knows about a container that the runtime's
//! own files do not carry — its service and replica number, the config hash
//! and hashed configuration (so the next `up` can name changed fields), the
//! image, the stop signal and grace period, and the spec to start it with.
//! Written atomically when the container is created.

use crate::container::ContainerSpec;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const RECORD_FILE: &str = "compose.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub name: String,
    pub project: String,
    pub service: String,
    pub number: u32,
    /// 64 hex digits, as Docker's container IDs.
    pub id: String,
    pub image: String,
    pub image_id: String,
    pub config_hash: String,
    /// The service's hashed configuration (`model::hash::hashed_config`).
    pub config: serde_json::Value,
    pub created_at: String,
    pub stop_signal: String,
    pub stop_grace_period_ms: u64,
    /// Volumes the container uses (anonymous ones are removed with it by
    /// `down -v` / `rm -v`).
    #[serde(default)]
    pub volumes: Vec<VolumeRef>,
    /// What the supervisor does when the workload exits.
    #[serde(default)]
    pub restart: crate::supervisor::restart::RestartPolicy,
    /// The project networks the container joins, highest priority first
    /// (empty: `spec.network` says where it runs: host, none, or another
    /// container's namespace).
    #[serde(default)]
    pub networks: Vec<crate::network::Attachment>,
    /// `dns`, `dns_search`, `dns_opt`: the resolv.conf of a container on
    /// networks points at the network's DNS server and keeps these.
    #[serde(default)]
    pub dns: DnsSettings,
    /// `ports:`: published by the supervisor's proxies.
    #[serde(default)]
    pub ports: Vec<crate::network::PublishedPort>,
    /// The image's `EXPOSE`, `expose:` and the `ports:` targets.
    #[serde(default)]
    pub exposed: Vec<crate::network::ExposedPort>,
    /// Legacy `links:`, resolved to containers.
    #[serde(default)]
    pub links: Vec<crate::network::Link>,
    /// `post_start` and `pre_stop` hooks.
    #[serde(default, skip_serializing_if = "super::hooks::Hooks::is_empty")]
    pub hooks: super::hooks::Hooks,
    /// The resolved healthcheck (`healthcheck:` over the image's
    /// `HEALTHCHECK`), probed by the supervisor; `None`: no check.
    #[serde(default)]
    pub healthcheck: Option<crate::supervisor::health::HealthCheck>,
    pub spec: ContainerSpec,
}

/// A service's DNS settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsSettings {
    /// `dns`: where names that are not the project's go (else the host's
    /// resolvers).
    #[serde(default)]
    pub servers: Vec<String>,
    #[serde(default)]
    pub search: Vec<String>,
    #[serde(default)]
    pub options: Vec<String>,
}

/// A volume a container uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeRef {
    pub name: String,
    pub anonymous: bool,
}

impl ContainerRecord {
    pub fn read(dir: &Path) -> Result<ContainerRecord, super::ProjectError> {
        let path = dir.join(RECORD_FILE);
        let bytes = std::fs::read(&path).map_err(super::ProjectError::io("read", &path))?;
        serde_json::from_slice(&bytes)
            .map_err(|source| super::ProjectError::Record { path, source })
    }

    /// Write via a temp file and rename, so readers never see half a record.
    pub fn write(&self, dir: &Path) -> Result<(), super::ProjectError> {
        let path = dir.join(RECORD_FILE);
        let tmp = dir.join(".compose.json.tmp");
        let json = serde_json::to_vec_pretty(self).expect("records serialise");
        std::fs::write(&tmp, json).map_err(super::ProjectError::io("write", &tmp))?;
        std::fs::rename(&tmp, &path).map_err(super::ProjectError::io("write", &path))
    }

    pub fn stop_grace_period(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.stop_grace_period_ms)
    }
}

/// A new random container ID (64 hex digits): the kernel's random bytes,
/// hashed with the time and pid so that an unreadable /dev/urandom still
/// gives distinct IDs.
pub fn new_container_id() -> String {
    use sha2::{Digest, Sha256};
    let mut bytes = [0u8; 32];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut bytes);
    }
    let mut h = Sha256::new();
    h.update(bytes);
    h.update(format!(
        "{:?}{}",
        std::time::SystemTime::now(),
        std::process::id()
    ));
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
