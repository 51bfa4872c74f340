//! `compose kill [-s SIGNAL] [SERVICE...]`: signal running containers.

use super::lifecycle::{is_up, session};
use super::GlobalArgs;
use compose_runtime::project::{ops, parse_signal};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct KillArgs {
    /// SIGNAL to send to the container
    #[arg(short, long, default_value = "SIGKILL")]
    pub signal: String,
    pub services: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &KillArgs) -> anyhow::Result<ExitCode> {
    let session = session(global, &args.services)?;
    let signal = parse_signal(&args.signal).ok_or_else(|| {
        anyhow::anyhow!(
            "invalid signal {:?}: use a name like SIGTERM or a number",
            args.signal
        )
    })?;
    let snap = session.snapshot()?;
    for c in session
        .containers(&snap, &args.services)
        .into_iter()
        .filter(|c| is_up(c))
    {
        ops::kill(&session.dir, &c.record.name, signal)?;
        eprintln!(
            " {} Container {}  Killed",
            console::style("✔").green(),
            c.record.name
        );
    }
    Ok(ExitCode::SUCCESS)
}
