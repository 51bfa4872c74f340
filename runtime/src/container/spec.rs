//! The container spec: everything the runtime needs to start one container,
//! as plain Rust (no YAML). The CLI/supervisor maps a Compose service onto
//! it; the init reads it back from `config.json` in the state directory.

use crate::cgroups::Resources;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Docker's default PATH, set when the image's environment has none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Docker's default /dev/shm size (64 MiB).
pub const DEFAULT_SHM_SIZE: u64 = 64 * 1024 * 1024;

/// One container, fully resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerSpec {
    /// Unique id (`<project>-<service>-<n>`); names the cgroup unless
    /// `cgroup_name` is set.
    pub id: String,
    /// The cgroup's leaf name when it is not the id: the project layer
    /// prefixes the state root's scope ([`crate::scope::cgroup_name`]),
    /// since ids are unique per root but cgroups machine-wide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup_name: Option<String>,
    /// The container's hostname (UTS namespace).
    pub hostname: String,
    /// Compose `domainname`: the UTS namespace's NIS domain name
    /// (setdomainname(2)); empty leaves the kernel's "(none)", as Docker.
    /// Absent from records written before it existed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub domainname: String,
    /// Root filesystem: overlay lower dirs, top-most first.
    pub rootfs: RootfsSpec,
    /// The workload process.
    pub process: ProcessSpec,
    /// Bind and tmpfs mounts, applied in order after the defaults.
    #[serde(default)]
    pub mounts: Vec<Mount>,
    /// Size of /dev/shm in bytes.
    #[serde(default = "default_shm_size")]
    pub shm_size: u64,
    /// Contents of the per-container /etc/hosts and /etc/resolv.conf.
    #[serde(default)]
    pub etc: EtcFiles,
    /// Capabilities and privileged mode.
    #[serde(default)]
    pub security: SecuritySpec,
    /// cgroup limits.
    #[serde(default)]
    pub resources: Resources,
    /// Which network namespace the container lives in.
    #[serde(default)]
    pub network: NetworkMode,
    /// Compose `sysctls:` (namespaced kernel parameters only).
    #[serde(default)]
    pub sysctls: BTreeMap<String, String>,
    /// Compose `devices:` — host device nodes made available inside.
    #[serde(default)]
    pub devices: Vec<DeviceMapping>,
}

/// One Compose `devices:` entry, `HOST[:CONTAINER[:PERMISSIONS]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceMapping {
    /// A character or block device on the host, e.g. /dev/fuse.
    pub host_path: PathBuf,
    /// Where it appears in the container (absolute).
    pub container_path: String,
    /// Any of "r", "w", "m" (default "rwm").
    #[serde(default = "default_device_permissions")]
    pub permissions: String,
}

fn default_device_permissions() -> String {
    "rwm".to_string()
}

fn default_shm_size() -> u64 {
    DEFAULT_SHM_SIZE
}

/// The root filesystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootfsSpec {
    /// Unpacked image layers, top-most first (overlayfs `lowerdir` order).
    pub lower_dirs: Vec<PathBuf>,
    /// Compose `read_only: true`: the merged root is mounted read-only.
    #[serde(default)]
    pub read_only: bool,
}

/// The workload: what to run and as whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessSpec {
    /// argv; `args[0]` is looked up in the container's PATH if it has no '/'.
    pub args: Vec<String>,
    /// `KEY=value` entries.
    #[serde(default)]
    pub env: Vec<String>,
    /// Working directory inside the container (created if missing, as Docker).
    #[serde(default = "default_cwd")]
    pub cwd: String,
    /// Compose `user:` — "", "name", "uid", "name:group", "uid:gid".
    #[serde(default)]
    pub user: String,
    /// Extra supplementary groups (Compose `group_add`), names or gids.
    #[serde(default)]
    pub additional_groups: Vec<String>,
    /// Resource limits (Compose `ulimits`).
    #[serde(default)]
    pub rlimits: Vec<Rlimit>,
    /// `security_opt: [no-new-privileges:true]`.
    #[serde(default)]
    pub no_new_privileges: bool,
    /// Compose `oom_score_adj` (-1000..=1000). Lowering it below the
    /// runtime's own value needs CAP_SYS_RESOURCE on the host.
    #[serde(default)]
    pub oom_score_adj: Option<i32>,
    /// Compose `tty: true`: stdin, stdout and stderr are a pseudo-terminal
    /// (its output is logged as "stdout", with the terminal's "\r\n").
    #[serde(default)]
    pub tty: bool,
    /// An exec with every capability and no seccomp filter, whatever the
    /// container's own set (`docker exec --privileged`, Compose hooks with
    /// `privileged: true`). Ignored for the workload itself, which follows
    /// the container's `security`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub privileged: bool,
    /// The main process reads stdin from the FIFO `stdin.fifo` in the
    /// state directory (`compose run -i`, Docker's `OpenStdin`) instead of
    /// /dev/null; see `container::stdin`. With `tty` (`compose run` from a
    /// terminal) the init writes what arrives there to the terminal, and
    /// logs the terminal's output as it comes, not line by line, so a
    /// prompt shows before its line ends.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stdin_open: bool,
    /// With `tty`: the terminal's size (rows, columns), the client's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_size: Option<(u16, u16)>,
}

fn default_cwd() -> String {
    "/".to_string()
}

/// One `ulimits` entry, e.g. `nofile: {soft: 1024, hard: 2048}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rlimit {
    /// The Compose name without `RLIMIT_`, lower case: "nofile", "nproc", ...
    pub name: String,
    pub soft: u64,
    pub hard: u64,
}

/// A mount on top of the root filesystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Mount {
    /// A bind mount of a host path (volumes are binds of their `_data`).
    Bind {
        source: PathBuf,
        target: String,
        #[serde(default)]
        read_only: bool,
    },
    /// A tmpfs (Compose `tmpfs:` or `type: tmpfs`).
    Tmpfs {
        target: String,
        #[serde(default)]
        size: Option<u64>,
        #[serde(default)]
        mode: Option<u32>,
    },
}

/// Per-container files bind-mounted over the image's /etc entries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EtcFiles {
    /// /etc/hosts; empty means the loopback entries plus the hostname.
    pub hosts: String,
    /// /etc/resolv.conf; empty means the host's.
    pub resolv_conf: String,
}

/// Capabilities, seccomp and privileged mode.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySpec {
    /// Compose `privileged: true`: all capabilities, no masked paths, no
    /// seccomp filter.
    pub privileged: bool,
    /// Compose `cap_add` (names with or without `CAP_`, or "ALL").
    pub cap_add: Vec<String>,
    /// Compose `cap_drop`.
    pub cap_drop: Vec<String>,
    /// Seccomp mode.
    pub seccomp: SeccompMode,
}

/// `security_opt: [seccomp=unconfined]` or the default filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeccompMode {
    #[default]
    Default,
    Unconfined,
}

/// The container's network namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase", deny_unknown_fields)]
pub enum NetworkMode {
    /// A new namespace with only loopback up (Compose `network_mode: none`,
    /// and the base the network layer attaches veths to).
    #[default]
    Loopback,
    /// The host's namespace (`network_mode: host`).
    Host,
    /// Join an existing namespace, e.g. a bind-mounted `/run/netns/<name>`.
    Join { path: PathBuf },
}

impl ContainerSpec {
    /// A spec with the defaults Docker uses, for `args` on `lower_dirs`.
    pub fn new(id: &str, lower_dirs: Vec<PathBuf>, args: Vec<String>) -> ContainerSpec {
        ContainerSpec {
            id: id.to_string(),
            cgroup_name: None,
            hostname: id.to_string(),
            domainname: String::new(),
            rootfs: RootfsSpec {
                lower_dirs,
                read_only: false,
            },
            process: ProcessSpec {
                args,
                env: Vec::new(),
                cwd: default_cwd(),
                user: String::new(),
                additional_groups: Vec::new(),
                rlimits: Vec::new(),
                no_new_privileges: false,
                oom_score_adj: None,
                tty: false,
                privileged: false,
                stdin_open: false,
                console_size: None,
            },
            mounts: Vec::new(),
            shm_size: DEFAULT_SHM_SIZE,
            etc: EtcFiles::default(),
            security: SecuritySpec::default(),
            resources: Resources::default(),
            network: NetworkMode::default(),
            sysctls: BTreeMap::new(),
            devices: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_round_trips_through_json() {
        let mut spec = ContainerSpec::new("p-web-1", vec!["/l1".into()], vec!["sh".into()]);
        spec.mounts.push(Mount::Tmpfs {
            target: "/run".into(),
            size: Some(1 << 20),
            mode: None,
        });
        spec.network = NetworkMode::Join {
            path: "/run/netns/x".into(),
        };
        let json = serde_json::to_string(&spec).unwrap();
        let back: ContainerSpec = serde_json::from_str(&json).unwrap();
        assert_eq!(back, spec);
    }

    #[test]
    fn records_without_a_domainname_still_load() {
        let mut spec = ContainerSpec::new("p-web-1", vec!["/l1".into()], vec!["sh".into()]);
        let old = serde_json::to_string(&spec).unwrap();
        assert!(!old.contains("domainname"), "{old}");
        assert_eq!(serde_json::from_str::<ContainerSpec>(&old).unwrap(), spec);
        spec.domainname = "example.com".into();
        let json = serde_json::to_string(&spec).unwrap();
        assert!(json.contains(r#""domainname":"example.com""#), "{json}");
        assert_eq!(serde_json::from_str::<ContainerSpec>(&json).unwrap(), spec);
    }
}
