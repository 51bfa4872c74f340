//! Mounts inside the new root: /proc, /sys (read-only), the per-container
//! /etc files, the spec's bind and tmpfs mounts, and the OCI default masked
//! and read-only paths.
//!
//! Every target is created and mounted *after* pivot_root, so a symlink in
//! the image (say `/data -> /etc`) resolves inside the container, never on
//! the host. Bind sources are host paths, so they are opened (O_PATH)
//! before the pivot and mounted from `/proc/self/fd/N` after it, as runc does.

use crate::container::error::SetupError;
use crate::container::spec::Mount;
use nix::fcntl::{open, OFlag};
use nix::mount::{mount, MsFlags};
use nix::sys::stat::{fstat, Mode, SFlag};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// OCI/Docker default paths hidden from unprivileged containers.
pub const MASKED_PATHS: [&str; 11] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// OCI/Docker default paths made read-only in unprivileged containers.
pub const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Mount a filesystem, mapping the error to one that names everything.
pub fn mount_fs(
    fstype: &str,
    source: &str,
    target: &str,
    flags: MsFlags,
    data: &str,
) -> Result<(), SetupError> {
    let data = (!data.is_empty()).then_some(data);
    mount(Some(source), target, Some(fstype), flags, data).map_err(|errno| SetupError::Mount {
        fstype: fstype.to_string(),
        source_desc: source.to_string(),
        target: target.into(),
        errno,
    })
}

fn bind(source: &str, target: &Path, read_only: bool, desc: &str) -> Result<(), SetupError> {
    let err = |errno| SetupError::Mount {
        fstype: "bind".into(),
        source_desc: desc.to_string(),
        target: target.to_path_buf(),
        errno,
    };
    let flags = MsFlags::MS_BIND | MsFlags::MS_REC;
    mount(Some(source), target, None::<&str>, flags, None::<&str>).map_err(err)?;
    if read_only {
        // MS_RDONLY is ignored on the first bind; it takes a remount.
        let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
        mount(None::<&str>, target, None::<&str>, flags, None::<&str>).map_err(err)?;
    }
    Ok(())
}

/// A bind source opened on the host side of the pivot.
#[derive(Debug)]
pub struct OpenedBind {
    fd: OwnedFd,
    is_dir: bool,
    /// For messages: the host path.
    source: PathBuf,
    target: PathBuf,
    read_only: bool,
}

impl OpenedBind {
    /// Open `source` (a host path) to be mounted on `target` later.
    pub fn open(source: &Path, target: &str, read_only: bool) -> Result<OpenedBind, SetupError> {
        if !target.starts_with('/') {
            return Err(SetupError::RelativeTarget {
                target: target.to_string(),
            });
        }
        let fd = open(source, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|e| SetupError::io("open the bind source", source)(e.into()))?;
        let st =
            fstat(&fd).map_err(|e| SetupError::io("stat the bind source", source)(e.into()))?;
        let is_dir = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFDIR;
        Ok(OpenedBind {
            fd,
            is_dir,
            source: source.to_path_buf(),
            target: target.into(),
            read_only,
        })
    }

    /// Mount it (after pivot_root), creating the target like Docker does.
    pub fn mount(&self) -> Result<(), SetupError> {
        ensure_target(&self.target, self.is_dir)?;
        let via = format!("/proc/self/fd/{}", self.fd.as_raw_fd());
        bind(
            &via,
            &self.target,
            self.read_only,
            &self.source.to_string_lossy(),
        )
    }
}

/// Create `target` as a directory, or as an empty file (parents included).
fn ensure_target(target: &Path, is_dir: bool) -> Result<(), SetupError> {
    if is_dir {
        return std::fs::create_dir_all(target).map_err(SetupError::io("create", target));
    }
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(SetupError::io("create", parent))?;
    }
    if !target.exists() {
        std::fs::File::create(target).map_err(SetupError::io("create", target))?;
    }
    Ok(())
}

/// The spec's mounts, with bind sources opened (before pivot_root).
#[derive(Debug)]
pub enum Prepared {
    Bind(OpenedBind),
    Tmpfs { target: PathBuf, data: String },
}

/// Open every bind source and check every target of `mounts`.
pub fn prepare(mounts: &[Mount]) -> Result<Vec<Prepared>, SetupError> {
    mounts
        .iter()
        .map(|m| match m {
            Mount::Bind {
                source,
                target,
                read_only,
            } => Ok(Prepared::Bind(OpenedBind::open(
                source, target, *read_only,
            )?)),
            Mount::Tmpfs { target, size, mode } => {
                if !target.starts_with('/') {
                    return Err(SetupError::RelativeTarget {
                        target: target.clone(),
                    });
                }
                Ok(Prepared::Tmpfs {
                    target: target.into(),
                    data: tmpfs_data(*size, *mode),
                })
            }
        })
        .collect()
}

fn tmpfs_data(size: Option<u64>, mode: Option<u32>) -> String {
    let mut parts = vec![format!("mode={:o}", mode.unwrap_or(0o1777))];
    if let Some(size) = size {
        parts.push(format!("size={size}"));
    }
    parts.join(",")
}

/// Mount the prepared spec mounts, in order (after pivot_root).
pub fn mount_prepared(mounts: &[Prepared]) -> Result<(), SetupError> {
    for m in mounts {
        match m {
            Prepared::Bind(b) => b.mount()?,
            Prepared::Tmpfs { target, data } => {
                ensure_target(target, true)?;
                let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
                mount_fs("tmpfs", "tmpfs", &target.to_string_lossy(), flags, data)?;
            }
        }
    }
    Ok(())
}

/// /proc for the new pid namespace.
pub fn mount_proc() -> Result<(), SetupError> {
    std::fs::create_dir_all("/proc").map_err(SetupError::io("create", "/proc"))?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount_fs("proc", "proc", "/proc", flags, "")
}

/// A read-only sysfs, as Docker mounts for unprivileged containers.
pub fn mount_sys(read_only: bool) -> Result<(), SetupError> {
    std::fs::create_dir_all("/sys").map_err(SetupError::io("create", "/sys"))?;
    let mut flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    if read_only {
        flags |= MsFlags::MS_RDONLY;
    }
    mount_fs("sysfs", "sysfs", "/sys", flags, "")
}

/// Hide the OCI masked paths: /dev/null over files, an empty read-only
/// tmpfs over directories. Paths the kernel does not have are skipped.
pub fn mask_paths() -> Result<(), SetupError> {
    for path in MASKED_PATHS {
        let p = Path::new(path);
        let Ok(meta) = std::fs::symlink_metadata(p) else {
            continue;
        };
        if meta.is_dir() {
            mount_fs("tmpfs", "tmpfs", path, MsFlags::MS_RDONLY, "size=0")?;
        } else {
            bind("/dev/null", p, false, "/dev/null")?;
        }
    }
    Ok(())
}

/// Make the OCI read-only paths read-only (bind onto itself, remount).
pub fn readonly_paths() -> Result<(), SetupError> {
    for path in READONLY_PATHS {
        let p = Path::new(path);
        if std::fs::symlink_metadata(p).is_err() {
            continue;
        }
        bind(path, p, true, path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmpfs_options_default_to_sticky_world_writable() {
        assert_eq!(tmpfs_data(None, None), "mode=1777");
        assert_eq!(tmpfs_data(Some(1024), Some(0o755)), "mode=755,size=1024");
    }

    #[test]
    fn relative_targets_are_refused() {
        let m = Mount::Tmpfs {
            target: "run".into(),
            size: None,
            mode: None,
        };
        assert!(matches!(
            prepare(&[m]),
            Err(SetupError::RelativeTarget { .. })
        ));
    }
}
