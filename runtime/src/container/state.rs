//! The container's lifecycle state and its state directory.
//!
//! `state.json` is written by the outer init (running, with PID 1's host
//! pid) and by the host (created; paused; stopped, folding in PID 1's
//! `exit.json`), always atomically (temp file + rename, relative to a
//! directory descriptor). PID 1 itself only writes `exit.json`: it keeps no
//! directory of the host open (see [`ExitRecord`]).

use crate::cgroups::Cgroup;
use crate::container::devices::DeviceNode;
use crate::container::spec::ContainerSpec;
use nix::fcntl::{openat, renameat, OFlag};
use nix::sys::stat::Mode;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "config.json";
pub const STATE_FILE: &str = "state.json";
pub const LOG_FILE: &str = "log.jsonl";
/// Where PID 1 writes how the workload ended (see [`ExitRecord`]).
pub const EXIT_FILE: &str = "exit.json";
/// The init's own diagnostics before the log is open.
pub const INIT_LOG_FILE: &str = "init.log";

/// What the host hands the init in `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InitConfig {
    pub spec: ContainerSpec,
    /// The cgroup the init joins before creating its namespaces.
    pub cgroup: Cgroup,
    /// The `devices:` mappings, resolved on the host.
    #[serde(default)]
    pub devices: Vec<DeviceNode>,
}

/// Lifecycle of a container (OCI runtime-spec "state").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Config written, init not started yet.
    Created,
    /// The init runs; the workload runs or is being set up.
    Running,
    /// Frozen by `pause` (cgroup freezer).
    Paused,
    /// The workload (or the init) has exited.
    Stopped,
}

impl Status {
    pub fn can_start(self) -> bool {
        self == Status::Created
    }
    /// Signals are queued for a paused container (delivered on thaw).
    pub fn can_kill(self) -> bool {
        matches!(self, Status::Running | Status::Paused)
    }
    pub fn can_pause(self) -> bool {
        self == Status::Running
    }
    pub fn can_unpause(self) -> bool {
        self == Status::Paused
    }
    /// Docker refuses exec into a paused container, and so do we.
    pub fn can_exec(self) -> bool {
        self == Status::Running
    }
    pub fn can_cleanup(self) -> bool {
        matches!(self, Status::Created | Status::Stopped)
    }
}

/// How the workload ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitStatus {
    /// Docker's exit code: the process's code, or 128 + signal.
    pub code: i32,
    /// The signal that killed it, if any.
    pub signal: Option<i32>,
}

impl ExitStatus {
    pub fn exited(code: i32) -> ExitStatus {
        ExitStatus { code, signal: None }
    }
    pub fn signaled(signal: i32) -> ExitStatus {
        ExitStatus {
            code: 128 + signal,
            signal: Some(signal),
        }
    }
}

/// The content of `state.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub id: String,
    pub status: Status,
    /// The init's pid in the host's pid namespace.
    pub pid: Option<i32>,
    /// RFC 3339 times.
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub exit: Option<ExitStatus>,
    /// Why the container stopped abnormally (setup failure, init killed).
    pub error: Option<String>,
}

impl State {
    pub fn created(id: &str) -> State {
        State {
            id: id.to_string(),
            status: Status::Created,
            pid: None,
            started_at: None,
            finished_at: None,
            exit: None,
            error: None,
        }
    }
}

/// How the workload ended, as PID 1 writes it to `exit.json` through a
/// descriptor opened before pivot_root. PID 1 keeps no directory of the
/// host open (a container process allowed into /proc/1/fd could walk out of
/// it with "..", as in CVE-2024-21626), so it cannot rename a temp file;
/// the host reads this file once PID 1 is gone and folds it into
/// `state.json` atomically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitRecord {
    pub exit: ExitStatus,
    pub finished_at: String,
    pub error: Option<String>,
}

/// The current time as RFC 3339 with nanoseconds, in UTC.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string()
}

/// An open state directory: reads and atomic writes relative to its fd.
#[derive(Debug)]
pub struct StateDir {
    path: PathBuf,
    fd: OwnedFd,
}

impl StateDir {
    /// Open (not create) the directory at `path`.
    pub fn open(path: &Path) -> std::io::Result<StateDir> {
        let fd = nix::fcntl::open(
            path,
            OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        Ok(StateDir {
            path: path.to_path_buf(),
            fd,
        })
    }

    /// The path the directory had when opened (meaningless after pivot_root).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Open `name` inside the directory with `flags`.
    pub fn open_file(&self, name: &str, flags: OFlag, mode: u32) -> std::io::Result<std::fs::File> {
        let fd = openat(
            &self.fd,
            name,
            flags | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(mode),
        )?;
        Ok(std::fs::File::from(fd))
    }

    /// Replace `name` atomically with `bytes` (write temp, fsync, rename).
    pub fn write_atomic(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        // Unique per call, not only per process: two threads of one process
        // (the supervisor's exit watcher and a stop step) may save state.json
        // at the same time, and with a shared temp name one rename would take
        // the other's file away (ENOENT on the second rename).
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = format!(".{name}.tmp.{}.{n}", std::process::id());
        let flags = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_TRUNC;
        let mut file = self.open_file(&tmp, flags, 0o644)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        renameat(&self.fd, tmp.as_str(), &self.fd, name)?;
        Ok(())
    }

    /// The whole content of `name`.
    pub fn read(&self, name: &str) -> std::io::Result<Vec<u8>> {
        let mut file = self.open_file(name, OFlag::O_RDONLY, 0)?;
        let mut buf = Vec::new();
        file.read_to_end(&mut buf)?;
        Ok(buf)
    }

    pub fn read_json<T: serde::de::DeserializeOwned>(&self, name: &str) -> std::io::Result<T> {
        let bytes = self.read(name)?;
        serde_json::from_slice(&bytes).map_err(std::io::Error::from)
    }

    pub fn write_json<T: Serialize>(&self, name: &str, value: &T) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::from)?;
        self.write_atomic(name, &bytes)
    }

    pub fn load_state(&self) -> std::io::Result<State> {
        self.read_json(STATE_FILE)
    }

    pub fn save_state(&self, state: &State) -> std::io::Result<()> {
        self.write_json(STATE_FILE, state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_saving_state_at_once_never_lose_a_rename() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = std::sync::Arc::new(StateDir::open(tmp.path()).unwrap());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let dir = dir.clone();
                std::thread::spawn(move || {
                    for i in 0..200 {
                        let mut state = State::created(&format!("c{t}-{i}"));
                        state.pid = Some(i);
                        dir.save_state(&state).expect("every save succeeds");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(dir.load_state().is_ok());
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
            .collect();
        assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    }

    #[test]
    fn transitions_follow_the_lifecycle() {
        assert!(Status::Created.can_start());
        assert!(!Status::Running.can_start());
        assert!(Status::Running.can_kill());
        assert!(!Status::Stopped.can_kill());
        assert!(!Status::Running.can_cleanup());
        assert!(!Status::Paused.can_cleanup());
        assert!(Status::Stopped.can_cleanup());
        assert!(Status::Running.can_pause() && !Status::Paused.can_pause());
        assert!(Status::Paused.can_unpause() && Status::Paused.can_kill());
        assert!(!Status::Paused.can_exec());
    }

    #[test]
    fn state_is_written_atomically_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let sd = StateDir::open(dir.path()).unwrap();
        let mut state = State::created("c1");
        state.status = Status::Stopped;
        state.exit = Some(ExitStatus::signaled(9));
        sd.save_state(&state).unwrap();
        assert_eq!(sd.load_state().unwrap(), state);
        assert_eq!(state.exit.unwrap().code, 137);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(STATE_FILE)]);
    }

    #[test]
    fn timestamps_are_rfc3339_with_nanoseconds() {
        let t = now_rfc3339();
        assert!(t.ends_with('Z'), "{t}");
        let frac = t.split('.').nth(1).unwrap();
        assert_eq!(frac.len(), 10, "{t}");
    }
}
