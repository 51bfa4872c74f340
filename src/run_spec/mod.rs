//! From a Compose service to a runtime container spec: the pure mapping of
//! `model::ServiceConfig` + the image's OCI config onto
//! `compose_runtime::container::ContainerSpec`, with Docker's semantics
//! (the engine's `merge` of image and container config, docker compose's
//! `getCreateConfigs`/`getDeployResources`). No I/O: what must exist on the
//! host before the container starts (bind sources to create, volumes to
//! create and seed from the image) is returned as data for the executor.

pub mod health;
mod hooks;
mod limits;
mod mounts;
pub mod network;
mod process;
#[cfg(test)]
mod tests;

use crate::model::{NetworkConfig, ServiceConfig, VolumeConfig};
use compose_runtime::container::spec::EtcFiles;
use compose_runtime::container::{ContainerSpec, Mount};
use compose_runtime::image::oci::ImageConfig;
use indexmap::IndexMap;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use hooks::hook_image_services;
pub use mounts::VolumeUse;

/// Docker's default time between the stop signal and SIGKILL.
pub const DEFAULT_STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Everything besides the service that one container's spec depends on.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub project: &'a str,
    /// `<project>-<service>-<n>` or `container_name`.
    pub container_name: &'a str,
    /// 64 hex digits; its first 12 are the default hostname, as Docker's.
    pub container_id: &'a str,
    pub image: &'a ImageConfig,
    /// Unpacked image layers, top-most first (overlay `lowerdir` order).
    pub lower_dirs: Vec<PathBuf>,
    /// `$COMPOSE_ROOT/volumes`.
    pub volume_root: &'a Path,
    /// The project's top-level `volumes` (named volumes resolve through it).
    pub volumes: &'a IndexMap<String, VolumeConfig>,
    /// Mounts of the containers `volumes_from` may name, keyed by service
    /// name or `container:<name>`.
    pub volumes_from: &'a BTreeMap<String, Vec<Mount>>,
    /// `$COMPOSE_ROOT` (where other containers' network namespaces are).
    pub compose_root: &'a Path,
    /// The project's top-level `networks`.
    pub networks: &'a IndexMap<String, NetworkConfig>,
    /// Each service's first container name (`network_mode: service:`,
    /// `links`).
    pub first_containers: &'a BTreeMap<String, String>,
}

/// A container ready to create: the runtime spec plus what the runtime
/// spec does not carry.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    pub spec: ContainerSpec,
    /// The signal `stop` sends first (`stop_signal`, else the image's, else
    /// SIGTERM).
    pub stop_signal: String,
    pub stop_grace_period: std::time::Duration,
    /// Volumes to create (and seed) before the container starts.
    pub volumes: Vec<VolumeUse>,
    /// Bind sources to create when missing (`bind.create_host_path`).
    pub host_dirs: Vec<PathBuf>,
    /// Networks, ports, links and DNS settings.
    pub networking: network::Networking,
    /// `pre_start`, `post_start` and `pre_stop`.
    pub hooks: compose_runtime::project::hooks::Hooks,
    /// Settings this runtime does not apply yet; `up` prints each once.
    pub notes: Vec<Note>,
}

/// A setting that is accepted but not (yet) applied by the bundled runtime.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Note {
    /// `ports` with a `network_mode` that has no networks of its own.
    PortsDiscarded { mode: String },
    /// A field the runtime ignores (`security_opt: apparmor=...`).
    Ignored { field: String },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::PortsDiscarded { mode } => write!(
                f,
                "published ports are discarded when using network_mode: {mode} (the container has no network of its own to publish from)"
            ),
            Note::Ignored { field } => write!(f, "`{field}` is not supported by the bundled runtime yet and is ignored"),
        }
    }
}

/// A service setting that cannot become a container.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunSpecError {
    #[error("services.{service}.tmpfs[{index}]: cannot read {entry:?}: {reason} (expected PATH[:size=64m,mode=1777])")]
    Tmpfs {
        service: String,
        index: usize,
        entry: String,
        reason: String,
    },
    #[error("services.{service}.security_opt[{index}]: {entry:?} is not a security option this runtime knows (seccomp=unconfined, no-new-privileges[:true|false], apparmor=..., label=...)")]
    SecurityOpt {
        service: String,
        index: usize,
        entry: String,
    },
    #[error("services.{service}.volumes_from[{index}]: {source_name:?} is not a service or container of this project that has been created")]
    VolumesFrom {
        service: String,
        index: usize,
        source_name: String,
    },
    #[error("services.{service}.volumes[{index}]: volume {name:?} is not declared in the top-level `volumes` section")]
    UnknownVolume {
        service: String,
        index: usize,
        name: String,
    },
    #[error("services.{service}.volumes[{index}]: the bind source {source_path:?} must be an absolute path")]
    RelativeBind {
        service: String,
        index: usize,
        source_path: String,
    },
    #[error("services.{service}.volumes[{index}]: volume type {kind:?} is not supported by the bundled runtime (use bind, volume or tmpfs)")]
    VolumeType {
        service: String,
        index: usize,
        kind: String,
    },
    #[error("services.{service}.network_mode: {mode:?} is not a network mode this runtime knows (host, none, service:NAME with NAME a service of the project, container:NAME, or leave it unset)")]
    NetworkMode { service: String, mode: String },
    #[error(
        "services.{service}.networks.{network}.ipv4_address: {value:?} is not an IPv4 address"
    )]
    NetworkAddress {
        service: String,
        network: String,
        value: String,
    },
    #[error(
        "services.{service}.networks.{network}.ipv6_address: {value:?} is not an IPv6 address"
    )]
    NetworkAddress6 {
        service: String,
        network: String,
        value: String,
    },
    #[error("services.{service}.ports[{index}]: {reason}")]
    Port {
        service: String,
        index: usize,
        reason: String,
    },
    #[error("services.{service}.expose[{index}]: {entry:?} is not a port or range with an optional /tcp or /udp")]
    Expose {
        service: String,
        index: usize,
        entry: String,
    },
    #[error("networks.{network}.{field}: {reason}")]
    Network {
        network: String,
        field: String,
        reason: String,
    },
}

/// The container spec of one replica of `service`.
pub fn build(service: &ServiceConfig, ctx: &Context<'_>) -> Result<RunSpec, RunSpecError> {
    let mut notes = Vec::new();
    let mut spec = ContainerSpec::new(
        ctx.container_name,
        ctx.lower_dirs.clone(),
        process::args(service, ctx.image),
    );
    spec.hostname = if service.hostname.is_empty() {
        ctx.container_id.chars().take(12).collect()
    } else {
        service.hostname.clone()
    };
    spec.domainname = service.domainname.clone();
    process::apply(service, ctx.image, &mut spec.process);
    spec.rootfs.read_only = service.read_only;
    spec.etc = etc_files(service);
    let networking = network::networking(service, ctx, &mut notes)?;
    spec.network = networking.mode.clone();
    limits::apply(service, &mut spec, &mut notes)?;
    let mounted = mounts::apply(service, ctx, &mut spec)?;
    let hooks = hooks::hooks(service, ctx.project);
    notes.sort();
    notes.dedup();
    Ok(RunSpec {
        spec,
        stop_signal: stop_signal(service, ctx.image),
        stop_grace_period: service
            .stop_grace_period
            .map_or(DEFAULT_STOP_GRACE, |d| d.as_std()),
        volumes: mounted.volumes,
        host_dirs: mounted.host_dirs,
        networking,
        hooks,
        notes,
    })
}

/// `stop_signal`, else the image's `StopSignal`, else SIGTERM (Docker).
fn stop_signal(service: &ServiceConfig, image: &ImageConfig) -> String {
    if !service.stop_signal.is_empty() {
        return service.stop_signal.clone();
    }
    image
        .config
        .stop_signal
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "SIGTERM".to_string())
}

/// Docker's loopback entries of /etc/hosts (the runtime's default), which a
/// custom file must repeat.
const LOOPBACK_HOSTS: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

/// `/etc/hosts` with `extra_hosts` appended (`IP<TAB>HOST`, as Docker
/// writes them), and `/etc/resolv.conf` from `dns`, `dns_search`,
/// `dns_opt` when any is set; empty fields keep the runtime's defaults.
fn etc_files(service: &ServiceConfig) -> EtcFiles {
    let mut etc = EtcFiles::default();
    if !service.extra_hosts.is_empty() {
        let mut hosts = LOOPBACK_HOSTS.to_string();
        for (host, ips) in &service.extra_hosts.0 {
            for ip in ips {
                hosts.push_str(&format!("{ip}\t{host}\n"));
            }
        }
        etc.hosts = hosts;
    }
    if !(service.dns.is_empty() && service.dns_search.is_empty() && service.dns_opt.is_empty()) {
        let mut resolv = String::new();
        for ns in &service.dns {
            resolv.push_str(&format!("nameserver {ns}\n"));
        }
        if !service.dns_search.is_empty() {
            resolv.push_str(&format!("search {}\n", service.dns_search.join(" ")));
        }
        if !service.dns_opt.is_empty() {
            resolv.push_str(&format!("options {}\n", service.dns_opt.join(" ")));
        }
        etc.resolv_conf = resolv;
    }
    etc
}
