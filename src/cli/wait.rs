//! `compose wait SERVICE... [--down-project]`: block until the running
//! containers of the services have stopped. As docker compose: one line
//! `container "<id>" exited with status code N` per container as it exits,
//! our exit code is the code of the last one to exit, and with
//! `--down-project` the project is taken down afterwards.

use super::down::{self, DownArgs};
use super::lifecycle::{is_up, session};
use super::GlobalArgs;
use compose_runtime::container::Container;
use std::process::ExitCode;
use std::sync::mpsc;

#[derive(Debug, clap::Args)]
pub struct WaitArgs {
    /// Drops project when the first container stops
    #[arg(long)]
    pub down_project: bool,
    #[arg(required = true)]
    pub services: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &WaitArgs) -> anyhow::Result<ExitCode> {
    let session = session(global, &args.services)?;
    let snap = session.snapshot()?;
    let running: Vec<_> = session
        .containers(&snap, &args.services)
        .into_iter()
        .filter(|c| is_up(c))
        .collect();
    if running.is_empty() {
        anyhow::bail!(
            "no running containers for project {:?} (services {})",
            session.project.name,
            args.services.join(", ")
        );
    }
    // One thread per container, each blocked on its init's pidfd, so the
    // lines come in the order the containers exit.
    let (tx, rx) = mpsc::channel();
    for c in &running {
        let (tx, dir, id) = (tx.clone(), c.dir.clone(), c.record.id.clone());
        std::thread::spawn(move || {
            let exit = Container::load(&dir).and_then(|c| c.wait());
            let _ = tx.send((id, exit));
        });
    }
    drop(tx);
    let mut last = 0;
    for (id, exit) in rx {
        let exit = exit?;
        println!("container {id:?} exited with status code {}", exit.code);
        last = exit.code;
    }
    if args.down_project {
        let down = DownArgs {
            volumes: false,
            remove_orphans: true,
            timeout: None,
            dry_run: false,
            rmi: None,
        };
        down::run(global, &down)?;
    }
    Ok(ExitCode::from(last.clamp(0, 255) as u8))
}
