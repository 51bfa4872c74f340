//! Running another process in a running container (`docker compose exec`,
//! and the supervisor's healthchecks).
//!
//! The host side builds a command: our binary, from the same sealed memfd
//! as the init, as `compose init <state-dir> --exec <file>`. That process
//! (the *exec shim*) joins the container's cgroup and namespaces (setns(2)
//! on `/proc/<init>/ns/*`, the mount namespace last), forks so the child is
//! inside the pid namespace, and the child becomes the process with the
//! container's user, capabilities and seccomp filter. The shim forwards
//! signals and exits with the process's code. Stdio is the caller's: pipe
//! it for a healthcheck, inherit it for an interactive exec.

use crate::container::create::Container;
use crate::container::error::{ContainerError, SetupError};
use crate::container::launch::InitProgram;
use crate::container::log::LogWriter;
use crate::container::relay;
use crate::container::spec::ProcessSpec;
use crate::container::state::{InitConfig, StateDir, Status, CONFIG_FILE};
use crate::container::supervise;
use crate::container::workload::{self, Plan, EXIT_SETUP_FAILED};
use crate::sys::process::SingleThreaded;
use nix::sched::{setns, CloneFlags};
use nix::sys::signal::SigmaskHow;
use nix::unistd::ForkResult;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// Namespaces an exec joins, in order: the mount namespace last, since
/// entering it changes what `/proc/<pid>/ns/...` paths resolve to. All are
/// opened before the first setns for the same reason.
const NAMESPACES: [(&str, CloneFlags); 6] = [
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("pid", CloneFlags::CLONE_NEWPID),
    ("mnt", CloneFlags::CLONE_NEWNS),
];

/// A ready-to-spawn exec. It keeps the init program (whose sealed memfd
/// the command names) alive until spawned.
#[derive(Debug)]
pub struct ExecCommand {
    command: Command,
    _program: InitProgram,
}

impl ExecCommand {
    /// Set stdin/stdout/stderr here (inherited by default).
    pub fn command_mut(&mut self) -> &mut Command {
        &mut self.command
    }

    pub fn spawn(mut self) -> std::io::Result<std::process::Child> {
        self.command.spawn()
    }

    /// Run to completion, capturing stdout and stderr.
    pub fn output(mut self) -> std::io::Result<std::process::Output> {
        self.command.output()
    }
}

static EXEC_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Container {
    /// Prepare running `process` inside this (running) container.
    pub fn exec(
        &self,
        process: &ProcessSpec,
        init: &InitProgram,
    ) -> Result<ExecCommand, ContainerError> {
        let state = self.state()?;
        if !state.status.can_exec() {
            return Err(ContainerError::BadState {
                id: self.id().to_string(),
                status: state.status,
                action: "exec in it",
            });
        }
        let name = format!(
            "exec-{}-{}.json",
            std::process::id(),
            EXEC_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let dir = StateDir::open(self.state_dir()).map_err(|source| self.io("open", "", source))?;
        dir.write_json(&name, process)
            .map_err(|source| self.io("write", &name, source))?;
        let program = init.sealed_path().map_err(|source| ContainerError::Spawn {
            id: self.id().to_string(),
            program: init.path().to_path_buf(),
            source,
        })?;
        let mut command = Command::new(program);
        std::os::unix::process::CommandExt::arg0(&mut command, "compose")
            .arg("init")
            .arg(self.state_dir())
            .arg("--exec")
            .arg(&name)
            .env_clear();
        Ok(ExecCommand {
            command,
            _program: init.clone(),
        })
    }

    fn io(&self, action: &'static str, name: &str, source: std::io::Error) -> ContainerError {
        ContainerError::Io {
            id: self.id().to_string(),
            action,
            path: self.state_dir().join(name),
            source,
        }
    }
}

/// The exec shim's entry point (`compose init <state-dir> --exec <file>`);
/// returns the process's exit code (Docker's: 126/127 when it cannot run).
pub fn main(state_dir: &Path, exec_file: &str) -> i32 {
    let _ = crate::sys::process::default_signal_state();
    match shim(state_dir, exec_file) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("compose: exec failed: {e}");
            EXIT_SETUP_FAILED
        }
    }
}

fn shim(state_dir: &Path, exec_file: &str) -> Result<i32, SetupError> {
    let dir =
        StateDir::open(state_dir).map_err(SetupError::io("open the state directory", state_dir))?;
    let exec_path = state_dir.join(exec_file);
    let process: ProcessSpec = dir
        .read_json(exec_file)
        .map_err(SetupError::io("read", &exec_path))?;
    let _ = std::fs::remove_file(&exec_path);
    let config: InitConfig = dir
        .read_json(CONFIG_FILE)
        .map_err(SetupError::io("read", state_dir.join(CONFIG_FILE)))?;
    let state = dir
        .load_state()
        .map_err(SetupError::io("read", state_dir.join("state.json")))?;
    let pid = match (state.status, state.pid) {
        (Status::Running, Some(pid)) => pid,
        _ => return Err(SetupError::NotRunning { id: config.spec.id }),
    };
    let single =
        SingleThreaded::check().map_err(SetupError::io("count threads in", "/proc/self/task"))?;
    config.cgroup.join_self()?;
    enter(pid)?;
    let plan = Plan::prepare_process(&config.spec, &process)?;
    if process.tty {
        return run_with_tty(&plan, &single);
    }
    run(&plan, &single)
}

fn enter(pid: i32) -> Result<(), SetupError> {
    let mut files = Vec::with_capacity(NAMESPACES.len());
    for (name, flag) in NAMESPACES {
        let path = format!("/proc/{pid}/ns/{name}");
        let file = std::fs::File::open(&path).map_err(SetupError::io("open", &path))?;
        files.push((file, flag, path));
    }
    for (file, flag, path) in files {
        setns(&file, flag).map_err(|errno| SetupError::JoinNamespace {
            path: path.into(),
            errno,
        })?;
    }
    Ok(())
}

/// Fork the process (inside the pid namespace), forward signals, wait.
fn run(plan: &Plan, single: &SingleThreaded) -> Result<i32, SetupError> {
    let signals = supervise::handled_signals();
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&signals), None)
        .map_err(SetupError::sys("block signals"))?;
    let child = match single
        .fork()
        .map_err(SetupError::io("fork", "the process"))?
    {
        ForkResult::Child => workload::exec(plan, workload::Stdio::Inherit),
        ForkResult::Parent { child } => child,
    };
    let exit = supervise::run(
        child,
        Vec::new(),
        &signals,
        &mut LogWriter::new(std::io::sink()),
    )
    .map_err(SetupError::sys("wait for the process"))?;
    Ok(exit.code)
}

/// As [`run`], with a terminal from the container's devpts as the
/// process's stdio and controlling terminal, relayed to ours (`exec -t`).
fn run_with_tty(plan: &Plan, single: &SingleThreaded) -> Result<i32, SetupError> {
    let pty = relay::open()?;
    let signals = supervise::handled_signals();
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&signals), None)
        .map_err(SetupError::sys("block signals"))?;
    let child = match single
        .fork()
        .map_err(SetupError::io("fork", "the process"))?
    {
        ForkResult::Child => {
            drop(pty.master);
            workload::exec(plan, workload::Stdio::Tty { slave: pty.slave })
        }
        ForkResult::Parent { child } => child,
    };
    drop(pty.slave);
    let exit =
        relay::run(child, pty.master, &signals).map_err(SetupError::sys("relay the terminal"))?;
    Ok(exit.code)
}
