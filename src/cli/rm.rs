//! `compose rm [-f] [-s] [-v] [SERVICE...]`: remove stopped containers
//! (with `-s`, stop them first). Never prompts: `-f` is accepted for
//! docker compose's command lines.

use super::lifecycle::{each, is_up, session};
use super::GlobalArgs;
use compose_runtime::project::Op;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct RmArgs {
    /// Don't ask to confirm removal (`-f` after `rm` means this)
    #[arg(long)]
    pub force: bool,
    /// Stop the containers, if required, before removing
    #[arg(short, long)]
    pub stop: bool,
    /// Remove any anonymous volumes attached to containers
    #[arg(short, long)]
    pub volumes: bool,
    pub services: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &RmArgs) -> anyhow::Result<ExitCode> {
    let session = session(global, &args.services)?;
    let _lock = session.dir.lock()?;
    let snap = session.snapshot()?;
    if args.stop {
        each(&session, &snap, &args.services, is_up, |c| {
            Op::StopContainer {
                name: c.record.name.clone(),
                timeout: None,
            }
        })?;
    }
    let snap = session.snapshot()?;
    let removable = |c: &compose_runtime::project::ObservedContainer| !is_up(c);
    if !session
        .containers(&snap, &args.services)
        .iter()
        .any(|c| removable(c))
    {
        eprintln!("No stopped containers");
    }
    each(&session, &snap, &args.services, removable, |c| {
        Op::RemoveContainer {
            name: c.record.name.clone(),
            volumes: args.volumes,
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
