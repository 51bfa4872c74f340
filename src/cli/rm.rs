//! `compose rm [-f] [-s] [-v] [SERVICE...]`: remove stopped containers
//! (with `-s`, stop them first). Never prompts: `-f` is accepted for
//! docker compose's command lines.

use super::lifecycle::{each, is_up, session};
use super::GlobalArgs;
use compose_runtime::project::{ObservedContainer, Op};
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
    /// Show what would be stopped and removed, and do nothing
    #[arg(long)]
    pub dry_run: bool,
    pub services: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &RmArgs) -> anyhow::Result<ExitCode> {
    let session = session(global, &args.services)?;
    let _lock = session.dir.lock()?;
    let snap = session.snapshot()?;
    if args.stop {
        let stop = |c: &ObservedContainer| Op::StopContainer {
            name: c.record.name.clone(),
            timeout: None,
        };
        each(&session, &snap, &args.services, is_up, stop, args.dry_run)?;
    }
    let snap = session.snapshot()?;
    // In a dry run nothing was stopped: what would be removed is every
    // selected container (`-s`) or the stopped ones.
    let removable = |c: &ObservedContainer| !is_up(c) || (args.dry_run && args.stop);
    if !session
        .containers(&snap, &args.services)
        .iter()
        .any(|c| removable(c))
    {
        eprintln!("No stopped containers");
    }
    let remove = |c: &ObservedContainer| Op::RemoveContainer {
        name: c.record.name.clone(),
        volumes: args.volumes,
    };
    each(
        &session,
        &snap,
        &args.services,
        removable,
        remove,
        args.dry_run,
    )?;
    Ok(ExitCode::SUCCESS)
}
