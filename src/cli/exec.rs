//! `compose exec SERVICE CMD...`: run a command in a running container of
//! the service (replica `--index`, default 1), with the container's env,
//! user and working directory unless overridden; its exit code becomes
//! ours.

use super::session::Session;
use super::GlobalArgs;
use compose_runtime::container::{Container, InitProgram, Status};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
#[command(trailing_var_arg = true)]
pub struct ExecArgs {
    /// Disable pseudo-TTY allocation (no TTY is allocated by this runtime yet)
    #[arg(short = 'T', long = "no-tty")]
    pub no_tty: bool,
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
    /// Detached mode: run the command in the background (not supported yet)
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
    process.tty = false;
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
    let status = container.exec(&process, &init)?.spawn()?.wait()?;
    let code = status.code().unwrap_or_else(|| {
        128 + std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(0)
    });
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}
