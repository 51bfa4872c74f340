//! `compose supervise --root ROOT PROJECT` (hidden): the project's
//! supervisor process, started detached by the other commands.

use compose_runtime::container::InitProgram;
use compose_runtime::project::ProjectDir;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SuperviseArgs {
    /// The state root (`$COMPOSE_ROOT` of the command that started it)
    #[arg(long)]
    pub root: std::path::PathBuf,
    pub project: String,
}

pub fn run(args: &SuperviseArgs) -> anyhow::Result<ExitCode> {
    let project = ProjectDir::new(&args.root, &args.project);
    compose_runtime::supervisor::server::serve(project, InitProgram::current_exe())?;
    Ok(ExitCode::SUCCESS)
}
