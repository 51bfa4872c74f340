//! The container's init: the hidden `compose init <state-dir>` subcommand,
//! a fresh exec of our own binary (run from a sealed memfd, see
//! `sys::memfd`), so no Rust runs after a fork in a threaded process.
//!
//! Two stages. The *outer* process joins the container's cgroup, creates
//! the namespaces (unshare(2); a new pid namespace applies to children, so
//! it forks), records the child's host pid in `state.json` and exits. The
//! child is PID 1 of the new pid namespace: it builds the root filesystem,
//! pivots into it, forks the workload, then supervises it (`supervise`)
//! and writes how it ended to `exit.json` before exiting with its code.
//!
//! Both stages report to the host on their stdout, one JSON object per
//! line ([`Report`]); the host reads until EOF, which comes when PID 1 has
//! forked the workload or failed.

use crate::container::devices;
use crate::container::error::SetupError;
use crate::container::log::{LogWriter, Stream};
use crate::container::mounts::{self, OpenedBind};
use crate::container::rootfs;
use crate::container::spec::NetworkMode;
use crate::container::state::{
    now_rfc3339, ExitRecord, ExitStatus, InitConfig, State, StateDir, Status, CONFIG_FILE,
    EXIT_FILE, LOG_FILE,
};
use crate::container::supervise;
use crate::container::sysctl;
use crate::container::target;
use crate::container::workload::{self, Plan, EXIT_SETUP_FAILED};
use crate::sys::process::fork_single_threaded;
use nix::fcntl::OFlag;
use nix::pty::{openpty, Winsize};
use nix::sched::{setns, unshare, CloneFlags};
use nix::sys::signal::SigmaskHow;
use nix::unistd::{pipe2, ForkResult};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::Path;

/// What the init tells the host on its stdout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Report {
    /// PID 1 exists; `pid` is its pid in the host's namespace.
    Forked { pid: i32 },
    /// The root filesystem is ready and the workload forked.
    Ready,
    /// Setup failed; the container is stopped.
    Failed { error: String },
}

/// Per-container files bind-mounted over the image's (written by the host).
pub const ETC_FILES: [(&str, &str); 3] = [
    ("hosts", "/etc/hosts"),
    ("hostname", "/etc/hostname"),
    ("resolv.conf", "/etc/resolv.conf"),
];

fn send(report: &Report) {
    let mut out = std::io::stdout().lock();
    if let Ok(line) = serde_json::to_string(report) {
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// Run `compose init STATE_DIR [--exec FILE]` if `args` (the process's
/// argv) is one; `None` for any other command line. The binary's `main`
/// calls this first, before the CLI parses anything: a container's PID 1
/// then loads and touches only the init's code and data, not the CLI's
/// (benches/up.rs measures what a container's init costs).
pub fn dispatch(args: &[std::ffi::OsString]) -> Option<i32> {
    match args {
        [_, init, state_dir] if init == "init" => Some(main(Path::new(state_dir))),
        [_, init, state_dir, flag, file] if init == "init" && flag == "--exec" => Some(
            crate::container::exec::main(Path::new(state_dir), file.to_str()?),
        ),
        _ => None,
    }
}

/// The `compose init` entry point; returns the outer process's exit code.
pub fn main(state_dir: &Path) -> i32 {
    // Start from a clean signal state whatever the spawner had blocked or
    // ignored: PID 1 then blocks exactly what it takes from its signalfd.
    let _ = crate::sys::process::default_signal_state();
    match outer(state_dir) {
        Ok(code) => code,
        Err(e) => {
            send(&Report::Failed {
                error: e.to_string(),
            });
            EXIT_SETUP_FAILED
        }
    }
}

fn outer(state_dir: &Path) -> Result<i32, SetupError> {
    // `ps` in the container would otherwise show the memfd's fd number.
    let _ = nix::sys::prctl::set_name(c"compose-init");
    let dir =
        StateDir::open(state_dir).map_err(SetupError::io("open the state directory", state_dir))?;
    let config: InitConfig = dir
        .read_json(CONFIG_FILE)
        .map_err(SetupError::io("read", state_dir.join(CONFIG_FILE)))?;
    config.cgroup.join_self()?;
    enter_namespaces(&config.spec.network)?;
    let (sync_r, sync_w) = pipe2(OFlag::O_CLOEXEC).map_err(SetupError::sys("create a pipe"))?;
    match fork_single_threaded().map_err(SetupError::io("fork", "PID 1"))? {
        ForkResult::Parent { child } => {
            drop(sync_r);
            let mut state = State::created(&config.spec.id);
            state.status = Status::Running;
            state.pid = Some(child.as_raw());
            state.started_at = Some(now_rfc3339());
            if let Err(e) = dir.save_state(&state) {
                let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
                return Err(SetupError::io("write", state_dir.join("state.json"))(e));
            }
            send(&Report::Forked {
                pid: child.as_raw(),
            });
            // Closing our end releases PID 1: its state is recorded.
            drop(sync_w);
            Ok(0)
        }
        ForkResult::Child => {
            drop(sync_w);
            let mut byte = [0u8; 1];
            let _ = nix::unistd::read(&sync_r, &mut byte);
            drop(sync_r);
            std::process::exit(pid1(config, dir))
        }
    }
}

fn enter_namespaces(network: &NetworkMode) -> Result<(), SetupError> {
    let mut flags = CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWCGROUP;
    match network {
        NetworkMode::Loopback => flags |= CloneFlags::CLONE_NEWNET,
        NetworkMode::Host => {}
        NetworkMode::Join { path } => {
            let ns = std::fs::File::open(path)
                .map_err(SetupError::io("open the network namespace", path))?;
            setns(&ns, CloneFlags::CLONE_NEWNET).map_err(|errno| SetupError::JoinNetwork {
                path: path.clone(),
                errno,
            })?;
        }
    }
    unshare(flags).map_err(|errno| SetupError::Unshare {
        flags: format!("{flags:?}"),
        errno,
    })
}

/// What PID 1 keeps of the state directory once the container runs: two
/// regular files, never the directory itself (see [`ExitRecord`]).
struct Pid1Files {
    log: LogWriter<std::fs::File>,
    exit: std::fs::File,
}

fn open_files(dir: &StateDir) -> Result<Pid1Files, SetupError> {
    let append = OFlag::O_WRONLY | OFlag::O_APPEND | OFlag::O_CREAT;
    let log = dir
        .open_file(LOG_FILE, append, 0o640)
        .map_err(SetupError::io("open", dir.path().join(LOG_FILE)))?;
    let exit = dir
        .open_file(
            EXIT_FILE,
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_TRUNC,
            0o644,
        )
        .map_err(SetupError::io("open", dir.path().join(EXIT_FILE)))?;
    Ok(Pid1Files {
        log: LogWriter::new(log),
        exit,
    })
}

/// PID 1: set up, fork the workload, supervise; returns the exit code.
fn pid1(config: InitConfig, dir: StateDir) -> i32 {
    let state_path = dir.path().to_path_buf();
    let mut files = match open_files(&dir) {
        Ok(files) => files,
        Err(e) => return fail(None, e),
    };
    // `compose run -i`: the FIFO is a host path, opened before pivot_root.
    let stdin = match config.spec.process.stdin_open {
        true => match crate::container::stdin::open_reader(&state_path) {
            Ok(fd) => fd,
            Err(e) => return fail(Some(&mut files), e),
        },
        false => None,
    };
    drop(dir);
    let plan = match setup(&config, &state_path) {
        Ok(plan) => plan,
        Err(e) => return fail(Some(&mut files), e),
    };
    let signals = supervise::handled_signals();
    if let Err(errno) = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&signals), None)
    {
        return fail(Some(&mut files), SetupError::sys("block signals")(errno));
    }
    let process = &config.spec.process;
    let (stdio, outputs, input) = match workload_stdio(process.tty, stdin, process.console_size) {
        Ok(triple) => triple,
        Err(e) => return fail(Some(&mut files), e),
    };
    let raw = input.is_some();
    let child = match fork_single_threaded() {
        Ok(ForkResult::Child) => workload::exec(&plan, stdio),
        Ok(ForkResult::Parent { child }) => child,
        Err(e) => return fail(Some(&mut files), SetupError::io("fork", "the workload")(e)),
    };
    // Our copies of the write ends (or the terminal's slave) must close,
    // or the read side would never see the end of the output.
    drop(stdio);
    // PID 1 lives as long as the container: what setup parsed and built
    // (the spec, the seccomp programs, the exec plan) goes back to the
    // kernel, so each container costs only the loop's own pages.
    drop(plan);
    drop(config);
    crate::sys::memory::release_free_heap();
    send(&Report::Ready);
    close_stdout();
    let exit = supervise::run_with_input(child, outputs, input, raw, &signals, &mut files.log)
        .unwrap_or(ExitStatus::exited(EXIT_SETUP_FAILED));
    record_exit(&mut files.exit, exit, None);
    exit.code
}

/// The workload's stdio and the init's read ends: two pipes, or a
/// pseudo-terminal from the container's own devpts for `tty: true`; and
/// with a terminal and a stdin FIFO, the FIFO and the terminal's master,
/// for the init to carry keys from one to the other.
#[allow(clippy::type_complexity)]
fn workload_stdio(
    tty: bool,
    stdin: Option<OwnedFd>,
    console_size: Option<(u16, u16)>,
) -> Result<
    (
        workload::Stdio,
        Vec<(OwnedFd, Stream)>,
        Option<(OwnedFd, OwnedFd)>,
    ),
    SetupError,
> {
    if tty {
        // The client's size, else Docker's default.
        let (rows, cols) = console_size.unwrap_or((24, 80));
        let size = Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(&size, None).map_err(SetupError::sys("open a pseudo-terminal"))?;
        let input = match stdin {
            Some(fifo) => {
                let master = pty
                    .master
                    .try_clone()
                    .map_err(SetupError::io("duplicate", "the terminal"))?;
                Some((fifo, master))
            }
            None => None,
        };
        let stdio = workload::Stdio::Tty { slave: pty.slave };
        return Ok((stdio, vec![(pty.master, Stream::Stdout)], input));
    }
    let (out_r, out_w) = pipe2(OFlag::O_CLOEXEC).map_err(SetupError::sys("create a pipe"))?;
    let (err_r, err_w) = pipe2(OFlag::O_CLOEXEC).map_err(SetupError::sys("create a pipe"))?;
    let stdio = workload::Stdio::Log {
        stdin,
        stdout: out_w,
        stderr: err_w,
    };
    Ok((
        stdio,
        vec![(out_r, Stream::Stdout), (err_r, Stream::Stderr)],
        None,
    ))
}

/// Everything between unshare and the workload's fork.
///
/// Host paths (the overlay's layers, bind sources, the /etc files) are
/// taken before pivot_root; the host's root is detached right after it,
/// so every container path resolved later stays in the container.
fn setup(config: &InitConfig, state_dir: &Path) -> Result<Plan, SetupError> {
    let spec = &config.spec;
    // Mount points and the working directory are created 0755 as under
    // Docker (whose daemon runs with umask 022), whatever the caller's.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    rootfs::make_private()?;
    if spec.network == NetworkMode::Loopback {
        crate::sys::net::interface_up("lo").map_err(SetupError::io("bring up", "lo"))?;
    }
    let merged = rootfs::mount_overlay(state_dir, &spec.rootfs.lower_dirs)?;
    let etc = ETC_FILES
        .iter()
        .map(|(name, target)| OpenedBind::open(&state_dir.join(name), target, false))
        .collect::<Result<Vec<_>, _>>()?;
    let prepared = mounts::prepare(&spec.mounts)?;
    rootfs::pivot(&merged)?;
    rootfs::detach_old_root()?;
    let privileged = spec.security.privileged;
    mounts::mount_proc()?;
    sysctl::apply(&spec.sysctls)?;
    devices::setup_dev(spec.shm_size)?;
    for node in &config.devices {
        node.create()?;
    }
    mounts::mount_sys(!privileged)?;
    for bind in &etc {
        bind.mount()?;
    }
    mounts::mount_prepared(&prepared)?;
    if !privileged {
        mounts::mask_paths()?;
        mounts::readonly_paths()?;
    }
    target::open(Path::new(&spec.process.cwd), target::Kind::Dir)?;
    if spec.rootfs.read_only {
        rootfs::make_root_readonly()?;
    }
    nix::unistd::sethostname(&spec.hostname).map_err(|errno| SetupError::Hostname {
        name: spec.hostname.clone(),
        errno,
    })?;
    // Docker sets it only when given; a new UTS namespace starts "(none)".
    if !spec.domainname.is_empty() {
        crate::sys::uts::set_domainname(&spec.domainname).map_err(|e| SetupError::Domainname {
            name: spec.domainname.clone(),
            errno: nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)),
        })?;
    }
    Plan::prepare(spec)
}

/// Point fd 1 at /dev/null: the host's report pipe then sees EOF.
fn close_stdout() {
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        let _ = nix::unistd::dup2_stdout(&null);
    }
}

fn fail(files: Option<&mut Pid1Files>, error: SetupError) -> i32 {
    let message = error.to_string();
    let exit = ExitStatus::exited(EXIT_SETUP_FAILED);
    if let Some(files) = files {
        let _ = files
            .log
            .write(Stream::Stderr, format!("compose: {message}\n").as_bytes());
        record_exit(&mut files.exit, exit, Some(message.clone()));
    }
    send(&Report::Failed { error: message });
    EXIT_SETUP_FAILED
}

/// One write of a small JSON object into the fresh, empty exit file.
fn record_exit(file: &mut std::fs::File, exit: ExitStatus, error: Option<String>) {
    let record = ExitRecord {
        exit,
        finished_at: now_rfc3339(),
        error,
    };
    if let Ok(bytes) = serde_json::to_vec(&record) {
        // Nobody to tell if this fails: the host then finds no record and
        // reports the init as killed.
        let _ = file.write_all(&bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_one_json_object_per_line() {
        let forked = serde_json::to_string(&Report::Forked { pid: 42 }).unwrap();
        assert_eq!(forked, r#"{"event":"forked","pid":42}"#);
        let ready = serde_json::to_string(&Report::Ready).unwrap();
        assert_eq!(ready, r#"{"event":"ready"}"#);
        let back: Report = serde_json::from_str(r#"{"event":"failed","error":"x"}"#).unwrap();
        assert_eq!(back, Report::Failed { error: "x".into() });
    }
}
