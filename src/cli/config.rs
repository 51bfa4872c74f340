//! `compose config`: the canonical model, as docker compose prints it.
//!
//! OWNER: model helper (skeleton only).

use super::GlobalArgs;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// Format the output ("yaml"|"json")
    #[arg(long, default_value = "yaml")]
    pub format: String,
    /// Don't interpolate environment variables
    #[arg(long)]
    pub no_interpolate: bool,
    /// Only validate the configuration, don't print anything
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(global: &GlobalArgs, args: &ConfigArgs) -> anyhow::Result<ExitCode> {
    let mut opts = global.loader_options()?;
    opts.interpolate = !args.no_interpolate;
    let loaded = crate::loader::load(&opts)?;
    for w in &loaded.warnings {
        crate::ui::warn(&w.to_string());
    }
    if !args.quiet {
        let text = match args.format.as_str() {
            "json" => serde_json::to_string_pretty(&loaded.project)?,
            _ => serde_yaml::to_string(&loaded.project)?,
        };
        println!("{text}");
    }
    Ok(ExitCode::SUCCESS)
}
