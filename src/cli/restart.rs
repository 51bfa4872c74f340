//! `compose restart [-t N] [SERVICE...]`: stop, then start again.

use super::lifecycle::{self, each, is_up, session};
use super::session::timeout;
use super::GlobalArgs;
use compose_runtime::project::Op;
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
    let snap = session.snapshot()?;
    each(&session, &snap, &args.services, is_up, |c| {
        Op::StopContainer {
            name: c.record.name.clone(),
            timeout: timeout(args.timeout),
        }
    })?;
    lifecycle::start(&session, &args.services)?;
    Ok(ExitCode::SUCCESS)
}
