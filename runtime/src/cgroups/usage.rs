//! Resource usage of a group as `docker stats` shows it: CPU time, memory
//! without the page cache the kernel can drop (the docker CLI subtracts
//! `inactive_file`), the memory limit, bytes read from and written to
//! block devices, and the task count. cgroup v2 files per
//! Documentation/admin-guide/cgroup-v2.rst, v1 per cgroup-v1/*.rst.

use super::{read_file, Cgroup, CgroupError};
use std::path::{Path, PathBuf};

/// A snapshot of a group's usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// CPU time used, in nanoseconds.
    pub cpu_ns: u64,
    /// Bytes of memory in use, page cache that can be dropped excluded.
    pub memory: u64,
    /// The memory limit in bytes, `None` when unlimited.
    pub memory_limit: Option<u64>,
    pub block_read: u64,
    pub block_write: u64,
    pub pids: u64,
}

impl Cgroup {
    /// Current usage of the group, for `stats`.
    pub fn usage(&self) -> Result<Usage, CgroupError> {
        let stats = self.stats()?;
        let (inactive_file, (block_read, block_write)) = match self {
            Cgroup::V2 { path } => (
                keyed(&path.join("memory.stat"), "inactive_file")?,
                v2_io(&path.join("io.stat"))?,
            ),
            Cgroup::V1 { paths } => {
                let memory = paths.get("memory").map(|d| d.join("memory.stat"));
                let inactive = match memory {
                    Some(f) => keyed(&f, "total_inactive_file")?,
                    None => 0,
                };
                let io = match paths.get("blkio") {
                    Some(d) => v1_io(d)?,
                    None => (0, 0),
                };
                (inactive, io)
            }
        };
        Ok(Usage {
            cpu_ns: stats.cpu_usage_ns,
            memory: stats.memory_usage.saturating_sub(inactive_file),
            memory_limit: stats.memory_limit,
            block_read,
            block_write,
            pids: stats.pids,
        })
    }
}

/// `key N` of a flat keyed file; 0 when the key is missing.
fn keyed(path: &Path, key: &str) -> Result<u64, CgroupError> {
    let text = read_file(path)?;
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0))
}

/// v2 `io.stat`: `MAJ:MIN rbytes=N wbytes=N rios=N ...` per device.
fn v2_io(path: &Path) -> Result<(u64, u64), CgroupError> {
    // A kernel without the io controller enabled for the group has no file.
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(source) => {
            return Err(CgroupError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    Ok(parse_v2_io(&text))
}

fn parse_v2_io(text: &str) -> (u64, u64) {
    let (mut read, mut write) = (0, 0);
    for field in text.split_whitespace() {
        if let Some(v) = field.strip_prefix("rbytes=") {
            read += v.parse::<u64>().unwrap_or(0);
        } else if let Some(v) = field.strip_prefix("wbytes=") {
            write += v.parse::<u64>().unwrap_or(0);
        }
    }
    (read, write)
}

/// v1 `blkio.throttle.io_service_bytes_recursive` (what Docker reads; the
/// non-throttle file stays empty without the CFQ/BFQ scheduler), lines
/// `MAJ:MIN Read N` / `MAJ:MIN Write N` / `Total N`.
fn v1_io(dir: &Path) -> Result<(u64, u64), CgroupError> {
    let candidates: [PathBuf; 2] = [
        dir.join("blkio.throttle.io_service_bytes_recursive"),
        dir.join("blkio.io_service_bytes_recursive"),
    ];
    for file in candidates {
        if file.exists() {
            return Ok(parse_v1_io(&read_file(&file)?));
        }
    }
    Ok((0, 0))
}

fn parse_v1_io(text: &str) -> (u64, u64) {
    let (mut read, mut write) = (0, 0);
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let [_, op, value] = fields[..] {
            let value: u64 = value.parse().unwrap_or(0);
            if op.eq_ignore_ascii_case("read") {
                read += value;
            } else if op.eq_ignore_ascii_case("write") {
                write += value;
            }
        }
    }
    (read, write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_files_sum_every_device() {
        let v2 = "8:0 rbytes=100 wbytes=20 rios=1 wios=1\n253:0 rbytes=5 wbytes=1 rios=1\n";
        assert_eq!(parse_v2_io(v2), (105, 21));
        let v1 = "8:0 Read 4096\n8:0 Write 512\n8:0 Sync 0\n8:16 Read 4\nTotal 4612\n";
        assert_eq!(parse_v1_io(v1), (4100, 512));
    }

    #[test]
    fn keyed_reads_whole_keys_only() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("memory.stat");
        std::fs::write(&f, "inactive_file_x 9\ninactive_file 4096\n").unwrap();
        assert_eq!(keyed(&f, "inactive_file").unwrap(), 4096);
        assert_eq!(keyed(&f, "missing").unwrap(), 0);
    }
}
