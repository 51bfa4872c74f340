//! `$COMPOSE_ROOT/networks/ipam.json`: read-modify-write under an exclusive
//! `flock` on `networks/ipam.lock`, written atomically (temp file + rename)
//! so a reader never sees half a file.

use super::error::NetworkError;
use super::ipam::IpamState;
use nix::fcntl::{Flock, FlockArg};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The networks directory of one COMPOSE_ROOT.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// The held lock and the state read under it.
pub struct Locked {
    _lock: Flock<File>,
    path: PathBuf,
    pub state: IpamState,
}

impl Store {
    pub fn new(compose_root: &Path) -> Store {
        Store {
            dir: compose_root.join("networks"),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join("ipam.json")
    }

    /// Take the lock (blocking) and read the state.
    pub fn lock(&self) -> Result<Locked, NetworkError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| NetworkError::Io { path, source }
        };
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let lock_path = self.dir.join("ipam.lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        let lock =
            Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| NetworkError::Io {
                path: lock_path.clone(),
                source: errno.into(),
            })?;
        let path = self.path();
        let state = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| NetworkError::State {
                path: path.clone(),
                source,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => IpamState::default(),
            Err(source) => return Err(NetworkError::Io { path, source }),
        };
        Ok(Locked {
            _lock: lock,
            path,
            state,
        })
    }

    /// Read without keeping the lock.
    pub fn read(&self) -> Result<IpamState, NetworkError> {
        Ok(self.lock()?.state)
    }
}

impl Locked {
    /// Write the state atomically; the lock is still held.
    pub fn save(&self) -> Result<(), NetworkError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let io = |source| NetworkError::Io {
            path: self.path.clone(),
            source,
        };
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        let json =
            serde_json::to_vec_pretty(&self.state).map_err(|source| NetworkError::State {
                path: self.path.clone(),
                source,
            })?;
        tmp.write_all(&json).map_err(io)?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(&self.path).map_err(|e| io(e.error))?;
        Ok(())
    }
}
