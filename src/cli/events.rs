//! `compose events [--json] [SERVICE...]`: the project's container events
//! from now on, streamed by its supervisor.

use super::session::Session;
use super::GlobalArgs;
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    /// Output events as a stream of json objects
    #[arg(long)]
    pub json: bool,
    pub services: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &EventsArgs) -> anyhow::Result<ExitCode> {
    let session = Session::load_existing(global, &[])?;
    let mut out = std::io::stdout();
    session.client()?.events(&mut |event| {
        if !args.services.is_empty() && !args.services.contains(&event.service) {
            return true;
        }
        let line = if args.json {
            serde_json::to_string(event).unwrap_or_default()
        } else {
            event.to_string()
        };
        writeln!(out, "{line}").and_then(|()| out.flush()).is_ok()
    })?;
    Ok(ExitCode::SUCCESS)
}
