//! `compose init STATE_DIR [--exec FILE]` (hidden): the entry point of a
//! container's PID 1, or with `--exec` of a process run inside a running
//! container. The runtime starts it from a sealed copy of this binary;
//! users never call it. The work is in `compose_runtime::container`.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The container's state directory (holds config.json)
    pub state_dir: PathBuf,
    /// Run the process described in this file (in the state directory)
    /// inside the running container instead
    #[arg(long)]
    pub exec: Option<String>,
}

pub fn run(args: &InitArgs) -> anyhow::Result<ExitCode> {
    let code = match &args.exec {
        Some(file) => compose_runtime::container::exec::main(&args.state_dir, file),
        None => compose_runtime::container::init::main(&args.state_dir),
    };
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(u8::MAX)))
}
