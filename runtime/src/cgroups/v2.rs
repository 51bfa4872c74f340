//! cgroup v2 (the unified hierarchy): one directory per group, controllers
//! enabled top-down through `cgroup.subtree_control`
//! (Documentation/admin-guide/cgroup-v2.rst).

use super::devices::{self, DeviceRule};
use super::{create_dir, read_file, write_file, CgroupError, Resources, PARENT};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

/// The controllers we set limits with.
const WANTED: [&str; 4] = ["cpu", "cpuset", "memory", "pids"];

/// The v2 hierarchy to use: `root` itself on a pure v2 host, or the hybrid
/// host's `root/unified` when it carries the memory and pids controllers
/// (on most hybrid hosts they are bound to v1, and then v1 is used).
pub(super) fn detect(root: &Path) -> Option<PathBuf> {
    if root.join("cgroup.controllers").is_file() {
        return Some(root.to_path_buf());
    }
    let unified = root.join("unified");
    let controllers = std::fs::read_to_string(unified.join("cgroup.controllers")).ok()?;
    let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
    (has("memory") && has("pids")).then_some(unified)
}

/// Create `<hierarchy>/compose/<id>`, enabling the controllers on the way.
pub(super) fn create(hierarchy: &Path, id: &str) -> Result<PathBuf, CgroupError> {
    let parent = hierarchy.join(PARENT);
    create_dir(&parent)?;
    let available = read_file(&hierarchy.join("cgroup.controllers"))?;
    let enable: Vec<String> = WANTED
        .iter()
        .filter(|c| available.split_whitespace().any(|a| a == **c))
        .map(|c| format!("+{c}"))
        .collect();
    for dir in [hierarchy, parent.as_path()] {
        for item in &enable {
            write_file(&dir.join("cgroup.subtree_control"), item)?;
        }
    }
    let leaf = parent.join(id);
    create_dir(&leaf)?;
    Ok(leaf)
}

/// Write the limits of `res` into the group at `dir`.
pub(super) fn apply(dir: &Path, res: &Resources) -> Result<(), CgroupError> {
    if let Some(memory) = res.memory {
        write_file(&dir.join("memory.max"), &memory.to_string())?;
        let swap_file = dir.join("memory.swap.max");
        if swap_file.exists() {
            // v2 limits swap alone, Docker's value is memory + swap.
            let swap = match res.effective_memory_swap() {
                Some(total) => (total as u64).saturating_sub(memory).to_string(),
                None => "max".to_string(),
            };
            write_file(&swap_file, &swap)?;
        }
    }
    if let Some(soft) = res.memory_reservation {
        write_file(&dir.join("memory.low"), &soft.to_string())?;
    }
    if res.cpu_quota.is_some() || res.cpu_period.is_some() {
        let quota = res
            .cpu_quota
            .map_or_else(|| "max".to_string(), |q| q.to_string());
        let period = res.cpu_period.unwrap_or(100_000);
        write_file(&dir.join("cpu.max"), &format!("{quota} {period}"))?;
    }
    if let Some(shares) = res.cpu_shares {
        write_file(
            &dir.join("cpu.weight"),
            &shares_to_weight(shares).to_string(),
        )?;
    }
    if let Some(cpus) = &res.cpuset_cpus {
        write_file(&dir.join("cpuset.cpus"), cpus)?;
    }
    if let Some(mems) = &res.cpuset_mems {
        write_file(&dir.join("cpuset.mems"), mems)?;
    }
    if let Some(pids) = res.pids_limit {
        let value = if pids > 0 {
            pids.to_string()
        } else {
            "max".to_string()
        };
        write_file(&dir.join("pids.max"), &value)?;
    }
    Ok(())
}

/// Attach a device filter allowing `rules` to the group.
pub(super) fn restrict_devices(dir: &Path, rules: &[DeviceRule]) -> Result<(), CgroupError> {
    let insns: Vec<u64> = devices::program(rules).iter().map(|i| i.encode()).collect();
    let err = |source| CgroupError::DeviceFilter {
        path: dir.to_path_buf(),
        source,
    };
    let program = crate::sys::bpf::load_device_program(&insns).map_err(err)?;
    let group = std::fs::File::open(dir).map_err(err)?;
    crate::sys::bpf::attach_device_program(group.as_fd(), program.as_fd()).map_err(err)
}

/// Docker/runc's conversion of v1 shares [2, 262144] to v2 weight [1, 10000].
fn shares_to_weight(shares: u64) -> u64 {
    let shares = shares.clamp(2, 262_144);
    1 + ((shares - 2) * 9999) / 262_142
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_map_onto_weight_range() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(1024), 39);
    }

    #[test]
    fn limits_are_written_in_v2_syntax() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("memory.swap.max"), "max").unwrap();
        let res = Resources {
            memory: Some(100 << 20),
            memory_swap: Some(150 << 20),
            cpu_quota: Some(150_000),
            cpu_shares: Some(1024),
            pids_limit: Some(0),
            ..Default::default()
        };
        apply(dir.path(), &res).unwrap();
        let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert_eq!(read("memory.max"), (100u64 << 20).to_string());
        assert_eq!(read("memory.swap.max"), (50u64 << 20).to_string());
        assert_eq!(read("cpu.max"), "150000 100000");
        assert_eq!(read("cpu.weight"), "39");
        assert_eq!(read("pids.max"), "max");
    }

    #[test]
    fn hybrid_unified_without_memory_is_not_used() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("unified")).unwrap();
        std::fs::write(root.path().join("unified/cgroup.controllers"), "hugetlb\n").unwrap();
        assert_eq!(detect(root.path()), None);
        std::fs::write(
            root.path().join("unified/cgroup.controllers"),
            "cpu memory pids\n",
        )
        .unwrap();
        assert_eq!(detect(root.path()), Some(root.path().join("unified")));
    }
}
