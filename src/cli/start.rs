//! `compose start [SERVICE...]`: start existing stopped containers.

use super::lifecycle::{self, session};
use super::GlobalArgs;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct StartArgs {
    pub services: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &StartArgs) -> anyhow::Result<ExitCode> {
    let session = session(global, &args.services)?;
    let _lock = session.dir.lock()?;
    lifecycle::start(&session, &args.services)?;
    Ok(ExitCode::SUCCESS)
}
