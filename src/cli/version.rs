//! `compose version`.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct VersionArgs {
    /// Format the output ("pretty"|"json")
    #[arg(long, default_value = "pretty")]
    pub format: String,
    /// Shows only the version number
    #[arg(long)]
    pub short: bool,
}

pub fn run(args: &VersionArgs) -> anyhow::Result<ExitCode> {
    let version = env!("CARGO_PKG_VERSION");
    if args.short {
        println!("{version}");
    } else if args.format == "json" {
        println!("{}", serde_json::json!({ "version": version }));
    } else {
        println!("compose version v{version}");
    }
    Ok(ExitCode::SUCCESS)
}
