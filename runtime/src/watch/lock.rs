//! One watch per project at a time (docker compose takes an exclusive
//! pidfile lock per project before watching): `$COMPOSE_ROOT/watch/
//! <project>.lock`, outside the project's directory so that a watch never
//! keeps `down` from removing it. The file is removed when the watch ends.

use crate::image::lock::{try_lock_exclusive, LockError, LockGuard};
use std::path::{Path, PathBuf};

/// Why the project's watch lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum WatchLockError {
    #[error("cannot take exclusive lock for project {project:?}: another `compose watch` (or `up --watch`) watches it")]
    Held { project: String },
    #[error("cannot take exclusive lock for project {project:?}: {source}")]
    Lock {
        project: String,
        #[source]
        source: LockError,
    },
    #[error("cannot create {}: {source}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The held lock; dropping it releases it and removes its file.
#[derive(Debug)]
pub struct WatchLock {
    path: PathBuf,
    _guard: LockGuard,
}

impl WatchLock {
    /// Take the watch lock of `project` under `root`, or fail at once.
    pub fn take(root: &Path, project: &str) -> Result<WatchLock, WatchLockError> {
        let dir = root.join("watch");
        std::fs::create_dir_all(&dir).map_err(|source| WatchLockError::Create {
            path: dir.clone(),
            source,
        })?;
        let path = dir.join(format!("{project}.lock"));
        let lock = |source| WatchLockError::Lock {
            project: project.to_string(),
            source,
        };
        match try_lock_exclusive(&path).map_err(lock)? {
            Some(guard) => Ok(WatchLock {
                path,
                _guard: guard,
            }),
            None => Err(WatchLockError::Held {
                project: project.to_string(),
            }),
        }
    }
}

impl Drop for WatchLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_watch_of_a_project_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let first = WatchLock::take(root.path(), "demo").unwrap();
        let err = WatchLock::take(root.path(), "demo").unwrap_err();
        assert!(matches!(err, WatchLockError::Held { .. }), "{err}");
        assert!(WatchLock::take(root.path(), "other").is_ok());
        drop(first);
        assert!(!root.path().join("watch/demo.lock").exists());
        assert!(WatchLock::take(root.path(), "demo").is_ok());
    }
}
