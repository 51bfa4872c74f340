//! `compose top [SERVICE...]`: the processes of each running container,
//! as docker compose prints them: one table, a row per process, the
//! container's service and replica number first, then `ps -ef`'s columns
//! (CMD last), containers in name order.

use super::lifecycle::{is_up, session};
use super::GlobalArgs;
use crate::ui::table;
use compose_runtime::container::top::TITLES;
use compose_runtime::container::Container;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct TopArgs {
    pub services: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &TopArgs) -> anyhow::Result<ExitCode> {
    let session = session(global, &args.services)?;
    let snap = session.snapshot()?;
    let mut containers: Vec<_> = session
        .containers(&snap, &args.services)
        .into_iter()
        .filter(|c| is_up(c))
        .collect();
    containers.sort_by(|a, b| a.record.name.cmp(&b.record.name));
    let mut rows = Vec::new();
    for c in containers {
        let processes = match Container::load(&c.dir).and_then(|k| k.top()) {
            Ok(p) => p,
            // It stopped since the snapshot: nothing to show, as for a
            // container that was not running.
            Err(_) if !is_up(&observe_again(&c.dir, c)) => continue,
            Err(e) => return Err(e.into()),
        };
        for p in processes {
            let mut row = vec![c.record.service.clone(), c.record.number.to_string()];
            row.extend(p.cells());
            rows.push(row);
        }
    }
    if rows.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let mut header = vec!["SERVICE", "#"];
    header.extend(TITLES);
    print!("{}", table::render(table::COMPOSE, &header, &rows));
    Ok(ExitCode::SUCCESS)
}

/// The container's state read again from disk.
fn observe_again(
    dir: &std::path::Path,
    c: &compose_runtime::project::ObservedContainer,
) -> compose_runtime::project::ObservedContainer {
    let state = Container::load(dir).and_then(|k| k.state()).ok();
    compose_runtime::project::ObservedContainer { state, ..c.clone() }
}
