//! A minimal /dev, as Docker gives an unprivileged container: a tmpfs with
//! the OCI default device nodes (runtime-spec config-linux.md "Default
//! Devices"), the standard symlinks, a private devpts instance, /dev/shm
//! and /dev/mqueue; plus the Compose `devices:` mappings, resolved on the
//! host ([`DeviceNode::resolve`]) and made as nodes inside.

use crate::cgroups::devices::{DeviceKind, DeviceRule, MKNOD, READ, WRITE};
use crate::container::error::SetupError;
use crate::container::mounts::{mount_fs, mount_fs_at};
use crate::container::spec::DeviceMapping;
use crate::container::target::{self, Kind};
use nix::fcntl::AtFlags;
use nix::mount::MsFlags;
use nix::sys::stat::{major, makedev, minor, mknod, mknodat, Mode, SFlag};
use nix::unistd::{fchownat, unlinkat, UnlinkatFlags};
use serde::{Deserialize, Serialize};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// A host device to recreate inside the container (from `devices:`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceNode {
    pub container_path: String,
    /// Character (true) or block device.
    pub char_device: bool,
    pub major: u64,
    pub minor: u64,
    /// Permission bits, owner and group of the host node.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Access bits for the cgroup rule (MKNOD | READ | WRITE).
    pub access: u32,
}

impl DeviceNode {
    /// Stat the host node of `mapping` (on the host, before the start).
    pub fn resolve(mapping: &DeviceMapping) -> Result<DeviceNode, SetupError> {
        let path = &mapping.host_path;
        if !mapping.container_path.starts_with('/') {
            return Err(SetupError::RelativeTarget {
                target: mapping.container_path.clone(),
            });
        }
        let meta = std::fs::metadata(path).map_err(SetupError::io("stat the device", path))?;
        let kind = SFlag::from_bits_truncate(meta.mode() & SFlag::S_IFMT.bits());
        let char_device = match kind {
            SFlag::S_IFCHR => true,
            SFlag::S_IFBLK => false,
            _ => return Err(SetupError::NotADevice { path: path.clone() }),
        };
        let mut access = 0;
        for c in mapping.permissions.chars() {
            access |= match c {
                'r' => READ,
                'w' => WRITE,
                'm' => MKNOD,
                _ => {
                    return Err(SetupError::BadDevicePermissions {
                        path: path.clone(),
                        permissions: mapping.permissions.clone(),
                    })
                }
            };
        }
        Ok(DeviceNode {
            container_path: mapping.container_path.clone(),
            char_device,
            major: major(meta.rdev()),
            minor: minor(meta.rdev()),
            mode: meta.permissions().mode() & 0o7777,
            uid: meta.uid(),
            gid: meta.gid(),
            access,
        })
    }

    /// The cgroup rule that lets the container use this node.
    pub fn rule(&self) -> DeviceRule {
        DeviceRule {
            kind: if self.char_device {
                DeviceKind::Char
            } else {
                DeviceKind::Block
            },
            major: Some(self.major as u32),
            minor: Some(self.minor as u32),
            access: self.access,
        }
    }

    /// Make the node inside the (pivoted) root, replacing what is there;
    /// its directory is resolved inside the container (`target`).
    pub fn create(&self) -> Result<(), SetupError> {
        let path = Path::new(&self.container_path);
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(SetupError::RelativeTarget {
                target: self.container_path.clone(),
            });
        };
        let dir = target::open(parent, Kind::Dir)?;
        let _ = unlinkat(&dir, name, UnlinkatFlags::NoRemoveDir);
        let kind = if self.char_device {
            SFlag::S_IFCHR
        } else {
            SFlag::S_IFBLK
        };
        mknodat(
            &dir,
            name,
            kind,
            Mode::from_bits_truncate(self.mode),
            makedev(self.major, self.minor),
        )
        .map_err(|errno| SetupError::Sys {
            action: "create a mapped device node",
            errno,
        })?;
        fchownat(
            &dir,
            name,
            Some(nix::unistd::Uid::from_raw(self.uid)),
            Some(nix::unistd::Gid::from_raw(self.gid)),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(|errno| SetupError::Sys {
            action: "set the owner of a mapped device node",
            errno,
        })
    }
}

/// (name, major, minor) of the default character devices.
const DEVICES: [(&str, u64, u64); 6] = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

const SYMLINKS: [(&str, &str); 6] = [
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
    ("/proc/kcore", "/dev/core"),
    ("pts/ptmx", "/dev/ptmx"),
];

/// Build /dev inside the (already pivoted) root.
pub fn setup_dev(shm_size: u64) -> Result<(), SetupError> {
    let nosuid = MsFlags::MS_NOSUID;
    let noexec = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;
    mount_fs_at(
        "tmpfs",
        "tmpfs",
        Path::new("/dev"),
        nosuid | MsFlags::MS_STRICTATIME,
        "mode=755,size=65536k",
    )?;
    for (name, major, minor) in DEVICES {
        let path = Path::new("/dev").join(name);
        mknod(
            &path,
            SFlag::S_IFCHR,
            Mode::from_bits_truncate(0o666),
            makedev(major, minor),
        )
        .map_err(|errno| SetupError::Sys {
            action: "create a device node in /dev",
            errno,
        })?;
        // mknod(2) applies the umask (022 here): without this /dev/null is
        // 0644 and a non-root process (apt's `_apt` sandbox user running
        // gpgv) cannot write to it. runc sets the mode the same way.
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .map_err(SetupError::io("set the mode of", &path))?;
    }
    for (target, link) in SYMLINKS {
        std::os::unix::fs::symlink(target, link)
            .map_err(SetupError::io("create the symlink", link))?;
    }
    mkdir("/dev/pts")?;
    mount_fs(
        "devpts",
        "devpts",
        "/dev/pts",
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        "newinstance,ptmxmode=0666,mode=0620,gid=5",
    )?;
    mkdir("/dev/shm")?;
    mount_fs(
        "tmpfs",
        "shm",
        "/dev/shm",
        noexec,
        &format!("mode=1777,size={shm_size}"),
    )?;
    mkdir("/dev/mqueue")?;
    mount_fs("mqueue", "mqueue", "/dev/mqueue", noexec, "")?;
    Ok(())
}

fn mkdir(path: &str) -> Result<(), SetupError> {
    std::fs::create_dir_all(path).map_err(SetupError::io("create", path))
}
