//! `compose pause|unpause [SERVICE...]`: freeze and thaw running
//! containers (the cgroup freezer).

use super::lifecycle::session;
use super::GlobalArgs;
use compose_runtime::container::{Container, Status};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct PauseArgs {
    pub services: Vec<String>,
}

/// Pause (`freeze`) or unpause the selected containers.
pub fn run(global: &GlobalArgs, args: &PauseArgs, freeze: bool) -> anyhow::Result<ExitCode> {
    let session = session(global, &args.services)?;
    let _lock = session.dir.lock()?;
    let snap = session.snapshot()?;
    let (from, verb) = if freeze {
        (Status::Running, "Paused")
    } else {
        (Status::Paused, "Unpaused")
    };
    for c in session.containers(&snap, &args.services) {
        if c.status() != from {
            continue;
        }
        let container = Container::load(&c.dir)?;
        if freeze {
            container.pause()?;
        } else {
            container.unpause()?;
        }
        eprintln!(
            " {} Container {}  {verb}",
            console::style("✔").green(),
            c.record.name
        );
    }
    Ok(ExitCode::SUCCESS)
}
