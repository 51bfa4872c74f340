//! `compose down`: stop and remove the project's containers (dependents
//! first, independent ones in parallel), its networks and, with `-v`, its
//! volumes.

use super::session::{timeout, to_observed, Session};
use super::steps::{self, StepOptions};
use super::GlobalArgs;
use crate::plan::{plan_down, DownOptions};
use compose_runtime::project::OnFailure;
use std::collections::HashMap;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DownArgs {
    /// Remove named volumes declared in the "volumes" section and anonymous volumes
    #[arg(short, long)]
    pub volumes: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Seconds to wait for containers to stop before killing them
    #[arg(short, long)]
    pub timeout: Option<u64>,
    /// Print the plan instead of performing it
    #[arg(long)]
    pub dry_run: bool,
    /// Remove images used by services. "local" remove only images that don't have a custom tag ("local"|"all")
    #[arg(long, value_name = "TYPE", value_parser = ["local", "all"])]
    pub rmi: Option<String>,
}

pub fn run(global: &GlobalArgs, args: &DownArgs) -> anyhow::Result<ExitCode> {
    let session = Session::load_existing(global, &[])?;
    let lock = session.dir.lock()?;
    let snap = session.snapshot()?;
    let opts = DownOptions {
        volumes: args.volumes,
        remove_orphans: args.remove_orphans,
    };
    let plan = plan_down(&session.project, &to_observed(&snap), &opts);
    let images = images_to_remove(&session, args.rmi.as_deref());
    if args.dry_run {
        print!("{plan}");
        for image in &images {
            println!("remove image {image}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    for w in &plan.warnings {
        crate::ui::warn(w);
    }
    let step_opts = StepOptions {
        timeout: timeout(args.timeout),
        volumes: args.volumes,
    };
    let (steps, _) = steps::steps(&session, &plan, &HashMap::new(), &snap, step_opts)?;
    session.apply(&steps, OnFailure::Continue)?;
    drop(lock);
    session.dir.remove_if_empty();
    remove_images(&session, &images)?;
    Ok(ExitCode::SUCCESS)
}

/// `--rmi all`: every service's image; `--rmi local`: only the images
/// named after the project (services with `build:` and no `image:`), as
/// docker compose's down.go chooses them.
fn images_to_remove(session: &Session, rmi: Option<&str>) -> Vec<String> {
    let Some(rmi) = rmi else {
        return Vec::new();
    };
    let mut names: Vec<String> = session
        .project
        .services
        .values()
        .filter(|s| rmi == "all" || s.image.is_empty())
        .map(|s| s.image_or_default(&session.project.name))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Untag (and delete when it was the last name) each image; one that is
/// not there is no error, as in docker compose.
fn remove_images(session: &Session, images: &[String]) -> anyhow::Result<()> {
    if images.is_empty() {
        return Ok(());
    }
    let store = compose_runtime::image::ImageStore::open(&session.root)?;
    let mut failed = Vec::new();
    for image in images {
        match store.remove(image, false) {
            Ok(_) => image_removed(session, image),
            Err(compose_runtime::image::StoreError::NotFound { .. }) => {}
            Err(e) => failed.push(format!("{image}: {e}")),
        }
    }
    if !failed.is_empty() {
        anyhow::bail!("could not remove images: {}", failed.join("; "));
    }
    Ok(())
}

fn image_removed(session: &Session, image: &str) {
    use crate::ui::progress::Display;
    match session.progress {
        Display::Quiet => {}
        Display::Json => eprintln!(
            "{}",
            serde_json::json!({"id": format!("Image {image}"), "status": "Removed", "text": "Removed"})
        ),
        Display::Plain | Display::Tty => {
            eprintln!(" {} Image {image}  Removed", console::style("✔").green())
        }
    }
}
