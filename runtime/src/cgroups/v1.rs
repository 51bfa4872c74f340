//! cgroup v1: one hierarchy per controller at `<root>/<controller>`, so the
//! container gets one directory per controller
//! (Documentation/admin-guide/cgroup-v1/).

use super::devices::DeviceRule;
use super::{create_dir, read_file, write_file, CgroupError, Resources, PARENT};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Controllers the container joins: the ones we set limits with, plus
/// those later features need (freezer for pause, devices, blkio, cpuacct
/// for stats), as Docker does.
const CONTROLLERS: [&str; 8] = [
    "memory", "cpu", "cpuacct", "cpuset", "pids", "freezer", "blkio", "devices",
];

/// Create `<root>/<controller>/compose/<id>` for every mounted controller.
pub(super) fn create(root: &Path, id: &str) -> Result<BTreeMap<String, PathBuf>, CgroupError> {
    let mut paths = BTreeMap::new();
    for controller in CONTROLLERS {
        let hierarchy = root.join(controller);
        if !hierarchy.join("cgroup.procs").is_file() {
            continue;
        }
        let parent = hierarchy.join(PARENT);
        let leaf = parent.join(id);
        let made = create_dir(&parent).and_then(|()| create_dir(&leaf));
        let made = made.and_then(|()| {
            if controller == "cpuset" {
                inherit_cpuset(&hierarchy, &parent)?;
                inherit_cpuset(&parent, &leaf)?;
            }
            Ok(())
        });
        if let Err(e) = made {
            for dir in paths.values() {
                let _ = std::fs::remove_dir(dir);
            }
            return Err(e);
        }
        paths.insert(controller.to_string(), leaf);
    }
    if paths.is_empty() {
        return Err(CgroupError::NoHierarchy {
            root: root.to_path_buf(),
        });
    }
    Ok(paths)
}

/// A new v1 cpuset group starts with empty cpus and mems, and a task cannot
/// join it until both are set: copy them from the parent.
fn inherit_cpuset(parent: &Path, child: &Path) -> Result<(), CgroupError> {
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let current = read_file(&child.join(file))?;
        if current.trim().is_empty() {
            let value = read_file(&parent.join(file))?;
            write_file(&child.join(file), value.trim())?;
        }
    }
    Ok(())
}

/// Write the limits of `res` into the per-controller directories.
pub(super) fn apply(paths: &BTreeMap<String, PathBuf>, res: &Resources) -> Result<(), CgroupError> {
    if let (Some(memory), Some(dir)) = (res.memory, paths.get("memory")) {
        write_file(&dir.join("memory.limit_in_bytes"), &memory.to_string())?;
        let memsw = dir.join("memory.memsw.limit_in_bytes");
        // Without swap accounting (swapaccount=0) the file is absent and
        // swap cannot be limited, as Docker warns.
        if memsw.exists() {
            let total = res.effective_memory_swap().unwrap_or(-1);
            write_file(&memsw, &total.to_string())?;
        }
    }
    if let (Some(soft), Some(dir)) = (res.memory_reservation, paths.get("memory")) {
        write_file(&dir.join("memory.soft_limit_in_bytes"), &soft.to_string())?;
    }
    if let Some(dir) = paths.get("cpu") {
        if let Some(period) = res.cpu_period {
            write_file(&dir.join("cpu.cfs_period_us"), &period.to_string())?;
        }
        if let Some(quota) = res.cpu_quota {
            write_file(&dir.join("cpu.cfs_quota_us"), &quota.to_string())?;
        }
        if let Some(shares) = res.cpu_shares {
            write_file(&dir.join("cpu.shares"), &shares.to_string())?;
        }
    }
    if let Some(dir) = paths.get("cpuset") {
        if let Some(cpus) = &res.cpuset_cpus {
            write_file(&dir.join("cpuset.cpus"), cpus)?;
        }
        if let Some(mems) = &res.cpuset_mems {
            write_file(&dir.join("cpuset.mems"), mems)?;
        }
    }
    if let (Some(pids), Some(dir)) = (res.pids_limit, paths.get("pids")) {
        let value = if pids > 0 {
            pids.to_string()
        } else {
            "max".to_string()
        };
        write_file(&dir.join("pids.max"), &value)?;
    }
    Ok(())
}

/// Replace the inherited "allow all" with the allow list `rules`.
pub(super) fn restrict_devices(dir: &Path, rules: &[DeviceRule]) -> Result<(), CgroupError> {
    write_file(&dir.join("devices.deny"), "a")?;
    for rule in rules {
        write_file(&dir.join("devices.allow"), &rule.v1_line())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_written_per_controller() {
        let root = tempfile::tempdir().unwrap();
        let mut paths = BTreeMap::new();
        for c in ["memory", "cpu", "pids"] {
            let dir = root.path().join(c);
            std::fs::create_dir(&dir).unwrap();
            paths.insert(c.to_string(), dir);
        }
        std::fs::write(paths["memory"].join("memory.memsw.limit_in_bytes"), "").unwrap();
        let res = Resources {
            memory: Some(1000),
            cpu_quota: Some(20_000),
            cpu_period: Some(50_000),
            pids_limit: Some(7),
            ..Default::default()
        };
        apply(&paths, &res).unwrap();
        let read = |c: &str, f: &str| std::fs::read_to_string(paths[c].join(f)).unwrap();
        assert_eq!(read("memory", "memory.limit_in_bytes"), "1000");
        // Docker's default: swap as large as memory, so memsw is twice.
        assert_eq!(read("memory", "memory.memsw.limit_in_bytes"), "2000");
        assert_eq!(read("cpu", "cpu.cfs_quota_us"), "20000");
        assert_eq!(read("cpu", "cpu.cfs_period_us"), "50000");
        assert_eq!(read("pids", "pids.max"), "7");
    }
}
