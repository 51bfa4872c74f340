//! `compose restart [-t N] [SERVICE...]`: stop, then start again.

use super::lifecycle::{self, session};
use super::GlobalArgs;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct RestartArgs {
    /// Seconds to wait for containers to stop before killing them
    #[arg(short, long)]
    pub timeout: Option<u64>,
    pub services: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &RestartArgs) -> anyhow::Result<ExitCode> {
    let session = session(global, &args.services)?;
    let _lock = session.dir.lock()?;
    lifecycle::stop(&session, &args.services, args.timeout, false)?;
    lifecycle::start(&session, &args.services)?;
    Ok(ExitCode::SUCCESS)
}
