//! The new mount API calls nix does not wrap: open_tree(2) to take a
//! detached copy of a mount tree, mount_setattr(2) to make it read-only,
//! move_mount(2) to attach it onto a target named by a descriptor.
//!
//! A container's bind sources are host paths, its targets are container
//! paths. Cloning each source into a detached tree before pivot_root lets
//! the init drop the host's root right after the pivot, so no later path
//! walk (targets, symlinks of the image) can reach the host.

use nix::libc;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// open_tree(2) flags (linux/mount.h).
const OPEN_TREE_CLONE: libc::c_uint = 1;
/// move_mount(2) flags (linux/mount.h).
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x04;
const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;
/// mount_setattr(2) attribute (linux/mount.h).
const MOUNT_ATTR_RDONLY: u64 = 0x01;

/// `struct mount_attr` of mount_setattr(2).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

fn check(rc: libc::c_long) -> io::Result<libc::c_long> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// A detached copy of the mount tree at `path` (with its submounts when
/// `recursive`), as `mount --rbind` would attach, not attached anywhere yet.
pub fn clone_tree(path: &Path, recursive: bool) -> io::Result<OwnedFd> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let mut flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    // SAFETY: a NUL-terminated path that outlives the call and a flags word;
    // the kernel returns a new descriptor or -1.
    let fd = check(unsafe {
        libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, c_path.as_ptr(), flags)
    })?;
    // SAFETY: the kernel returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Make the detached tree `tree` read-only, submounts included (what
/// Docker ≥ 25 does for `:ro` binds when the kernel can).
pub fn make_tree_readonly(tree: BorrowedFd<'_>) -> io::Result<()> {
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: a valid descriptor, an empty NUL-terminated path, and a
    // pointer to an initialised `mount_attr` with its exact size; the
    // kernel only reads it.
    check(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            (libc::AT_EMPTY_PATH | libc::AT_RECURSIVE) as libc::c_uint,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    })?;
    Ok(())
}

/// Attach the detached tree `tree` on the file or directory `target` is
/// open on (an `O_PATH` descriptor; no path is walked again).
pub fn move_tree(tree: BorrowedFd<'_>, target: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: two valid descriptors, two empty NUL-terminated paths and a
    // flags word; no memory is written.
    check(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            target.as_raw_fd(),
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    })?;
    Ok(())
}
