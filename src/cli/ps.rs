//! `compose ps`: the project's containers, running ones by default, as a
//! table, JSON lines, IDs (`-q`) or service names (`--services`).

use super::port::{display, published, publishers};
use super::session::Session;
use super::GlobalArgs;
use crate::ui::template::Format;
use compose_runtime::container::Status;
use compose_runtime::project::ObservedContainer;
use compose_runtime::supervisor::health::{health_of, HealthStatus};
use compose_runtime::supervisor::netsvc::ports::PortEntry;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

#[derive(Debug, clap::Args)]
pub struct PsArgs {
    /// Show all stopped containers
    #[arg(short, long)]
    pub all: bool,
    /// Only display IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Display services
    #[arg(long)]
    pub services: bool,
    /// Format the output: table, json, or a Go template ({{.Name}}, table {{.Name}}\t{{.State}})
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Filter services by status: created, running, paused, exited (repeatable)
    #[arg(long, value_parser = ["created", "running", "paused", "exited"])]
    pub status: Vec<String>,
    /// Filter services by a property (supported filters: status), e.g. status=running
    #[arg(long, value_name = "KEY=VALUE")]
    pub filter: Vec<String>,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Include orphaned services (not declared by project)
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub orphans: bool,
    pub service_names: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &PsArgs) -> anyhow::Result<ExitCode> {
    let format = Format::parse(&args.format)?;
    let statuses = statuses(args)?;
    let session = Session::load_existing(global, &[])?;
    let snap = session.snapshot()?;
    let ports = published(&session)?;
    let declared =
        |c: &&ObservedContainer| session.project.services.contains_key(&c.record.service);
    let shown: Vec<&ObservedContainer> = session
        .containers(&snap, &args.service_names)
        .into_iter()
        .filter(|c| args.orphans || declared(c))
        .filter(|c| {
            if statuses.is_empty() {
                args.all || matches!(c.status(), Status::Running | Status::Paused)
            } else {
                statuses.iter().any(|s| s == state_word(c))
            }
        })
        .collect();
    if args.quiet {
        shown.iter().for_each(|c| println!("{}", c.record.id));
    } else if args.services {
        let mut names: Vec<&str> = shown.iter().map(|c| c.record.service.as_str()).collect();
        names.dedup();
        names.iter().for_each(|n| println!("{n}"));
    } else {
        let rows: Vec<serde_json::Value> = shown
            .iter()
            .map(|c| json(c, &ports, args.no_trunc))
            .collect();
        print!(
            "{}",
            format.render(&rows, || table(&shown, &ports, args.no_trunc))?
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `--status` and `--filter status=...` together; docker compose's `ps`
/// knows no other filter.
fn statuses(args: &PsArgs) -> anyhow::Result<Vec<String>> {
    const KNOWN: [&str; 4] = ["created", "running", "paused", "exited"];
    let mut statuses = args.status.clone();
    for filter in &args.filter {
        match filter.split_once('=') {
            Some(("status", value)) if KNOWN.contains(&value) => statuses.push(value.to_string()),
            Some(("status", value)) => anyhow::bail!(
                "--filter {filter:?}: unknown status {value:?}; use one of {}",
                KNOWN.join(", ")
            ),
            _ => anyhow::bail!(
                "--filter {filter:?}: ps filters by status only, e.g. --filter status=running"
            ),
        }
    }
    Ok(statuses)
}

fn command(c: &ObservedContainer, no_trunc: bool) -> String {
    let full = c.record.spec.process.args.join(" ");
    let short: String = full.chars().take(20).collect();
    if !no_trunc && short.len() < full.len() {
        format!("\"{short}…\"")
    } else {
        format!("\"{full}\"")
    }
}

fn since(t: Option<&String>) -> Option<Duration> {
    let t = humantime::parse_rfc3339_weak(t?).ok()?;
    SystemTime::now().duration_since(t).ok()
}

/// Docker's STATUS column: `Up 3 minutes`, `Exited (0) 2 seconds ago`.
fn status(c: &ObservedContainer) -> String {
    let state = c.state.as_ref();
    match c.status() {
        Status::Created => "Created".to_string(),
        Status::Running => format!(
            "Up {}{}",
            human(since(state.and_then(|s| s.started_at.as_ref())).unwrap_or_default()),
            health_suffix(c)
        ),
        Status::Paused => format!(
            "Up {} (Paused)",
            human(since(state.and_then(|s| s.started_at.as_ref())).unwrap_or_default())
        ),
        Status::Stopped => format!(
            "Exited ({}) {} ago",
            state.and_then(|s| s.exit).map_or(0, |e| e.code),
            human(since(state.and_then(|s| s.finished_at.as_ref())).unwrap_or_default())
        ),
    }
}

/// Docker's health suffix of STATUS: ` (healthy)`, ` (health: starting)`,
/// ` (unhealthy)`.
fn health_suffix(c: &ObservedContainer) -> &'static str {
    match health_of(c) {
        Some(HealthStatus::Starting) => " (health: starting)",
        Some(HealthStatus::Healthy) => " (healthy)",
        Some(HealthStatus::Unhealthy) => " (unhealthy)",
        None => "",
    }
}

fn state_word(c: &ObservedContainer) -> &'static str {
    match c.status() {
        Status::Created => "created",
        Status::Running => "running",
        Status::Paused => "paused",
        Status::Stopped => "exited",
    }
}

/// Docker's `units.HumanDuration`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "Less than a second".into(),
        1 => "1 second".into(),
        2..60 => format!("{s} seconds"),
        60..120 => "About a minute".into(),
        120..3600 => format!("{} minutes", s / 60),
        3600..7200 => "About an hour".into(),
        7200..172800 => format!("{} hours", s / 3600),
        172800..1209600 => format!("{} days", s / 86400),
        1209600..5184000 => format!("{} weeks", s / 604800),
        5184000..63072000 => format!("{} months", s / 2592000),
        _ => format!("{} years", s / 31536000),
    }
}

fn table(shown: &[&ObservedContainer], ports: &[PortEntry], no_trunc: bool) -> String {
    let header = [
        "NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS",
    ];
    let rows: Vec<[String; 7]> = shown
        .iter()
        .map(|c| {
            [
                c.record.name.clone(),
                c.record.image.clone(),
                command(c, no_trunc),
                c.record.service.clone(),
                format!(
                    "{} ago",
                    human(since(Some(&c.record.created_at)).unwrap_or_default())
                ),
                status(c),
                display(&publishers(c, ports)),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                l.push_str(&format!("{cell:<w$}   "));
            }
        }
        format!("{}\n", l.trim_end())
    };
    let mut out = line(header.to_vec());
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

fn json(c: &ObservedContainer, ports: &[PortEntry], no_trunc: bool) -> serde_json::Value {
    serde_json::json!({
        "Command": command(c, no_trunc),
        "CreatedAt": c.record.created_at,
        "ExitCode": c.state.as_ref().and_then(|s| s.exit).map_or(0, |e| e.code),
        "Health": health_of(c).map(|h| h.to_string()).unwrap_or_default(),
        "ID": c.record.id,
        "Image": c.record.image,
        "Name": c.record.name,
        "Project": c.record.project,
        "Ports": display(&publishers(c, ports)),
        "Publishers": publishers(c, ports),
        "RunningFor": format!("{} ago", human(since(Some(&c.record.created_at)).unwrap_or_default())),
        "Service": c.record.service,
        "State": state_word(c),
        "Status": status(c),
    })
}

#[cfg(test)]
mod tests {
    use super::human;
    use std::time::Duration;

    #[test]
    fn durations_read_like_dockers() {
        assert_eq!(human(Duration::from_millis(300)), "Less than a second");
        assert_eq!(human(Duration::from_secs(45)), "45 seconds");
        assert_eq!(human(Duration::from_secs(90)), "About a minute");
        assert_eq!(human(Duration::from_secs(3 * 3600)), "3 hours");
    }
}
