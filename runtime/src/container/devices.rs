//! A minimal /dev, as Docker gives an unprivileged container: a tmpfs with
//! the OCI default device nodes (runtime-spec config-linux.md "Default
//! Devices"), the standard symlinks, a private devpts instance, /dev/shm
//! and /dev/mqueue.

use crate::container::error::SetupError;
use crate::container::mounts::mount_fs;
use nix::mount::MsFlags;
use nix::sys::stat::{makedev, mknod, Mode, SFlag};
use std::path::Path;

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
    mount_fs(
        "tmpfs",
        "tmpfs",
        "/dev",
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
