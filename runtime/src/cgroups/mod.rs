//! One cgroup per container: find the host's layout (cgroup v2, possibly the
//! `unified` mount of a hybrid host, else v1 per controller), create the
//! container's group, write its limits, and remove it on cleanup.
//!
//! Groups live at `<hierarchy root>/compose/<container id>`, like Docker's
//! `/docker/<id>`: the intermediate `compose` group holds no process, which
//! cgroup v2's "no internal processes" rule requires for delegation.

pub mod devices;
mod ops;
mod usage;
mod v1;
mod v2;

pub use ops::Stats;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
pub use usage::Usage;

/// Where the cgroup filesystems are mounted on every Linux host we support.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";
/// The parent group of all our containers, under each hierarchy root.
pub const PARENT: &str = "compose";

/// Resource limits of one container (Compose `mem_limit`, `memswap_limit`,
/// `cpus`, `cpu_shares`, `cpuset`, `pids_limit`, ...). `None` = no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Resources {
    /// Memory limit in bytes.
    pub memory: Option<u64>,
    /// Soft memory limit in bytes (Compose `mem_reservation`): reclaimed
    /// down to under memory pressure.
    pub memory_reservation: Option<u64>,
    /// Memory + swap limit in bytes (Docker's `--memory-swap`); -1 means
    /// unlimited swap. Unset with `memory` set: twice `memory`, as Docker.
    pub memory_swap: Option<i64>,
    /// CFS quota in microseconds per `cpu_period` (Compose `cpus` × period).
    pub cpu_quota: Option<u64>,
    /// CFS period in microseconds (default 100 000).
    pub cpu_period: Option<u64>,
    /// Relative CPU weight in Docker's share units (2..=262144, default 1024).
    pub cpu_shares: Option<u64>,
    /// CPUs the container may run on, e.g. "0-1".
    pub cpuset_cpus: Option<String>,
    /// Memory nodes the container may use, e.g. "0".
    pub cpuset_mems: Option<String>,
    /// Maximum number of tasks; 0 or negative means unlimited.
    pub pids_limit: Option<i64>,
}

impl Resources {
    /// The memory+swap limit to write, resolving Docker's defaults.
    pub fn effective_memory_swap(&self) -> Option<i64> {
        let memory = self.memory? as i64;
        match self.memory_swap {
            None => Some(memory.saturating_mul(2)),
            Some(v) if v < 0 => None,
            Some(v) => Some(v),
        }
    }
}

/// Which device nodes the container may open (the devices controller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevicePolicy {
    /// Docker's default allow list: the nodes of a minimal /dev, pseudo
    /// terminals, and mknod (but not open) of anything, plus `extra` (the
    /// Compose `devices:` mappings). With CAP_MKNOD in the default
    /// capability set, this is what keeps a container from reading the
    /// host's disks through a node it made itself.
    Restricted { extra: Vec<devices::DeviceRule> },
    /// `privileged: true`: every device.
    All,
}

/// Errors of the cgroup layer; each names the file or directory involved.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error(
        "no usable cgroup hierarchy under {root}: neither cgroup v2 nor v1 controllers are mounted"
    )]
    NoHierarchy { root: PathBuf },
    #[error("cannot create cgroup {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {value:?} to {path}: {source}")]
    Write {
        path: PathBuf,
        value: String,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot attach the device filter (BPF) to cgroup {path}: {source}")]
    DeviceFilter {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the {controller} controller is not mounted on this host")]
    NoController { controller: &'static str },
    #[error("{path} did not reach the requested state in time (it reads {state:?})")]
    FreezeTimeout { path: PathBuf, state: String },
    #[error("unexpected content {text:?} in {path}")]
    Parse { path: PathBuf, text: String },
    #[error("cannot remove cgroup {path}: {source}")]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the memory limit {memory} is above the memory+swap limit {memory_swap}: raise memswap_limit or use -1 for unlimited swap")]
    SwapBelowMemory { memory: u64, memory_swap: i64 },
    #[error("a memory+swap limit ({memory_swap}) needs a memory limit too: set mem_limit as well")]
    SwapWithoutMemory { memory_swap: i64 },
    #[error("the container id {id:?} cannot name a cgroup: use letters, digits, '-', '_' and '.'")]
    BadName { id: String },
}

/// A container's cgroup, as created: the group's directory in each hierarchy.
/// Serialisable so a restarted supervisor can remove it from the state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "version", rename_all = "lowercase")]
pub enum Cgroup {
    /// cgroup v2: one directory.
    V2 { path: PathBuf },
    /// cgroup v1: one directory per controller hierarchy (key = controller).
    V1 { paths: BTreeMap<String, PathBuf> },
}

impl Cgroup {
    /// Create the group for container `id` on this host and apply `res`.
    /// On failure, whatever was created is removed again.
    pub fn create(
        id: &str,
        res: &Resources,
        devices: &DevicePolicy,
    ) -> Result<Cgroup, CgroupError> {
        Self::create_under(Path::new(CGROUP_ROOT), id, res, devices)
    }

    /// As [`Cgroup::create`], with the cgroup mount root given (for tests).
    pub fn create_under(
        root: &Path,
        id: &str,
        res: &Resources,
        devices: &DevicePolicy,
    ) -> Result<Cgroup, CgroupError> {
        validate_name(id)?;
        validate_resources(res)?;
        let cgroup = match v2::detect(root) {
            Some(hierarchy) => Cgroup::V2 {
                path: v2::create(&hierarchy, id)?,
            },
            None => Cgroup::V1 {
                paths: v1::create(root, id)?,
            },
        };
        if let Err(e) = cgroup
            .apply(res)
            .and_then(|()| cgroup.restrict_devices(devices))
        {
            let _ = cgroup.remove(Duration::ZERO);
            return Err(e);
        }
        Ok(cgroup)
    }

    fn apply(&self, res: &Resources) -> Result<(), CgroupError> {
        match self {
            Cgroup::V2 { path } => v2::apply(path, res),
            Cgroup::V1 { paths } => v1::apply(paths, res),
        }
    }

    /// Apply the device policy (done by `create`; public for tests).
    pub fn restrict_devices(&self, devices: &DevicePolicy) -> Result<(), CgroupError> {
        let extra = match devices {
            DevicePolicy::All => return Ok(()),
            DevicePolicy::Restricted { extra } => extra,
        };
        let rules: Vec<devices::DeviceRule> = devices::DEFAULT_ALLOWED
            .iter()
            .chain(extra)
            .copied()
            .collect();
        match self {
            Cgroup::V1 { paths } => match paths.get("devices") {
                Some(dir) => v1::restrict_devices(dir, &rules),
                None => Ok(()),
            },
            // cgroup v2 has no device files: a BPF program attached to the
            // group decides (BPF_CGROUP_DEVICE).
            Cgroup::V2 { path } => v2::restrict_devices(path, &rules),
        }
    }

    /// The `cgroup.procs` files a process writes its pid to, to join.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs().map(|d| d.join("cgroup.procs")).collect()
    }

    /// Every directory of the group (one for v2, one per controller for v1).
    pub fn dirs(&self) -> Box<dyn Iterator<Item = &PathBuf> + '_> {
        match self {
            Cgroup::V2 { path } => Box::new(std::iter::once(path)),
            Cgroup::V1 { paths } => Box::new(paths.values()),
        }
    }

    /// Move the calling process into the group (all hierarchies).
    pub fn join_self(&self) -> Result<(), CgroupError> {
        let pid = std::process::id().to_string();
        for file in self.procs_files() {
            write_file(&file, &pid)?;
        }
        Ok(())
    }

    /// How many times the kernel's OOM killer killed a task of the group.
    pub fn oom_kills(&self) -> Result<u64, CgroupError> {
        match self {
            Cgroup::V2 { path } => read_keyed(&path.join("memory.events"), "oom_kill"),
            Cgroup::V1 { paths } => match paths.get("memory") {
                Some(dir) => read_keyed(&dir.join("memory.oom_control"), "oom_kill"),
                None => Ok(0),
            },
        }
    }

    /// The pids in the group (union over hierarchies, sorted, deduplicated).
    pub fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        let mut pids = Vec::new();
        for file in self.procs_files() {
            let text = read_file(&file)?;
            pids.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
        }
        pids.sort_unstable();
        pids.dedup();
        Ok(pids)
    }

    /// Remove every directory of the group, retrying while the kernel still
    /// counts exiting tasks (EBUSY) for up to `patience`. Returns every
    /// error, not only the first; a directory already gone is not an error.
    pub fn remove(&self, patience: Duration) -> Vec<CgroupError> {
        let deadline = Instant::now() + patience;
        self.dirs()
            .filter_map(|dir| remove_dir_patiently(dir, deadline).err())
            .collect()
    }
}

fn remove_dir_patiently(dir: &Path, deadline: Instant) -> Result<(), CgroupError> {
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(nix::libc::EBUSY) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(source) => {
                return Err(CgroupError::Remove {
                    path: dir.to_path_buf(),
                    source,
                })
            }
        }
    }
}

fn validate_name(id: &str) -> Result<(), CgroupError> {
    let ok = !id.is_empty()
        && id != "."
        && id != ".."
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(CgroupError::BadName { id: id.to_string() })
    }
}

fn validate_resources(res: &Resources) -> Result<(), CgroupError> {
    if let (None, Some(memory_swap)) = (res.memory, res.memory_swap) {
        // Docker refuses this too: swap is accounted on top of memory.
        if memory_swap >= 0 {
            return Err(CgroupError::SwapWithoutMemory { memory_swap });
        }
    }
    if let (Some(memory), Some(memory_swap)) = (res.memory, res.memory_swap) {
        if memory_swap >= 0 && (memory_swap as u64) < memory {
            return Err(CgroupError::SwapBelowMemory {
                memory,
                memory_swap,
            });
        }
    }
    Ok(())
}

pub(crate) fn write_file(path: &Path, value: &str) -> Result<(), CgroupError> {
    std::fs::write(path, value).map_err(|source| CgroupError::Write {
        path: path.to_path_buf(),
        value: value.to_string(),
        source,
    })
}

pub(crate) fn read_file(path: &Path) -> Result<String, CgroupError> {
    std::fs::read_to_string(path).map_err(|source| CgroupError::Read {
        path: path.to_path_buf(),
        source,
    })
}

pub(crate) fn create_dir(path: &Path) -> Result<(), CgroupError> {
    match std::fs::create_dir(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(CgroupError::Create {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Read `key N` from a flat keyed file such as memory.events; 0 if absent
/// (older kernels lack `oom_kill` in v1's memory.oom_control).
fn read_keyed(path: &Path, key: &str) -> Result<u64, CgroupError> {
    let text = read_file(path)?;
    Ok(parse_keyed(&text, key).unwrap_or(0))
}

fn parse_keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swap_defaults_to_twice_memory_as_docker() {
        let res = Resources {
            memory: Some(100),
            ..Default::default()
        };
        assert_eq!(res.effective_memory_swap(), Some(200));
        let unlimited = Resources {
            memory: Some(100),
            memory_swap: Some(-1),
            ..Default::default()
        };
        assert_eq!(unlimited.effective_memory_swap(), None);
    }

    #[test]
    fn swap_below_memory_is_refused() {
        let res = Resources {
            memory: Some(100),
            memory_swap: Some(50),
            ..Default::default()
        };
        assert!(matches!(
            validate_resources(&res),
            Err(CgroupError::SwapBelowMemory { .. })
        ));
    }

    #[test]
    fn swap_without_memory_is_refused() {
        let res = Resources {
            memory_swap: Some(100),
            ..Default::default()
        };
        assert!(matches!(
            validate_resources(&res),
            Err(CgroupError::SwapWithoutMemory { .. })
        ));
    }

    #[test]
    fn names_that_escape_the_parent_are_refused() {
        for bad in ["", "..", "a/b", "x y"] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
        assert!(validate_name("proj-web-1").is_ok());
    }

    #[test]
    fn remove_reports_every_failure() {
        let root = tempfile::tempdir().unwrap();
        let mut paths = BTreeMap::new();
        for c in ["memory", "pids"] {
            let dir = root.path().join(c);
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("busy"), "").unwrap();
            paths.insert(c.to_string(), dir);
        }
        paths.insert("cpu".into(), root.path().join("gone"));
        let errors = Cgroup::V1 { paths }.remove(Duration::ZERO);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors
            .iter()
            .all(|e| matches!(e, CgroupError::Remove { .. })));
    }

    #[test]
    fn keyed_files_parse() {
        let text = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
        assert_eq!(parse_keyed(text, "oom_kill"), Some(3));
        assert_eq!(parse_keyed(text, "missing"), None);
    }
}
