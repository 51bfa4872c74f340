//! Network namespaces: persistent ones bind-mounted at
//! `$COMPOSE_ROOT/netns/<name>` (what `ip netns add` does), and a guard that
//! enters one on the current OS thread and restores the old one on drop.
//!
//! setns(2) changes only the calling thread, so every netns-scoped piece of
//! work runs on a thread of its own (`on_thread`), which never returns to a
//! pool and never migrates between namespaces across an `.await`.

use super::error::NetworkError;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Inside the guard, this thread is in another network namespace.
pub struct NetnsGuard {
    original: File,
}

impl NetnsGuard {
    /// Enter the namespace bind-mounted (or a /proc ns link) at `path`.
    pub fn enter(path: &Path) -> Result<NetnsGuard, NetworkError> {
        let err = |op, source| NetworkError::Netns {
            path: path.to_path_buf(),
            op,
            source,
        };
        let original = File::open("/proc/thread-self/ns/net")
            .map_err(|e| err("open the current namespace", io_errno(&e)))?;
        let target = File::open(path).map_err(|e| err("open", io_errno(&e)))?;
        setns(&target, CloneFlags::CLONE_NEWNET).map_err(|e| err("setns", e))?;
        Ok(NetnsGuard { original })
    }
}

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        // Leaving cannot fail for a namespace we were in a moment ago; if it
        // did, the thread must not go on in the wrong namespace.
        if let Err(e) = setns(&self.original, CloneFlags::CLONE_NEWNET) {
            panic!("cannot return to the original network namespace: {e}");
        }
    }
}

fn io_errno(e: &std::io::Error) -> nix::errno::Errno {
    nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(nix::libc::EIO))
}

/// Run `f` on a fresh OS thread, inside `netns` when given.
pub fn on_thread<T, F>(netns: Option<&Path>, what: &str, f: F) -> Result<T, NetworkError>
where
    T: Send,
    F: FnOnce() -> Result<T, NetworkError> + Send,
{
    std::thread::scope(|scope| {
        let handle = scope.spawn(|| {
            let _guard = netns.map(NetnsGuard::enter).transpose()?;
            f()
        });
        handle.join().unwrap_or_else(|_| {
            Err(NetworkError::ThreadPanicked {
                what: what.to_string(),
            })
        })
    })
}

/// The path of a container's persistent namespace.
pub fn netns_path(compose_root: &Path, name: &str) -> PathBuf {
    compose_root.join("netns").join(name)
}

/// Create a persistent network namespace at `path` with `lo` up: a helper
/// thread unshares its network namespace and bind-mounts
/// /proc/thread-self/ns/net onto `path`, which keeps it alive after the
/// thread is gone. A thread, not a forked process: no Rust after fork.
pub fn create(path: &Path) -> Result<(), NetworkError> {
    let err = |op, source| NetworkError::Netns {
        path: path.to_path_buf(),
        op,
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| err("create the directory", io_errno(&e)))?;
    }
    if is_netns_mount(path) {
        // Already there (a supervisor restart): the container keeps its
        // namespace and its interfaces.
        return Ok(());
    }
    // A mount point whose mount is gone (the machine rebooted) is stale.
    if path.exists() {
        std::fs::remove_file(path)
            .map_err(|e| err("remove the stale mount point", io_errno(&e)))?;
    }
    File::options()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| err("create the mount point", io_errno(&e)))?;
    let made = on_thread(None, "netns helper", || {
        unshare(CloneFlags::CLONE_NEWNET).map_err(|e| err("unshare", e))?;
        crate::sys::net::interface_up("lo").map_err(|e| err("bring lo up", io_errno(&e)))?;
        mount(
            Some("/proc/thread-self/ns/net"),
            path,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| err("bind mount", e))
    });
    if made.is_err() {
        let _ = std::fs::remove_file(path);
    }
    made
}

/// True when `path` is a bind mount of a namespace (nsfs).
pub fn is_netns_mount(path: &Path) -> bool {
    nix::sys::statfs::statfs(path)
        .is_ok_and(|fs| fs.filesystem_type() == nix::sys::statfs::NSFS_MAGIC)
}

/// Unmount and remove a persistent namespace; a missing one is no error.
/// The namespace itself lives on while a process (a container) is in it.
pub fn remove(path: &Path) -> Result<(), NetworkError> {
    let err = |op, source| NetworkError::Netns {
        path: path.to_path_buf(),
        op,
        source,
    };
    if !path.exists() {
        return Ok(());
    }
    match umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) => {}
        Err(e) => return Err(err("unmount", e)),
    }
    std::fs::remove_file(path).map_err(|e| err("remove", io_errno(&e)))
}
