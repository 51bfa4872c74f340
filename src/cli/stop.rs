//! `compose stop [-t N] [SERVICE...]`: stop running containers (kept for
//! `start`).

use super::lifecycle::{self, session};
use super::GlobalArgs;
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
    lifecycle::stop(&session, &args.services, args.timeout, args.dry_run)?;
    Ok(ExitCode::SUCCESS)
}
