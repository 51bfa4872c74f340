//! Operations on a live group: freeze and thaw (`docker compose pause`),
//! and resource usage (`docker compose stats`/`top`).

use super::{read_file, write_file, Cgroup, CgroupError};
use std::path::Path;
use std::time::{Duration, Instant};

/// A snapshot of a group's usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Bytes of memory charged to the group.
    pub memory_usage: u64,
    /// The memory limit in bytes, `None` when unlimited.
    pub memory_limit: Option<u64>,
    /// Tasks in the group.
    pub pids: u64,
    /// CPU time used, in nanoseconds.
    pub cpu_usage_ns: u64,
}

/// How long a freeze may take before it is reported as failed.
const FREEZE_PATIENCE: Duration = Duration::from_secs(5);

/// A limit larger than this is the kernel's "unlimited" (v1 shows
/// PAGE_COUNTER_MAX rounded to pages, not a sentinel).
const UNLIMITED_ABOVE: u64 = 1 << 62;

impl Cgroup {
    /// Stop every task of the group (freezer); returns once all are frozen.
    pub fn freeze(&self) -> Result<(), CgroupError> {
        self.set_frozen(true)
    }

    /// Let the tasks run again.
    pub fn thaw(&self) -> Result<(), CgroupError> {
        self.set_frozen(false)
    }

    fn set_frozen(&self, frozen: bool) -> Result<(), CgroupError> {
        match self {
            Cgroup::V2 { path } => {
                write_file(&path.join("cgroup.freeze"), if frozen { "1" } else { "0" })?;
                let want = if frozen { "frozen 1" } else { "frozen 0" };
                wait_until(&path.join("cgroup.events"), |t| {
                    t.lines().any(|l| l == want)
                })
            }
            Cgroup::V1 { paths } => {
                let Some(dir) = paths.get("freezer") else {
                    return Err(CgroupError::NoController {
                        controller: "freezer",
                    });
                };
                let state = if frozen { "FROZEN" } else { "THAWED" };
                write_file(&dir.join("freezer.state"), state)?;
                // FREEZING means some task is still running kernel code.
                wait_until(&dir.join("freezer.state"), |t| t.trim() == state)
            }
        }
    }

    /// Current usage of the group.
    pub fn stats(&self) -> Result<Stats, CgroupError> {
        match self {
            Cgroup::V2 { path } => Ok(Stats {
                memory_usage: read_u64(&path.join("memory.current"))?,
                memory_limit: read_limit(&path.join("memory.max"))?,
                pids: read_u64(&path.join("pids.current"))?,
                cpu_usage_ns: read_cpu_stat_usec(&path.join("cpu.stat"))? * 1000,
            }),
            Cgroup::V1 { paths } => {
                let file = |controller: &'static str, name: &str| {
                    paths
                        .get(controller)
                        .map(|d| d.join(name))
                        .ok_or(CgroupError::NoController { controller })
                };
                Ok(Stats {
                    memory_usage: read_u64(&file("memory", "memory.usage_in_bytes")?)?,
                    memory_limit: read_limit(&file("memory", "memory.limit_in_bytes")?)?,
                    pids: read_u64(&file("pids", "pids.current")?)?,
                    cpu_usage_ns: read_u64(&file("cpuacct", "cpuacct.usage")?)?,
                })
            }
        }
    }
}

fn wait_until(path: &Path, done: impl Fn(&str) -> bool) -> Result<(), CgroupError> {
    let deadline = Instant::now() + FREEZE_PATIENCE;
    loop {
        let text = read_file(path)?;
        if done(&text) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(CgroupError::FreezeTimeout {
                path: path.to_path_buf(),
                state: text.trim().to_string(),
            });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn parse_u64(path: &Path, text: &str) -> Result<u64, CgroupError> {
    text.trim().parse().map_err(|_| CgroupError::Parse {
        path: path.to_path_buf(),
        text: text.trim().to_string(),
    })
}

fn read_u64(path: &Path) -> Result<u64, CgroupError> {
    parse_u64(path, &read_file(path)?)
}

fn read_limit(path: &Path) -> Result<Option<u64>, CgroupError> {
    let text = read_file(path)?;
    if text.trim() == "max" {
        return Ok(None);
    }
    let value = parse_u64(path, &text)?;
    Ok((value < UNLIMITED_ABOVE).then_some(value))
}

fn read_cpu_stat_usec(path: &Path) -> Result<u64, CgroupError> {
    let text = read_file(path)?;
    let line = text.lines().find_map(|l| l.strip_prefix("usage_usec "));
    parse_u64(path, line.unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_max_and_huge_values_as_unlimited() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("limit");
        std::fs::write(&f, "max\n").unwrap();
        assert_eq!(read_limit(&f).unwrap(), None);
        std::fs::write(&f, "9223372036854771712\n").unwrap();
        assert_eq!(read_limit(&f).unwrap(), None);
        std::fs::write(&f, "33554432\n").unwrap();
        assert_eq!(read_limit(&f).unwrap(), Some(33_554_432));
        std::fs::write(&f, "usage_usec 12\nuser_usec 3\n").unwrap();
        assert_eq!(read_cpu_stat_usec(&f).unwrap(), 12);
        std::fs::write(&f, "garbage").unwrap();
        assert!(matches!(read_u64(&f), Err(CgroupError::Parse { .. })));
    }
}
