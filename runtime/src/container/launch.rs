//! Starting a container's init: a sealed in-memory copy of our binary
//! (CVE-2019-5736) executed as `compose init <state-dir>`, whose one-line
//! JSON reports on stdout tell when PID 1 exists and when the workload was
//! forked, or why the setup failed.

use crate::container::error::ContainerError;
use crate::container::init::Report;
use crate::container::state::INIT_LOG_FILE;
use crate::sys::process::pidfd_open;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;
use nix::sys::wait::{waitid, Id, WaitPidFlag};
use nix::unistd::Pid;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The binary whose hidden `init` subcommand becomes each container's PID 1.
/// Its sealed in-memory copy is made once and shared by every start.
#[derive(Debug, Clone)]
pub struct InitProgram {
    path: PathBuf,
    sealed: Arc<OnceLock<OwnedFd>>,
}

impl InitProgram {
    /// The running binary (the `compose` CLI or supervisor).
    pub fn current_exe() -> InitProgram {
        InitProgram::at("/proc/self/exe")
    }

    /// Another `compose` binary (tests run from the test harness binary).
    pub fn at(path: impl Into<PathBuf>) -> InitProgram {
        InitProgram {
            path: path.into(),
            sealed: Arc::new(OnceLock::new()),
        }
    }

    /// The path the copy was made from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path that executes the sealed copy, valid while `self` lives.
    pub(crate) fn sealed_path(&self) -> std::io::Result<String> {
        Ok(format!("/proc/self/fd/{}", self.sealed_fd()?.as_raw_fd()))
    }

    /// The sealed memfd copy (CVE-2019-5736), made on first use.
    fn sealed_fd(&self) -> std::io::Result<&OwnedFd> {
        if let Some(fd) = self.sealed.get() {
            return Ok(fd);
        }
        let fd = crate::sys::memfd::sealed_copy(&self.path)?;
        // A concurrent first use may have won; either copy is equivalent.
        Ok(self.sealed.get_or_init(|| fd))
    }
}

/// Make the calling process the reaper of orphaned descendants
/// (PR_SET_CHILD_SUBREAPER), so container inits, whose parent exits right
/// after creating them, stay our children and `wait` can reap them.
///
/// Optional: without it the host's PID 1 adopts and reaps the inits, and
/// `wait` still works through the pidfd and `exit.json`. With it, the
/// caller must also reap whatever else it inherits: a process started by
/// `exec` whose shim was SIGKILLed dies by its parent-death signal and
/// becomes our zombie, and the container's PID 1 cannot finish exiting
/// until that zombie is reaped (pid_namespaces(7)). A supervisor's reaper
/// loop does this; signal an exec shim with SIGTERM instead of SIGKILL to
/// let it end its process itself.
pub fn become_subreaper() -> nix::Result<()> {
    nix::sys::prctl::set_child_subreaper(true)
}

/// Run `<init> init <state_dir>` from a sealed memfd and read its reports
/// until EOF. Returns PID 1's host pid once the workload is forked.
pub(super) fn spawn_init(
    id: &str,
    state_dir: &Path,
    init: &InitProgram,
) -> Result<Pid, ContainerError> {
    let spawn_err = |source| ContainerError::Spawn {
        id: id.to_string(),
        program: init.path.clone(),
        source,
    };
    let memfd = init.sealed_fd().map_err(spawn_err)?;
    let init_log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(state_dir.join(INIT_LOG_FILE))
        .map_err(spawn_err)?;
    let mut child = Command::new(format!("/proc/self/fd/{}", memfd.as_raw_fd()))
        .arg0("compose")
        .arg("init")
        .arg(state_dir)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(init_log)
        .spawn()
        .map_err(spawn_err)?;
    let deadline = Instant::now() + SETUP_TIMEOUT;
    let reading = read_reports(child.stdout.take(), deadline);
    if matches!(reading, Reading::TimedOut(_)) {
        let _ = child.kill();
    }
    let status = child.wait().map_err(spawn_err)?;
    let (reports, timed_out) = match reading {
        Reading::Complete(reports) => (reports, false),
        Reading::TimedOut(reports) => (reports, true),
    };
    let mut pid = None;
    for report in reports {
        match report {
            Report::Forked { pid: p } => pid = Some(Pid::from_raw(p)),
            Report::Ready => {
                if let Some(pid) = pid {
                    return Ok(pid);
                }
            }
            Report::Failed { error } => {
                if let Some(pid) = pid {
                    wait_gone(pid, Duration::from_secs(2));
                }
                return Err(ContainerError::Setup {
                    id: id.to_string(),
                    message: error,
                });
            }
        }
    }
    if let Some(pid) = pid {
        // PID 1 exists but never reported: do not leave it behind.
        let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
        wait_gone(pid, Duration::from_secs(2));
    }
    if timed_out {
        return Err(ContainerError::SetupTimeout {
            id: id.to_string(),
            after: SETUP_TIMEOUT,
            log: state_dir.join(INIT_LOG_FILE),
        });
    }
    Err(ContainerError::InitVanished {
        id: id.to_string(),
        status,
        log: state_dir.join(INIT_LOG_FILE),
    })
}

/// How long the init may take to report that the workload is forked
/// (mounting a slow bind source counts); then it is killed.
const SETUP_TIMEOUT: Duration = Duration::from_secs(60);

/// The init's reports, and whether it finished talking before the deadline.
enum Reading {
    Complete(Vec<Report>),
    TimedOut(Vec<Report>),
}

/// Read report lines until EOF or `deadline`.
fn read_reports(stdout: Option<std::process::ChildStdout>, deadline: Instant) -> Reading {
    let Some(stdout) = stdout else {
        return Reading::Complete(Vec::new());
    };
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    let complete = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
        let mut fds = [PollFd::new(stdout.as_fd(), PollFlags::POLLIN)];
        match poll(
            &mut fds,
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
        ) {
            Ok(0) => break false,
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(_) => break true,
        }
        // poll said readable: this read does not block.
        match nix::unistd::read(&stdout, &mut buf) {
            Ok(0) => break true,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => break true,
        }
    };
    let reports = String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    if complete {
        Reading::Complete(reports)
    } else {
        Reading::TimedOut(reports)
    }
}

/// After a failed setup PID 1 exits at once; wait for it (reaping it if it
/// is ours) so its cgroup can be removed.
fn wait_gone(pid: Pid, patience: Duration) {
    let Ok(pidfd) = pidfd_open(pid) else { return };
    let deadline = Instant::now() + patience;
    let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
    let ms = deadline
        .saturating_duration_since(Instant::now())
        .as_millis() as i32;
    let _ = poll(
        &mut fds,
        PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
    );
    let _ = waitid(
        Id::PIDFd(pidfd.as_fd()),
        WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG,
    );
}
