//! `compose init STATE_DIR` (hidden): the entry point of a container's
//! PID 1. The runtime starts it from a sealed copy of this binary; users
//! never call it. All the work is in `compose_runtime::container::init`.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The container's state directory (holds config.json)
    pub state_dir: PathBuf,
}

pub fn run(args: &InitArgs) -> anyhow::Result<ExitCode> {
    let code = compose_runtime::container::init::main(&args.state_dir);
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(u8::MAX)))
}
