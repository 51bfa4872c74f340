//! `compose down`: stop and remove the project's containers (dependents
//! first, independent ones in parallel), its networks and, with `-v`, its
//! volumes.

use super::session::{timeout, to_observed, Session};
use super::steps::{self, StepOptions};
use super::GlobalArgs;
use crate::plan::{plan_down, DownOptions};
use compose_runtime::project::OnFailure;
use std::collections::HashMap;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DownArgs {
    /// Remove named volumes declared in the "volumes" section and anonymous volumes
    #[arg(short, long)]
    pub volumes: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Seconds to wait for containers to stop before killing them
    #[arg(short, long)]
    pub timeout: Option<u64>,
    /// Print the plan instead of performing it
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(global: &GlobalArgs, args: &DownArgs) -> anyhow::Result<ExitCode> {
    let session = Session::load_existing(global, &[])?;
    let lock = session.dir.lock()?;
    let snap = session.snapshot()?;
    let opts = DownOptions {
        volumes: args.volumes,
        remove_orphans: args.remove_orphans,
    };
    let plan = plan_down(&session.project, &to_observed(&snap), &opts);
    if args.dry_run {
        print!("{plan}");
        return Ok(ExitCode::SUCCESS);
    }
    for w in &plan.warnings {
        crate::ui::warn(w);
    }
    let step_opts = StepOptions {
        timeout: timeout(args.timeout),
        volumes: args.volumes,
    };
    let (steps, _) = steps::steps(&session, &plan, &HashMap::new(), &snap, step_opts)?;
    session.apply(&steps, OnFailure::Continue)?;
    drop(lock);
    session.dir.remove_if_empty();
    Ok(ExitCode::SUCCESS)
}
