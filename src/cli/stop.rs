//! `compose stop [-t N] [SERVICE...]`: stop running containers (kept for
//! `start`), in reverse dependency order as docker compose's `stop` walks
//! its graph: a container stops once the containers of every service that
//! depends on it have stopped, independent ones at the same time.

use super::lifecycle::{is_up, session};
use super::GlobalArgs;
use crate::plan::down::stop_waits;
use compose_runtime::project::{OnFailure, Op, Step};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct StopArgs {
    /// Seconds to wait for containers to stop before killing them
    #[arg(short, long)]
    pub timeout: Option<u64>,
    /// Show what would be stopped, and do nothing
    #[arg(long)]
    pub dry_run: bool,
    pub services: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &StopArgs) -> anyhow::Result<ExitCode> {
    let session = session(global, &args.services)?;
    let _lock = session.dir.lock()?;
    let snap = session.snapshot()?;
    let running: Vec<_> = session
        .containers(&snap, &args.services)
        .into_iter()
        .filter(|c| is_up(c))
        .collect();
    let services: Vec<&str> = running.iter().map(|c| c.record.service.as_str()).collect();
    let waits = stop_waits(&session.project, &services);
    let steps: Vec<Step> = running
        .iter()
        .zip(waits)
        .map(|(c, after)| Step {
            op: Op::StopContainer {
                name: c.record.name.clone(),
                timeout: super::session::timeout(args.timeout),
            },
            after,
        })
        .collect();
    if args.dry_run {
        for (i, step) in steps.iter().enumerate() {
            println!("{}. {}", i + 1, step.op);
        }
        return Ok(ExitCode::SUCCESS);
    }
    // A teardown: every stop that does not wait for a failed one still
    // runs, and every failure is reported.
    session.apply(&steps, OnFailure::Continue)?;
    Ok(ExitCode::SUCCESS)
}
