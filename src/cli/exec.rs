//! `compose exec SERVICE CMD...`: run a command in a running container of
//! the service (replica `--index`, default 1), with the container's env,
//! user and working directory unless overridden; its exit code becomes
//! ours. As docker compose, a terminal is allocated when our stdin is one
//! (`-T` disables it, `-t` forces it): the process gets a pseudo-terminal
//! of the container as its controlling terminal, sized like ours, and our
//! terminal is in raw mode until it exits. `-d` starts it in the
//! background.

use super::session::Session;
use super::GlobalArgs;
use compose_runtime::container::{Container, InitProgram, Status};
use compose_runtime::sys::tty::RawMode;
use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::process::{ExitCode, Stdio};

#[derive(Debug, clap::Args)]
#[command(trailing_var_arg = true)]
pub struct ExecArgs {
    /// Disable pseudo-TTY allocation (default: allocated when stdin is a terminal)
    #[arg(short = 'T', long = "no-tty", conflicts_with = "tty")]
    pub no_tty: bool,
    /// Allocate a pseudo-TTY even when stdin is not a terminal
    #[arg(short = 't', long = "tty")]
    pub tty: bool,
    /// Keep STDIN open even if not attached (always the case; accepted)
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,
    /// Set environment variables
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Run the command as this user
    #[arg(short, long)]
    pub user: Option<String>,
    /// Path to workdir directory for this command
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Index of the container if the service has multiple replicas
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    /// Detached mode: run the command in the background
    #[arg(short, long)]
    pub detach: bool,
    pub service: String,
    #[arg(required = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &ExecArgs) -> anyhow::Result<ExitCode> {
    let session = Session::load_existing(global, &[])?;
    if !session.project.services.contains_key(&args.service) {
        anyhow::bail!("no such service: {}", args.service);
    }
    let snap = session.snapshot()?;
    let c = snap
        .containers
        .iter()
        .find(|c| c.record.service == args.service && c.record.number == args.index)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "service {:?} has no container number {}: run `compose up -d` first",
                args.service,
                args.index
            )
        })?;
    if c.status() != Status::Running {
        anyhow::bail!("container {} is not running", c.record.name);
    }
    let mut process = c.running_process();
    process.args = args.command.clone();
    let stdin_is_terminal = std::io::stdin().is_terminal();
    process.tty = !args.detach && (args.tty || (stdin_is_terminal && !args.no_tty));
    for kv in &args.env {
        let key = kv.split('=').next().unwrap_or(kv);
        process.env.retain(|e| e.split('=').next() != Some(key));
        process.env.push(kv.clone());
    }
    if let Some(user) = &args.user {
        process.user = user.clone();
        process.additional_groups.clear();
    }
    if let Some(dir) = &args.workdir {
        process.cwd = dir.clone();
    }
    let init = InitProgram::current_exe();
    let container = Container::load(&c.dir)?;
    let mut command = container.exec(&process, &init)?;
    if args.detach {
        command
            .command_mut()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command.spawn()?;
        return Ok(ExitCode::SUCCESS);
    }
    // Raw mode only on a real terminal of ours; restored when dropped.
    let raw = if process.tty && stdin_is_terminal {
        Some(RawMode::enable(std::io::stdin().as_fd())?)
    } else {
        None
    };
    let status = command.spawn()?.wait();
    drop(raw);
    let status = status?;
    let code = status.code().unwrap_or_else(|| {
        128 + std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(0)
    });
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}
