//! What the container commands share: load the project (environment
//! resolved, env files folded in, as containers are created from), find
//! its state under `$COMPOSE_ROOT`, snapshot it for the planner, and print
//! progress lines the way docker compose does (` ✔ Container web-1  Started`).

use super::GlobalArgs;
use crate::model::Project;
use crate::plan;
use crate::ui::progress::{Display, Event, Progress, Status as ProgressStatus};
use compose_runtime::container::Status as RtStatus;
use compose_runtime::project::{ObservedContainer, OnFailure, ProjectDir, Snapshot, Step};
use compose_runtime::supervisor::protocol::ProgressLine;
use compose_runtime::supervisor::Client;
use std::path::PathBuf;

pub struct Session {
    pub project: Project,
    pub dir: ProjectDir,
    pub root: PathBuf,
    /// How [`Session::apply`] shows progress (`--progress`).
    pub progress: Display,
    /// The Compose files loaded (empty for a project found on disk).
    pub config_files: Vec<PathBuf>,
}

impl Session {
    /// Load the project; with `services`, keep those and their
    /// dependencies, and set the others aside as disabled so that their
    /// containers are not taken for orphans.
    pub fn load(global: &GlobalArgs, services: &[String]) -> anyhow::Result<Session> {
        let mut opts = global.loader_options()?;
        opts.resolve_environment = true;
        opts.discard_env_files = true;
        let loaded = crate::loader::load(&opts)?;
        for w in &loaded.warnings {
            crate::ui::warn(&w.to_string());
        }
        let config_files = loaded.config_files.clone();
        let full = loaded.project;
        let mut project = full.with_selected_services(services)?;
        for (name, service) in &full.services {
            if !project.services.contains_key(name) {
                project
                    .disabled_services
                    .insert(name.clone(), service.clone());
            }
        }
        let root = compose_runtime::image::compose_root();
        let dir = ProjectDir::new(&root, &project.name);
        let progress = global.progress_display()?;
        Ok(Session {
            project,
            dir,
            root,
            progress,
            config_files,
        })
    }

    /// As [`Session::load`], for commands on existing containers: with
    /// `-p NAME` and no Compose file, the project is what is on disk (its
    /// containers' services and its networks), as docker compose finds a
    /// project by its containers' labels.
    pub fn load_existing(global: &GlobalArgs, services: &[String]) -> anyhow::Result<Session> {
        match Session::load(global, services) {
            Err(e) if global.project_name.is_some() && no_compose_file(&e) => {
                let name = global.project_name.clone().unwrap_or_default();
                let root = compose_runtime::image::compose_root();
                let dir = ProjectDir::new(&root, &name);
                let project = project_on_disk(&name, &compose_runtime::project::observe(&dir)?);
                let progress = global.progress_display()?;
                Ok(Session {
                    project,
                    dir,
                    root,
                    progress,
                    config_files: Vec::new(),
                })
            }
            other => other,
        }
    }

    /// The project's supervisor (started on first use).
    pub fn client(&self) -> anyhow::Result<Client> {
        Ok(Client::new(self.dir.clone(), std::env::current_exe()?))
    }

    /// The project's state. When it has containers, through its supervisor,
    /// which is started again if it is not running (and re-adopts them).
    pub fn snapshot(&self) -> anyhow::Result<Snapshot> {
        if self.dir.has_containers() {
            Ok(self.client()?.observe()?)
        } else {
            Ok(compose_runtime::project::observe(&self.dir)?)
        }
    }

    /// Perform `steps` through the supervisor, printing progress; a
    /// teardown (`OnFailure::Continue`) goes on past failures.
    pub fn apply(&self, steps: &[Step], on_failure: OnFailure) -> anyhow::Result<()> {
        let client = self.client()?;
        let mut display = Progress::stderr(self.progress);
        let result = client.apply(steps, on_failure, &mut |line| {
            display.event(&progress_event(line))
        });
        display.finish();
        result?;
        Ok(())
    }

    /// The containers of the selected services (all when none selected).
    pub fn containers<'a>(
        &self,
        snap: &'a Snapshot,
        services: &[String],
    ) -> Vec<&'a ObservedContainer> {
        snap.containers
            .iter()
            .filter(|c| services.is_empty() || services.contains(&c.record.service))
            .collect()
    }
}

fn no_compose_file(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<crate::loader::LoadError>(),
        Some(crate::loader::LoadError::Discover(
            crate::loader::discover::DiscoverError::NotFound { .. }
        ))
    )
}

/// A project made of what exists: one service per service name of its
/// containers, and its recorded networks.
fn project_on_disk(name: &str, snap: &Snapshot) -> Project {
    let mut project = Project {
        name: name.to_string(),
        ..Default::default()
    };
    for c in &snap.containers {
        let service = &c.record.service;
        project
            .services
            .entry(service.clone())
            .or_insert_with(|| crate::model::ServiceConfig {
                name: service.clone(),
                ..Default::default()
            });
    }
    for net in &snap.networks {
        project.networks.insert(
            net.clone(),
            crate::model::NetworkConfig {
                name: net.clone(),
                ..Default::default()
            },
        );
    }
    project
}

/// The snapshot as the planner reads it.
pub fn to_observed(snap: &Snapshot) -> plan::Observed {
    plan::Observed {
        containers: snap
            .containers
            .iter()
            .map(|c| plan::ObservedContainer {
                name: c.record.name.clone(),
                service: c.record.service.clone(),
                number: c.record.number,
                config_hash: c.record.config_hash.clone(),
                config: Some(c.record.config.clone()),
                status: status(c),
            })
            .collect(),
        networks: snap.networks.clone(),
        volumes: snap.volumes.clone(),
    }
}

/// The snapshot for `up`: a container made from another image than the
/// one its service's reference names now (a newer pull of the same tag)
/// is observed with that image in its configuration, so the plan recreates
/// it with the cause "config changed: image", as docker compose recreates
/// on an image digest change.
pub fn to_observed_with_images(
    snap: &Snapshot,
    images: &std::collections::HashMap<String, compose_runtime::image::Image>,
) -> plan::Observed {
    let mut observed = to_observed(snap);
    for (o, c) in observed.containers.iter_mut().zip(&snap.containers) {
        let Some(image) = images.get(&c.record.service) else {
            continue;
        };
        if image.id.to_string() == c.record.image_id {
            continue;
        }
        o.config_hash = format!("{}+{}", o.config_hash, c.record.image_id);
        if let Some(config) = o.config.as_mut().and_then(|v| v.as_object_mut()) {
            config.insert(
                "image".into(),
                format!("{} ({})", c.record.image, c.record.image_id).into(),
            );
        }
    }
    // `compose run` containers (number 0) are not replicas: `up` neither
    // starts, recreates nor scales them (docker compose's one-off label).
    observed.containers.retain(|c| c.number != 0);
    observed
}

pub fn status(c: &ObservedContainer) -> plan::Status {
    match c.status() {
        RtStatus::Created => plan::Status::Created,
        RtStatus::Running => plan::Status::Running,
        RtStatus::Paused => plan::Status::Paused,
        RtStatus::Stopped => plan::Status::Exited {
            code: c.state.as_ref().and_then(|s| s.exit).map_or(0, |e| e.code),
        },
    }
}

/// docker compose's short name of a container in log prefixes: `web-1`
/// for `<project>-web-1`, else the container name.
pub fn short_name(c: &ObservedContainer) -> String {
    let prefix = format!("{}-", c.record.project);
    c.record
        .name
        .strip_prefix(&prefix)
        .unwrap_or(&c.record.name)
        .to_string()
}

/// A supervisor's progress line as a display event.
pub fn progress_event(line: &ProgressLine) -> Event {
    let status = match (&line.error, line.working) {
        (Some(_), _) => ProgressStatus::Error,
        (None, true) => ProgressStatus::Working,
        (None, false) => ProgressStatus::Done,
    };
    Event {
        kind: line.kind.clone(),
        name: line.name.clone(),
        text: line.done.clone(),
        status,
        details: line.error.clone(),
    }
}

/// One progress line per finished step, on stderr (the plain display).
pub fn print_progress(line: &ProgressLine) {
    let colour = console::colors_enabled_stderr();
    if let Some(text) = crate::ui::progress::plain_line(&progress_event(line), colour) {
        eprintln!("{text}");
    }
}

/// `-t/--timeout` in seconds as a duration.
pub fn timeout(secs: Option<u64>) -> Option<std::time::Duration> {
    secs.map(std::time::Duration::from_secs)
}
