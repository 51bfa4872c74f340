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
        print!("{}", dry_run(&steps));
        return Ok(ExitCode::SUCCESS);
    }
    // A teardown: every stop that does not wait for a failed one still
    // runs, and every failure is reported.
    session.apply(&steps, OnFailure::Continue)?;
    Ok(ExitCode::SUCCESS)
}

/// The steps numbered from 1, with the steps each waits for, as `up
/// --dry-run` prints a plan: `3. stop container p-db-1 after 1, 2`.
fn dry_run(steps: &[Step]) -> String {
    let mut out = String::new();
    for (i, step) in steps.iter().enumerate() {
        out += &format!("{}. {}", i + 1, step.op);
        if !step.after.is_empty() {
            let after: Vec<String> = step.after.iter().map(|a| (a + 1).to_string()).collect();
            out += &format!(" after {}", after.join(", "));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dry_run_shows_what_each_stop_waits_for() {
        let stop = |name: &str, after: Vec<usize>| Step {
            op: Op::StopContainer {
                name: name.into(),
                timeout: None,
            },
            after,
        };
        let steps = [stop("p-web-1", vec![]), stop("p-db-1", vec![0])];
        assert_eq!(
            dry_run(&steps),
            "1. stop container p-web-1\n2. stop container p-db-1 after 1\n"
        );
    }
}
