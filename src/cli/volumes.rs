//! `compose volumes [-q] [--format table|json|TEMPLATE] [SERVICE...]`: the
//! project's volumes that exist — its declared (non-external) volumes and
//! its containers' anonymous ones — as docker compose's `volumes.go` lists
//! them; with services named, only the volumes their containers mount.

use super::GlobalArgs;
use crate::ui::table::{self, Layout};
use crate::ui::template::Format;
use std::collections::BTreeSet;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct VolumesArgs {
    /// Only display volume names
    #[arg(short, long)]
    pub quiet: bool,
    /// Format the output: table, json, or a Go template
    #[arg(long, default_value = "table")]
    pub format: String,
    pub services: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &VolumesArgs) -> anyhow::Result<ExitCode> {
    let format = Format::parse(&args.format)?;
    let session = super::lifecycle::session(global, &args.services)?;
    let snap = session.snapshot()?;
    let mounted: BTreeSet<&str> = session
        .containers(&snap, &args.services)
        .into_iter()
        .flat_map(|c| c.record.volumes.iter().map(|v| v.name.as_str()))
        .collect();
    let mut names: BTreeSet<&str> = mounted.clone();
    if args.services.is_empty() {
        names.extend(
            session
                .project
                .volumes
                .values()
                .filter(|v| !v.external)
                .map(|v| v.name.as_str()),
        );
    }
    let names: Vec<&str> = names
        .into_iter()
        .filter(|n| snap.volumes.contains(*n))
        .collect();
    if args.quiet {
        names.iter().for_each(|n| println!("{n}"));
        return Ok(ExitCode::SUCCESS);
    }
    let volumes_dir = session.dir.volumes_dir();
    let objects: Vec<serde_json::Value> = names
        .iter()
        .map(|name| {
            serde_json::json!({
                "Driver": "local",
                "Labels": "",
                "Links": "N/A",
                "Mountpoint": compose_runtime::project::volume::data_dir(&volumes_dir, name),
                "Name": name,
                "Scope": "local",
                "Size": "N/A",
            })
        })
        .collect();
    let own = || {
        let rows: Vec<Vec<String>> = names
            .iter()
            .map(|n| vec!["local".to_string(), n.to_string()])
            .collect();
        table::render(
            Layout {
                min_width: 10,
                padding: 3,
            },
            &["DRIVER", "VOLUME NAME"],
            &rows,
        )
    };
    print!("{}", format.render(&objects, own)?);
    Ok(ExitCode::SUCCESS)
}
