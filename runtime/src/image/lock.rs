//! Advisory file locks (flock(2)) held for the lifetime of a guard, so
//! several `compose` processes can share one image store.
//!
//! Locks of the store: `index.lock` around every read-modify-write of
//! `index.json`; `gc.lock` taken shared by anything that adds content
//! (pull, import, load) and exclusive by removal (rm, prune), so garbage
//! collection never deletes a blob a running pull has written but not yet
//! tagged; `locks/<sha256 of the reference>.lock` serialises two pulls of
//! the same reference.

use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// A held lock; dropping it unlocks.
#[derive(Debug)]
pub struct LockGuard {
    _lock: Flock<File>,
}

/// A lock file that could not be opened or locked.
#[derive(Debug, thiserror::Error)]
#[error("cannot lock `{}`: {source}", path.display())]
pub struct LockError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// Block until `path` (created if needed) is locked shared or exclusive.
pub fn lock(path: &Path, exclusive: bool) -> Result<LockGuard, LockError> {
    let arg = if exclusive {
        FlockArg::LockExclusive
    } else {
        FlockArg::LockShared
    };
    let lock = Flock::lock(open(path)?, arg).map_err(|(_, errno)| LockError {
        path: path.to_path_buf(),
        source: errno.into(),
    })?;
    Ok(LockGuard { _lock: lock })
}

/// Lock `path` exclusively if nobody holds it; `None` when somebody does.
pub fn try_lock_exclusive(path: &Path) -> Result<Option<LockGuard>, LockError> {
    match Flock::lock(open(path)?, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(Some(LockGuard { _lock: lock })),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
        Err((_, errno)) => Err(LockError {
            path: path.to_path_buf(),
            source: errno.into(),
        }),
    }
}

fn open(path: &Path) -> Result<File, LockError> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|source| LockError {
            path: path.to_path_buf(),
            source,
        })
}
