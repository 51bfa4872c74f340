//! The host side of a container: validate the spec, prepare the state
//! directory and cgroup, start the init (`launch`), then wait, signal, stop
//! and clean up through a pidfd (immune to pid reuse; a restarted
//! supervisor re-adopts containers with `load`).

use crate::cgroups::Cgroup;
use crate::container::error::{CleanupError, ContainerError};
use crate::container::launch::{spawn_init, InitProgram};
use crate::container::prepare::{device_policy, refuse_if_running, validate, write_etc_files};
use crate::container::rootfs::MERGED;
use crate::container::spec::ContainerSpec;
use crate::container::state::{
    now_rfc3339, ExitRecord, ExitStatus, InitConfig, State, StateDir, Status, CONFIG_FILE,
    EXIT_FILE,
};
use crate::container::workload::EXIT_SETUP_FAILED;
use crate::sys::process::{is_gone, pidfd_open, pidfd_send_signal};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;
use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A started container.
#[derive(Debug)]
pub struct Container {
    pub(super) id: String,
    state_dir: PathBuf,
    pub(super) dir: StateDir,
    pub(super) cgroup: Cgroup,
    pid: Pid,
    /// `None` when the init was already gone and reaped by someone else.
    pidfd: Option<OwnedFd>,
}

impl Container {
    /// Create and start the container described by `spec`, keeping its
    /// state in `state_dir` (created if missing). Returns once the workload
    /// has been forked, or with the reason the setup failed.
    pub fn create(
        spec: &ContainerSpec,
        state_dir: &Path,
        init: &InitProgram,
    ) -> Result<Container, ContainerError> {
        validate(spec)?;
        let id = spec.id.clone();
        let io = |action, path: &Path| {
            let (id, path) = (id.clone(), path.to_path_buf());
            move |source| ContainerError::Io {
                id,
                action,
                path,
                source,
            }
        };
        std::fs::create_dir_all(state_dir).map_err(io("create", state_dir))?;
        let dir = StateDir::open(state_dir).map_err(io("open", state_dir))?;
        refuse_if_running(&dir, &id)?;
        write_etc_files(&dir, spec).map_err(io("write the /etc files in", state_dir))?;
        let state = State::created(&id);
        dir.save_state(&state)
            .map_err(io("write the state in", state_dir))?;
        let (nodes, devices) = device_policy(spec)?;
        let cgroup_name = spec.cgroup_name.as_deref().unwrap_or(&id);
        let cgroup = Cgroup::create(cgroup_name, &spec.resources, &devices).map_err(|source| {
            ContainerError::Cgroup {
                id: id.clone(),
                source,
            }
        })?;
        let config = InitConfig {
            spec: spec.clone(),
            cgroup: cgroup.clone(),
            devices: nodes,
        };
        // An empty exit.json: PID 1 fills it; a stale one must not count.
        let started = dir
            .write_atomic(EXIT_FILE, b"")
            .and_then(|()| dir.write_json(CONFIG_FILE, &config))
            .map_err(io("write", &state_dir.join(CONFIG_FILE)))
            .and_then(|()| spawn_init(&id, state_dir, init));
        match started {
            Ok(pid) => {
                let pidfd = pidfd_open(pid).ok();
                Ok(Container {
                    id,
                    state_dir: state_dir.to_path_buf(),
                    dir,
                    cgroup,
                    pid,
                    pidfd,
                })
            }
            Err(e) => {
                // The init (if any) has exited; give the kernel a moment to
                // empty the group, then remove it.
                let _ = cgroup.remove(Duration::from_secs(2));
                record_failed_start(&dir, &id, &e);
                Err(e)
            }
        }
    }

    /// Adopt a container from its state directory (after a restart).
    pub fn load(state_dir: &Path) -> Result<Container, ContainerError> {
        // Until config.json is read, the directory's name stands for the id.
        let dir_name = state_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let io = |action, path: PathBuf| {
            let id = dir_name.clone();
            move |source| ContainerError::Io {
                id,
                action,
                path,
                source,
            }
        };
        let dir = StateDir::open(state_dir).map_err(io("open", state_dir.to_path_buf()))?;
        let config: InitConfig = dir
            .read_json(CONFIG_FILE)
            .map_err(io("read", state_dir.join(CONFIG_FILE)))?;
        let state = dir
            .load_state()
            .map_err(io("read", state_dir.join("state.json")))?;
        let pid = Pid::from_raw(state.pid.unwrap_or(0));
        // A container still `Created` in state.json may already run: the
        // state moves to Running after `create` returned, so a `stop` right
        // after `up -d` must still find (and wait for) its init. Without the
        // pidfd it was taken for exited and its cgroup could not be removed.
        let pidfd = match state.status {
            Status::Created | Status::Running | Status::Paused if pid.as_raw() > 0 => {
                pidfd_open(pid).ok()
            }
            _ => None,
        };
        Ok(Container {
            id: config.spec.id,
            state_dir: state_dir.to_path_buf(),
            dir,
            cgroup: config.cgroup,
            pid,
            pidfd,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The init's pid in the host's pid namespace.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// A pidfd of the init (readable once it exited), for async waiting;
    /// `None` when it was already gone when we looked.
    pub fn pidfd(&self) -> Option<BorrowedFd<'_>> {
        self.pidfd.as_ref().map(|fd| fd.as_fd())
    }

    /// The JSON-lines log of the workload's output.
    pub fn log_path(&self) -> PathBuf {
        self.state_dir.join(crate::container::state::LOG_FILE)
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    pub fn cgroup(&self) -> &Cgroup {
        &self.cgroup
    }

    /// The state as recorded in `state.json`.
    /// If the init has exited meanwhile, its exit is folded in first.
    ///
    /// A container still `Created` with no pid is being started (or never
    /// was): its init has not recorded itself yet, so there is no exit to
    /// fold in. Taking it for exited would overwrite the Running state the
    /// init writes a moment later (a supervisor observing the project while
    /// `up` starts containers did exactly that).
    pub fn state(&self) -> Result<State, ContainerError> {
        self.wait_timeout(Duration::ZERO)?;
        self.read_state()
    }

    fn read_state(&self) -> Result<State, ContainerError> {
        self.dir
            .load_state()
            .map_err(|source| self.io_error("read", "state.json", source))
    }

    /// The init's pidfd: the one opened at load, else one opened now when
    /// the init recorded itself after this value was loaded (it was loaded
    /// while the container was starting). `None` when it is gone.
    fn live_pidfd(&self) -> Result<Option<Pidfd<'_>>, ContainerError> {
        if let Some(fd) = &self.pidfd {
            return Ok(Some(Pidfd::Loaded(fd.as_fd())));
        }
        let state = self.read_state()?;
        let live = matches!(
            state.status,
            Status::Created | Status::Running | Status::Paused
        );
        Ok(match state.pid {
            Some(pid) if live && pid > 0 => pidfd_open(Pid::from_raw(pid)).ok().map(Pidfd::Late),
            _ => None,
        })
    }

    pub(super) fn io_error(
        &self,
        action: &'static str,
        name: &str,
        source: std::io::Error,
    ) -> ContainerError {
        ContainerError::Io {
            id: self.id.clone(),
            action,
            path: self.state_dir.join(name),
            source,
        }
    }

    /// Send `signal` to the container's init, which forwards it to the
    /// workload (SIGKILL ends the whole pid namespace at once).
    pub fn kill(&self, signal: Signal) -> Result<(), ContainerError> {
        let not_running = || ContainerError::BadState {
            id: self.id.clone(),
            status: Status::Stopped,
            action: "send it a signal",
        };
        let pidfd = self.live_pidfd()?.ok_or_else(not_running)?;
        match pidfd_send_signal(pidfd.as_fd(), signal) {
            Ok(()) => Ok(()),
            Err(e) if is_gone(&e) => Err(not_running()),
            Err(source) => Err(ContainerError::Signal {
                id: self.id.clone(),
                source,
            }),
        }
    }

    /// Block until the container has stopped; its exit status.
    pub fn wait(&self) -> Result<ExitStatus, ContainerError> {
        loop {
            if let Some(exit) = self.wait_timeout(Duration::from_secs(3600))? {
                return Ok(exit);
            }
            // Still starting (no init to poll yet): look again shortly
            // instead of spinning.
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait at most `timeout`; `None` if the container still runs.
    pub fn wait_timeout(&self, timeout: Duration) -> Result<Option<ExitStatus>, ContainerError> {
        let Some(pidfd) = self.live_pidfd()? else {
            return self.exit_without_pidfd();
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        match poll(
            &mut fds,
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
        ) {
            Ok(0) => return Ok(None),
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => return Ok(None),
            Err(errno) => return Err(self.io_error("wait for", "the init", errno.into())),
        }
        // Reap it if it is our child (we are its subreaper); ECHILD
        // otherwise, and then its own parent reaps it.
        let reaped = waitid(
            Id::PIDFd(pidfd.as_fd()),
            WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG,
        )
        .ok();
        self.recorded_exit(reaped).map(Some)
    }

    /// No init to wait on: either it is gone (its exit is folded in), or
    /// it has not recorded itself yet (state `Created`, no pid), and then
    /// it has not exited. Concluding it had and saving that would
    /// overwrite the `Running` state PID 1 is about to write, and hide a
    /// live container from `stop`.
    fn exit_without_pidfd(&self) -> Result<Option<ExitStatus>, ContainerError> {
        let state = self.read_state()?;
        if state.status == Status::Created && state.pid.is_none() {
            return Ok(None);
        }
        self.recorded_exit(None).map(Some)
    }

    /// The exit as recorded: from state.json once folded in, else from
    /// PID 1's exit.json (then folded into state.json), else PID 1 died
    /// without recording one (SIGKILL) and waitid's view is recorded.
    fn recorded_exit(&self, reaped: Option<WaitStatus>) -> Result<ExitStatus, ContainerError> {
        let mut state = self.read_state()?;
        if let (Status::Stopped, Some(exit)) = (state.status, state.exit) {
            return Ok(exit);
        }
        let record = read_exit_record(&self.dir).unwrap_or_else(|| {
            let exit = match reaped {
                Some(WaitStatus::Exited(_, code)) => ExitStatus::exited(code),
                Some(WaitStatus::Signaled(_, sig, _)) => ExitStatus::signaled(sig as i32),
                _ => ExitStatus::signaled(Signal::SIGKILL as i32),
            };
            ExitRecord {
                exit,
                finished_at: now_rfc3339(),
                error: Some("the container's init was killed before it recorded the exit".into()),
            }
        });
        state.status = Status::Stopped;
        state.exit = Some(record.exit);
        state.finished_at = Some(record.finished_at);
        state.error = record.error;
        self.dir
            .save_state(&state)
            .map_err(|source| self.io_error("write", "state.json", source))?;
        Ok(record.exit)
    }

    /// `docker stop`: SIGTERM, then SIGKILL after `timeout`.
    pub fn stop(&self, timeout: Duration) -> Result<ExitStatus, ContainerError> {
        self.stop_with(Signal::SIGTERM, timeout)
    }

    /// Compose `stop_signal`: `signal`, then SIGKILL after `timeout`.
    /// A paused container is thawed after the signal, as Docker does, so
    /// the workload can handle it.
    pub fn stop_with(
        &self,
        signal: Signal,
        timeout: Duration,
    ) -> Result<ExitStatus, ContainerError> {
        if let Some(exit) = self.wait_timeout(Duration::ZERO)? {
            return Ok(exit);
        }
        match self.kill(signal) {
            Ok(()) | Err(ContainerError::BadState { .. }) => {}
            Err(e) => return Err(e),
        }
        if self.state()?.status == Status::Paused {
            self.unpause()?;
        }
        if let Some(exit) = self.wait_timeout(timeout)? {
            return Ok(exit);
        }
        match self.kill(Signal::SIGKILL) {
            Ok(()) | Err(ContainerError::BadState { .. }) => {}
            Err(e) => return Err(e),
        }
        self.wait()
    }

    /// Whether the kernel's OOM killer killed a process of the container.
    pub fn oom_killed(&self) -> bool {
        self.cgroup.oom_kills().map(|n| n > 0).unwrap_or(false)
    }

    /// Release the container's kernel state: kill it if it still runs,
    /// unmount its root if visible on the host, remove its cgroup. Every
    /// step runs; all failures are returned together. Logs and state stay.
    pub fn cleanup(&self) -> Result<(), CleanupError> {
        let mut errors = Vec::new();
        match self.wait_timeout(Duration::ZERO) {
            Ok(Some(_)) => {}
            Ok(None) => {
                if let Err(e) = self.stop(Duration::ZERO) {
                    errors.push(e);
                }
            }
            Err(e) => errors.push(e),
        }
        if let Err(e) = self.unmount_root() {
            errors.push(e);
        }
        for source in self.cgroup.remove(Duration::from_secs(2)) {
            errors.push(ContainerError::Cgroup {
                id: self.id.clone(),
                source,
            });
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(CleanupError {
                id: self.id.clone(),
                errors,
            })
        }
    }

    /// The overlay lives in the container's mount namespace and vanishes
    /// with it; a mount visible here would be a leftover, detach it.
    fn unmount_root(&self) -> Result<(), ContainerError> {
        let merged = self.state_dir.join(MERGED);
        let mounted = std::fs::read_to_string("/proc/self/mountinfo")
            .map(|t| {
                t.lines()
                    .any(|l| l.split(' ').nth(4) == Some(&*merged.to_string_lossy()))
            })
            .unwrap_or(false);
        if mounted {
            nix::mount::umount2(&merged, nix::mount::MntFlags::MNT_DETACH)
                .map_err(|errno| self.io_error("unmount", MERGED, errno.into()))?;
        }
        Ok(())
    }

    /// `docker rm`: cleanup, then delete the state directory.
    ///
    /// (see [`remove_state_dir`] for why deleting may need another try)
    pub fn remove(self) -> Result<(), CleanupError> {
        let mut result = self.cleanup();
        if let Err(source) = remove_state_dir(&self.state_dir) {
            let error = ContainerError::Io {
                id: self.id.clone(),
                action: "remove",
                path: self.state_dir.clone(),
                source,
            };
            match &mut result {
                Err(e) => e.errors.push(error),
                Ok(()) => {
                    result = Err(CleanupError {
                        id: self.id.clone(),
                        errors: vec![error],
                    })
                }
            }
        }
        result
    }
}

/// A pidfd kept since load, or opened for one call.
enum Pidfd<'a> {
    Loaded(BorrowedFd<'a>),
    Late(OwnedFd),
}

impl AsFd for Pidfd<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Pidfd::Loaded(fd) => fd.as_fd(),
            Pidfd::Late(fd) => fd.as_fd(),
        }
    }
}

/// PID 1's exit.json, if it wrote one.
fn read_exit_record(dir: &StateDir) -> Option<ExitRecord> {
    let bytes = dir.read(EXIT_FILE).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// After a failed start: the container is stopped, with the reason.
fn record_failed_start(dir: &StateDir, id: &str, error: &ContainerError) {
    let mut state = dir.load_state().unwrap_or_else(|_| State::created(id));
    let record = read_exit_record(dir);
    state.status = Status::Stopped;
    state.exit = Some(
        record
            .as_ref()
            .map_or(ExitStatus::exited(EXIT_SETUP_FAILED), |r| r.exit),
    );
    state.finished_at = Some(now_rfc3339());
    state.error = Some(error.to_string());
    let _ = dir.save_state(&state);
}

/// Delete a container's state directory. A writer that was already at
/// work (the supervisor's health probe writing `health.json`, its output
/// file) can add an entry while the tree is being deleted, which fails
/// with ENOTEMPTY: try again a few times. A directory already gone is
/// fine.
pub fn remove_state_dir(dir: &Path) -> std::io::Result<()> {
    let mut tries = 0;
    loop {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(nix::libc::ENOTEMPTY) && tries < 5 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    }
}
