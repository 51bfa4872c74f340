//! `compose run [--rm] [-d] [-e] [-u] [-w] [--entrypoint] [--no-deps]
//! [--name] [-T] SERVICE [CMD...]`: a one-off container of the service,
//! `<project>-<service>-run-<12 hex>` unless `--name`, with the command
//! and settings overridden, no published ports and no restart policy (as
//! docker compose). Dependencies are brought up first (through `up -d`,
//! the service itself at its current replica count) unless `--no-deps`.
//! Attached, its output is printed until it exits and its exit code
//! becomes ours; `--rm` removes it then. Its stdin is not attached (the
//! runtime gives a container's main process /dev/null): use `exec` for
//! interactive sessions.
//!
//! The container is recorded with replica number 0, which `up` leaves
//! alone and `down` removes with the rest.

use super::logs::{LogPrinter, POLL};
use super::session::Session;
use super::{steps, up, GlobalArgs};
use crate::model::ServiceConfig;
use clap::{Args, FromArgMatches};
use compose_runtime::container::Status;
use compose_runtime::project::interrupt::Interrupts;
use compose_runtime::project::record::new_container_id;
use compose_runtime::project::{OnFailure, Op, Step};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
#[command(trailing_var_arg = true)]
pub struct RunArgs {
    /// Automatically remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Run container in background and print container name
    #[arg(short, long)]
    pub detach: bool,
    /// Set environment variables
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Run as specified username or uid
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Override the entrypoint of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Don't start linked services
    #[arg(long)]
    pub no_deps: bool,
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Disable pseudo-TTY allocation (the container's output is never a terminal here)
    #[arg(short = 'T', long = "no-TTY")]
    pub no_tty: bool,
    /// Keep STDIN open even if not attached (accepted; stdin is not attached)
    #[arg(short = 'i', long)]
    pub interactive: bool,
    pub service: String,
    #[arg(allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &RunArgs) -> anyhow::Result<ExitCode> {
    let session = Session::load(global, std::slice::from_ref(&args.service))?;
    let Some(base) = session.project.services.get(&args.service) else {
        anyhow::bail!("no such service: {}", args.service);
    };
    bring_up_dependencies(global, &session, base, args.no_deps)?;
    let config = one_off_config(base, args)?;
    let images = steps::resolve_images(&session, &[&config])?;
    let name = match &args.name {
        Some(n) => n.clone(),
        None => {
            let id = new_container_id();
            format!("{}-{}-run-{}", session.project.name, config.name, &id[..12])
        }
    };
    let snap = session.snapshot()?;
    if snap.containers.iter().any(|c| c.record.name == name) {
        anyhow::bail!(
            "a container named {name:?} already exists: choose another --name or remove it"
        );
    }
    let (request, notes) = steps::one_off(&session, &config, &name, &images[&config.name], &snap)?;
    for note in &notes {
        crate::ui::warn(&note.to_string());
    }
    let steps = [
        Step {
            op: Op::CreateContainer {
                request: Box::new(request),
            },
            after: vec![],
        },
        Step {
            op: Op::StartContainer { name: name.clone() },
            after: vec![0],
        },
    ];
    if let Err(e) = session.apply(&steps, OnFailure::Stop) {
        if args.rm {
            remove(&session, &name);
        }
        return Err(e);
    }
    if args.detach {
        println!("{name}");
        return Ok(ExitCode::SUCCESS);
    }
    let code = attach(&session, &name)?;
    if args.rm {
        remove(&session, &name);
    }
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}

/// `up -d` of the service's dependencies with the service kept at its
/// current count, so networks and volumes exist too. With `--no-deps`
/// the dependencies are kept at theirs: nothing new is created for them.
fn bring_up_dependencies(
    global: &GlobalArgs,
    session: &Session,
    service: &ServiceConfig,
    no_deps: bool,
) -> anyhow::Result<()> {
    let snap = session.snapshot()?;
    let count = |name: &str| {
        snap.containers
            .iter()
            .filter(|c| c.record.service == name && c.record.number > 0)
            .count()
    };
    let mut argv = vec!["up".to_string(), "-d".to_string()];
    for name in session.project.services.keys() {
        if name == &service.name || no_deps {
            argv.push("--scale".into());
            argv.push(format!("{name}={}", count(name)));
        }
    }
    argv.push(service.name.clone());
    // Parsed like the command line, so `up`'s defaults apply.
    let command = up::UpArgs::augment_args(clap::Command::new("up"));
    let matches = command.try_get_matches_from(&argv)?;
    let up_args = up::UpArgs::from_arg_matches(&matches)?;
    up::run(global, &up_args)?;
    Ok(())
}

/// The service as the one-off container runs it.
fn one_off_config(base: &ServiceConfig, args: &RunArgs) -> anyhow::Result<ServiceConfig> {
    let mut config = base.clone();
    if !args.command.is_empty() {
        config.command = Some(args.command.clone());
    }
    if let Some(entrypoint) = &args.entrypoint {
        let words = shlex::split(entrypoint)
            .ok_or_else(|| anyhow::anyhow!("--entrypoint {entrypoint:?}: unbalanced quotes"))?;
        config.entrypoint = Some(words);
        // A new entrypoint drops the image's command, as Docker does.
        if args.command.is_empty() {
            config.command = Some(Vec::new());
        }
    }
    for kv in &args.env {
        match kv.split_once('=') {
            Some((k, v)) => config.environment.insert(k.into(), Some(v.into())),
            // `-e NAME`: the value from our environment, unset if absent.
            None => config
                .environment
                .insert(kv.clone(), std::env::var(kv).ok()),
        };
    }
    if let Some(user) = &args.user {
        config.user = user.clone();
    }
    if let Some(dir) = &args.workdir {
        config.working_dir = dir.clone();
    }
    // docker compose run: no ports unless --service-ports, no restart,
    // and its own name.
    config.ports.clear();
    config.restart.clear();
    if let Some(deploy) = config.deploy.as_mut() {
        deploy.restart_policy = None;
    }
    config.container_name.clear();
    config.tty = false;
    Ok(config)
}

/// Print the container's output until it exits; its exit code. Ctrl-C
/// stops it (exit 130).
fn attach(session: &Session, name: &str) -> anyhow::Result<i32> {
    let snap = session.snapshot()?;
    let Some(c) = snap.containers.iter().find(|c| c.record.name == name) else {
        anyhow::bail!("container {name} disappeared after it started");
    };
    let mut printer = LogPrinter::new(&[c], console::colors_enabled(), false, false);
    let mut interrupts = Interrupts::catch()?;
    loop {
        printer.print_new(None);
        if interrupts.pending() {
            let stop = Step {
                op: Op::StopContainer {
                    name: name.to_string(),
                    timeout: None,
                },
                after: vec![],
            };
            session.apply(&[stop], OnFailure::Continue)?;
            printer.print_new(None);
            return Ok(130);
        }
        let snap = session.snapshot()?;
        let c = snap.containers.iter().find(|c| c.record.name == name);
        match c {
            Some(c) if c.status() == Status::Stopped => {
                printer.print_new(None);
                return Ok(c.state.as_ref().and_then(|s| s.exit).map_or(0, |e| e.code));
            }
            Some(_) => std::thread::sleep(POLL),
            None => anyhow::bail!("container {name} was removed while it ran"),
        }
    }
}

/// `--rm`: remove the container and its anonymous volumes.
fn remove(session: &Session, name: &str) {
    let step = Step {
        op: Op::RemoveContainer {
            name: name.to_string(),
            volumes: true,
        },
        after: vec![],
    };
    if let Err(e) = session.apply(&[step], OnFailure::Continue) {
        crate::ui::warn(&format!("could not remove {name}: {e:#}"));
    }
}
