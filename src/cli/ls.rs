//! `compose ls [-a] [-q] [--format table|json|TEMPLATE] [--filter name=...]`: the
//! projects under `$COMPOSE_ROOT`, as docker compose lists them: running
//! ones only unless `-a`, with a combined status (`exited(1), running(2)`)
//! and the Compose files of their last `up`.

use crate::ui::table;
use compose_runtime::container::Status;
use compose_runtime::project::listing::{self, ProjectSummary};
use std::collections::BTreeMap;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// Show all stopped Compose projects
    #[arg(short, long)]
    pub all: bool,
    /// Only display project names
    #[arg(short, long)]
    pub quiet: bool,
    /// Format the output: table, json, or a Go template ({{.Name}}\t{{.Status}})
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Filter output by project name (`name=TEXT`: names containing TEXT)
    #[arg(long)]
    pub filter: Vec<String>,
}

/// One row of the listing.
#[derive(Debug, PartialEq, Eq)]
struct Row {
    name: String,
    status: String,
    config_files: String,
}

pub fn run(args: &LsArgs) -> anyhow::Result<ExitCode> {
    let names = name_filters(&args.filter)?;
    let root = compose_runtime::image::compose_root();
    let rows: Vec<Row> = listing::list(&root)?
        .iter()
        .filter(|p| names.is_empty() || names.iter().any(|n| p.name.contains(n.as_str())))
        .filter_map(|p| row(p, args.all))
        .collect();
    let format = crate::ui::template::Format::parse(&args.format)?;
    if args.quiet {
        rows.iter().for_each(|r| println!("{}", r.name));
    } else if let crate::ui::template::Format::Template { .. } = format {
        let objects: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| serde_json::json!({"Name": r.name, "Status": r.status, "ConfigFiles": r.config_files}))
            .collect();
        print!("{}", format.render(&objects, String::new)?);
    } else if args.format == "json" {
        let list: Vec<_> = rows
            .iter()
            .map(|r| {
                serde_json::json!({"Name": r.name, "Status": r.status, "ConfigFiles": r.config_files})
            })
            .collect();
        println!("{}", serde_json::Value::Array(list));
    } else {
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| vec![r.name.clone(), r.status.clone(), r.config_files.clone()])
            .collect();
        print!(
            "{}",
            table::render(table::PRETTY, &["NAME", "STATUS", "CONFIG FILES"], &cells)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `--filter name=x` values; docker compose accepts no other filter.
fn name_filters(filters: &[String]) -> anyhow::Result<Vec<String>> {
    filters
        .iter()
        .map(|f| match f.split_once('=') {
            Some(("name", value)) => Ok(value.to_string()),
            _ => anyhow::bail!("invalid filter {f:?}: only name=TEXT is accepted"),
        })
        .collect()
}

/// The row of a project; `None` when it has nothing to show (without
/// `-a`, docker compose only sees running containers).
fn row(p: &ProjectSummary, all: bool) -> Option<Row> {
    let states: Vec<&str> = p
        .statuses
        .iter()
        .filter(|s| all || **s == Status::Running)
        .map(|s| state_word(*s))
        .collect();
    if states.is_empty() {
        return None;
    }
    let files: Vec<String> = p
        .config_files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    Some(Row {
        name: p.name.clone(),
        status: combined_status(&states),
        config_files: if files.is_empty() {
            "N/A".to_string()
        } else {
            files.join(",")
        },
    })
}

fn state_word(s: Status) -> &'static str {
    match s {
        Status::Created => "created",
        Status::Running => "running",
        Status::Paused => "paused",
        Status::Stopped => "exited",
    }
}

/// docker compose's `combinedStatus`: `state(count)` per state, sorted by
/// state name, comma-separated.
fn combined_status(states: &[&str]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for s in states {
        *counts.entry(s).or_default() += 1;
    }
    counts
        .iter()
        .map(|(s, n)| format!("{s}({n})"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn status_counts_each_state_in_name_order() {
        assert_eq!(
            combined_status(&["running", "exited", "running"]),
            "exited(1), running(2)"
        );
    }

    #[test]
    fn without_all_only_running_containers_count() {
        let p = ProjectSummary {
            name: "demo".into(),
            statuses: vec![Status::Stopped, Status::Running],
            config_files: vec![PathBuf::from("/a/compose.yaml"), PathBuf::from("/a/b.yaml")],
        };
        let r = row(&p, false).unwrap();
        assert_eq!(r.status, "running(1)");
        assert_eq!(r.config_files, "/a/compose.yaml,/a/b.yaml");
        assert_eq!(row(&p, true).unwrap().status, "exited(1), running(1)");
        let stopped = ProjectSummary {
            statuses: vec![Status::Stopped],
            config_files: vec![],
            ..p
        };
        assert_eq!(row(&stopped, false), None);
        assert_eq!(row(&stopped, true).unwrap().config_files, "N/A");
    }

    #[test]
    fn only_name_filters_are_accepted() {
        assert_eq!(name_filters(&["name=web".into()]).unwrap(), vec!["web"]);
        assert!(name_filters(&["status=running".into()]).is_err());
    }
}
