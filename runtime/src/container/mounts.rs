//! Mounts inside the new root: /proc, /sys (read-only), the per-container
//! /etc files, the spec's bind and tmpfs mounts, and the OCI default masked
//! and read-only paths.
//!
//! Bind sources are host paths: each is cloned into a detached mount tree
//! (open_tree(2)) before pivot_root, so the init can drop the host's root
//! right after the pivot. Targets are container paths, resolved inside the
//! container's root by `target` (symlinks of the image cannot lead out,
//! missing mount points are created in the writable layer), and mounted
//! on through the descriptor that resolution returned.

use crate::container::error::SetupError;
use crate::container::spec::Mount;
use crate::container::target::{self, Kind};
use crate::sys::mount::{clone_tree, make_tree_readonly, move_tree};
use nix::mount::{mount, MsFlags};
use nix::sys::stat::{fstat, SFlag};
use std::os::fd::{AsFd, OwnedFd};
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

/// Mount a filesystem on the directory `path` of the container (after
/// pivot_root), resolved inside the container and created if missing.
pub fn mount_fs_at(
    fstype: &str,
    source: &str,
    path: &Path,
    flags: MsFlags,
    data: &str,
) -> Result<(), SetupError> {
    let fd = target::open(path, Kind::Dir)?;
    let data = (!data.is_empty()).then_some(data);
    mount(
        Some(source),
        target::fd_path(&fd).as_str(),
        Some(fstype),
        flags,
        data,
    )
    .map_err(|errno| SetupError::Mount {
        fstype: fstype.to_string(),
        source_desc: source.to_string(),
        target: path.to_path_buf(),
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

/// A bind source cloned on the host side of the pivot: a detached mount
/// tree, read-only already when asked.
#[derive(Debug)]
pub struct OpenedBind {
    tree: OwnedFd,
    is_dir: bool,
    /// For messages: the host path.
    source: PathBuf,
    target: PathBuf,
}

impl OpenedBind {
    /// Clone `source` (a host path, submounts included) to be mounted on
    /// `target` later.
    pub fn open(source: &Path, target: &str, read_only: bool) -> Result<OpenedBind, SetupError> {
        if !target.starts_with('/') {
            return Err(SetupError::RelativeTarget {
                target: target.to_string(),
            });
        }
        let tree =
            clone_tree(source, true).map_err(SetupError::io("open the bind source", source))?;
        if read_only {
            make_tree_readonly(tree.as_fd())
                .map_err(SetupError::io("make read-only the bind of", source))?;
        }
        let st =
            fstat(&tree).map_err(|e| SetupError::io("stat the bind source", source)(e.into()))?;
        let is_dir = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFDIR;
        Ok(OpenedBind {
            tree,
            is_dir,
            source: source.to_path_buf(),
            target: target.into(),
        })
    }

    /// Mount it (after pivot_root), creating the target like Docker does.
    pub fn mount(&self) -> Result<(), SetupError> {
        let kind = if self.is_dir { Kind::Dir } else { Kind::File };
        let target = target::open(&self.target, kind)?;
        move_tree(self.tree.as_fd(), target.as_fd()).map_err(|e| SetupError::Mount {
            fstype: "bind".into(),
            source_desc: self.source.to_string_lossy().into_owned(),
            target: self.target.clone(),
            errno: nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)),
        })
    }
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
                let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
                mount_fs_at("tmpfs", "tmpfs", target, flags, data)?;
            }
        }
    }
    Ok(())
}

/// /proc for the new pid namespace. It must be /proc itself, not where a
/// symlink of the image points (the masked paths are under /proc, and
/// runc refuses the same), and it is mounted by path: /proc/self/fd, which
/// every other mount goes through, does not exist before it.
pub fn mount_proc() -> Result<(), SetupError> {
    let proc = Path::new("/proc");
    match std::fs::symlink_metadata(proc) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(SetupError::NotADirectory { path: proc.into() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir(proc).map_err(SetupError::io("create", proc))?;
        }
        Err(e) => return Err(SetupError::io("stat", proc)(e)),
    }
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount_fs("proc", "proc", "/proc", flags, "")
}

/// A read-only sysfs, as Docker mounts for unprivileged containers.
pub fn mount_sys(read_only: bool) -> Result<(), SetupError> {
    let mut flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    if read_only {
        flags |= MsFlags::MS_RDONLY;
    }
    mount_fs_at("sysfs", "sysfs", Path::new("/sys"), flags, "")
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
