//! `compose up`: resolve images (pulling missing ones), plan against the
//! project's state, perform the plan; without `-d`, follow the logs until
//! every container has exited or Ctrl-C stops the project.

use super::logs::{LogPrinter, POLL};
use super::session::{short_name, timeout, to_observed_with_images, Session};
use super::steps::{self, StepOptions};
use super::GlobalArgs;
use crate::plan::{plan_up, UpOptions};
use compose_runtime::container::Status;
use compose_runtime::project::interrupt::force_stop;
use compose_runtime::project::interrupt::Interrupts;
use compose_runtime::project::{OnFailure, Op, Step};
use indexmap::IndexMap;
use std::collections::HashSet;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// Detached mode: run containers in the background
    #[arg(short, long)]
    pub detach: bool,
    /// Don't start the services after creating them
    #[arg(long)]
    pub no_start: bool,
    /// Seconds to wait for containers to stop before killing them
    #[arg(short, long)]
    pub timeout: Option<u64>,
    /// Recreate containers even if their configuration hasn't changed
    #[arg(long)]
    pub force_recreate: bool,
    /// If containers already exist, don't recreate them
    #[arg(long, conflicts_with = "force_recreate")]
    pub no_recreate: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Scale SERVICE to NUM instances (overrides `scale` in the Compose file)
    #[arg(long, value_name = "SERVICE=NUM")]
    pub scale: Vec<String>,
    /// Print the plan instead of performing it
    #[arg(long)]
    pub dry_run: bool,
    /// Build images before starting containers
    #[arg(long)]
    pub build: bool,
    pub services: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &UpArgs) -> anyhow::Result<ExitCode> {
    let session = Session::load(global, &args.services)?;
    let opts = UpOptions {
        force_recreate: args.force_recreate,
        no_recreate: args.no_recreate,
        no_start: args.no_start,
        remove_orphans: args.remove_orphans,
        scale: parse_scale(&args.scale, &session)?,
    };
    let services: Vec<_> = session.project.services.values().collect();
    if args.build {
        super::build::build_all(&session, &services, &Default::default())?;
    }
    let images = steps::resolve_images(&session, &services)?;
    let lock = session.dir.lock()?;
    let snap = session.snapshot()?;
    let observed = to_observed_with_images(&snap, &images);
    let plan = plan_up(&session.project, &observed, &opts)?;
    if args.dry_run {
        print!("{plan}");
        return Ok(ExitCode::SUCCESS);
    }
    for w in &plan.warnings {
        crate::ui::warn(w);
    }
    let step_opts = StepOptions {
        timeout: timeout(args.timeout),
        volumes: false,
    };
    let (steps, notes) = steps::steps(&session, &plan, &images, &snap, step_opts)?;
    for note in &notes {
        crate::ui::warn(&note.to_string());
    }
    session.apply(&steps, OnFailure::Stop)?;
    drop(lock);
    if args.detach || args.no_start {
        return Ok(ExitCode::SUCCESS);
    }
    attach(&session, args)
}

/// Run the graceful stop on a thread while watching for a second Ctrl-C,
/// which kills the containers being stopped (docker compose's
/// `runEventLoop`: the first interruption stops, the second kills). The
/// stop then sees them gone and returns at once.
fn stop_or_force(
    session: &Session,
    steps: &[Step],
    interrupts: &mut Interrupts,
) -> anyhow::Result<()> {
    std::thread::scope(|scope| {
        let stopping = scope.spawn(|| session.apply(steps, OnFailure::Continue));
        let mut forced = false;
        while !stopping.is_finished() {
            std::thread::sleep(POLL);
            if !forced && interrupts.pending() {
                forced = true;
                let names = steps.iter().filter_map(|step| match &step.op {
                    Op::StopContainer { name, .. } => Some(name.as_str()),
                    _ => None,
                });
                force_stop(&session.dir, names);
            }
        }
        stopping
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("stopping the containers panicked")))
    })
}

/// `--scale web=3` entries.
fn parse_scale(items: &[String], session: &Session) -> anyhow::Result<IndexMap<String, usize>> {
    let mut scale = IndexMap::new();
    for item in items {
        let (name, n) = item
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--scale {item:?}: expected SERVICE=NUM"))?;
        if !session.project.services.contains_key(name) {
            anyhow::bail!("--scale {item:?}: no such service: {name}");
        }
        let n: usize = n
            .parse()
            .map_err(|_| anyhow::anyhow!("--scale {item:?}: {n:?} is not a number"))?;
        scale.insert(name.to_string(), n);
    }
    Ok(scale)
}

/// Follow the logs of the project's containers; say when each exits;
/// on Ctrl-C stop them all (docker compose's "Gracefully stopping...").
fn attach(session: &Session, args: &UpArgs) -> anyhow::Result<ExitCode> {
    let selected: Vec<String> = session.project.services.keys().cloned().collect();
    let snap = session.snapshot()?;
    let containers = session.containers(&snap, &selected);
    let colour = console::colors_enabled();
    let mut printer = LogPrinter::new(&containers, colour, true, false);
    let mut interrupts = Interrupts::catch()?;
    let mut exited: HashSet<String> = HashSet::new();
    printer.print_new(Some(usize::MAX));
    loop {
        std::thread::sleep(POLL);
        printer.print_new(None);
        if interrupts.pending() {
            eprintln!("Gracefully stopping... press Ctrl+C again to force");
            let snap = session.snapshot()?;
            let steps: Vec<Step> = session
                .containers(&snap, &selected)
                .iter()
                .filter(|c| c.status() == Status::Running || c.status() == Status::Paused)
                .map(|c| Step {
                    op: Op::StopContainer {
                        name: c.record.name.clone(),
                        timeout: timeout(args.timeout),
                    },
                    after: vec![],
                })
                .collect();
            stop_or_force(session, &steps, &mut interrupts)?;
            return Ok(ExitCode::from(130));
        }
        let snap = session.snapshot()?;
        let now = session.containers(&snap, &selected);
        for c in &now {
            if c.status() == Status::Stopped && exited.insert(c.record.name.clone()) {
                printer.print_new(None);
                let code = c.state.as_ref().and_then(|s| s.exit).map_or(0, |e| e.code);
                eprintln!("{} exited with code {code}", short_name(c));
            }
        }
        if now.iter().all(|c| c.status() == Status::Stopped) {
            return Ok(ExitCode::SUCCESS);
        }
    }
}
