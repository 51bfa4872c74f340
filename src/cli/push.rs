//! `compose push [SERVICE...]`: push the images of the services that are
//! built and named, as docker compose does (`pkg/compose/push.go`): a
//! service with both `build:` and `image:` pushes `image` and every
//! `build.tags` entry; any other service is skipped. Named services are
//! pushed without their dependencies unless `--include-deps`.
//!
//! One difference, for a clearer error: a service named on the command
//! line that is built but has no `image:` is an error naming it (docker
//! compose skips it silently), since its default name `<project>-<service>`
//! would be pushed to Docker Hub's `library/` namespace.

use super::image::progress::Board;
use super::GlobalArgs;
use crate::loader::node::{Location, Node, NodePath};
use crate::model::{Project, ServiceConfig};
use compose_runtime::image::reference::ReferenceError;
use compose_runtime::image::registry::{push, PushOptions};
use compose_runtime::image::{ImageStore, Reference};
use std::process::ExitCode;
use std::sync::Mutex;

/// How many images upload at once (each with its own parallel layers).
const PARALLEL_IMAGES: usize = 4;

#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// Push what it can and ignores images with push failures
    #[arg(long)]
    pub ignore_push_failures: bool,
    /// Also push images of services declared as dependencies
    #[arg(long)]
    pub include_deps: bool,
    /// Push without printing progress information
    #[arg(short, long)]
    pub quiet: bool,
    /// Services to push (default: all)
    pub services: Vec<String>,
}

/// Why the images to push could not be decided.
#[derive(Debug, thiserror::Error)]
pub enum PushCliError {
    #[error("{location}: service \"{service}\" has no image name to push to: set `image:` to a registry reference, e.g. `image: registry.example.com/{service}:1.0`")]
    NoImage {
        service: String,
        location: Box<Location>,
    },
    #[error(
        "{location}: service \"{service}\": `{image}` is not a valid image reference: {source}"
    )]
    BadReference {
        service: String,
        image: String,
        location: Box<Location>,
        source: Box<ReferenceError>,
    },
}

/// One reference to push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// As written in the Compose file.
    pub image: String,
    pub reference: Reference,
}

/// What `compose push` does: the references in file order (each once) and
/// the services it skips.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub jobs: Vec<Job>,
    pub skipped: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &PushArgs) -> anyhow::Result<ExitCode> {
    let mut opts = global.loader_options()?;
    opts.selected_services = args.services.clone();
    opts.resolve_environment = false;
    let loaded = crate::loader::load(&opts)?;
    for w in &loaded.warnings {
        crate::ui::warn(&w.to_string());
    }
    // The loader keeps named services' dependencies; they are pushed only
    // with `--include-deps`, as docker compose does.
    let only: &[String] = if args.include_deps {
        &[]
    } else {
        &args.services
    };
    let plan = plan(&loaded.project, &loaded.document, only, &args.services)?;
    let opts = super::image::push::push_options()?;
    let store = ImageStore::open_default().map_err(|e| anyhow::anyhow!("{e}"))?;
    let board = Board::new(args.quiet);
    for service in &plan.skipped {
        board.note(&format!("Service {service} Skipped"));
    }
    let failures = push_all(&store, &plan.jobs, &opts, &board);
    board.finish();
    for message in &failures {
        if args.ignore_push_failures {
            crate::ui::warn(message);
        } else {
            eprintln!("{} {message}", console::style("error:").red().bold());
        }
    }
    Ok(if failures.is_empty() || args.ignore_push_failures {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Decide what to push: services in `only` (all when empty), in file
/// order; `named` are the services the user named, for which a missing
/// `image:` is an error rather than a skip.
pub fn plan(
    project: &Project,
    document: &Node,
    only: &[String],
    named: &[String],
) -> Result<Plan, PushCliError> {
    let mut out = Plan::default();
    for service in project.services.values() {
        if !only.is_empty() && !only.contains(&service.name) {
            continue;
        }
        let Some(build) = service.build.as_ref().filter(|_| !service.image.is_empty()) else {
            if service.build.is_some() && named.contains(&service.name) {
                return Err(PushCliError::NoImage {
                    service: service.name.clone(),
                    location: location(document, &service.name),
                });
            }
            out.skipped.push(service.name.clone());
            continue;
        };
        for image in std::iter::once(&service.image).chain(&build.tags) {
            let reference = parse(document, service, image)?;
            if !out.jobs.iter().any(|j| j.reference == reference) {
                out.jobs.push(Job {
                    image: image.clone(),
                    reference,
                });
            }
        }
    }
    Ok(out)
}

fn parse(document: &Node, service: &ServiceConfig, image: &str) -> Result<Reference, PushCliError> {
    Reference::parse(image).map_err(|source| PushCliError::BadReference {
        service: service.name.clone(),
        image: image.to_string(),
        location: location(document, &service.name),
        source: Box::new(source),
    })
}

/// Where the service's `image` is written (else the service itself).
fn location(document: &Node, service: &str) -> Box<Location> {
    let node = document.get("services").and_then(|s| s.get(service));
    let span = node
        .and_then(|n| n.get("image"))
        .and_then(|n| n.span.clone())
        .or_else(|| node.and_then(|n| n.span.clone()));
    Box::new(Location::new(
        span,
        NodePath::root().key("services").key(service).key("image"),
    ))
}

/// Push every job, `PARALLEL_IMAGES` repositories at a time, each job to
/// the end even when another fails; the failures, one line each, in the
/// file's order. Tags of one repository go one after the other: the first
/// uploads the layers and the next find them there, where two at once
/// would both upload and race the registry's blob links.
fn push_all(store: &ImageStore, jobs: &[Job], opts: &PushOptions, board: &Board) -> Vec<String> {
    let mut groups: Vec<Vec<(usize, &Job)>> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let name = job.reference.name();
        match groups.iter_mut().find(|g| g[0].1.reference.name() == name) {
            Some(g) => g.push((i, job)),
            None => groups.push(vec![(i, job)]),
        }
    }
    let workers = PARALLEL_IMAGES.min(groups.len());
    let queue = Mutex::new(groups.into_iter().rev().collect::<Vec<_>>());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let Some(group) = queue.lock().expect("queue").pop() else {
                    return;
                };
                for (i, job) in group {
                    if let Err(message) = push_one(store, job, opts, board) {
                        failures.lock().expect("failures").push((i, message));
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().expect("failures");
    failures.sort();
    failures.into_iter().map(|(_, m)| m).collect()
}

fn push_one(
    store: &ImageStore,
    job: &Job,
    opts: &PushOptions,
    board: &Board,
) -> Result<(), String> {
    let line = board.line(&job.image, "Pushing", "Pushed");
    let result = push(store, &job.reference, opts, &line)
        .map(|_| ())
        .map_err(|e| e.to_string());
    line.finish(result.as_ref().err().map(String::as_str));
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> crate::loader::Loaded {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), yaml).unwrap();
        let mut opts = crate::loader::Options::for_dir(dir.path().to_path_buf());
        opts.resolve_environment = false;
        crate::loader::load(&opts).unwrap()
    }

    const YAML: &str = "name: p
services:
  web:
    image: reg.example:5000/web:1
    build:
      context: .
      tags: [reg.example:5000/web:latest, reg.example:5000/web:1]
    depends_on: [api]
  api:
    image: reg.example:5000/api:2
    build: .
  db:
    image: postgres:16
  local:
    build: .
";

    fn refs(plan: &Plan) -> Vec<String> {
        plan.jobs.iter().map(|j| j.reference.to_string()).collect()
    }

    #[test]
    fn built_and_named_services_push_image_and_build_tags_once() {
        let l = load(YAML);
        let plan = plan(&l.project, &l.document, &[], &[]).unwrap();
        assert_eq!(
            refs(&plan),
            [
                "reg.example:5000/web:1",
                "reg.example:5000/web:latest",
                "reg.example:5000/api:2"
            ]
        );
        assert_eq!(plan.skipped, ["db", "local"]);
    }

    #[test]
    fn named_services_go_without_their_dependencies_unless_asked() {
        let l = load(YAML);
        let named = vec!["web".to_string()];
        let alone = plan(&l.project, &l.document, &named, &named).unwrap();
        assert_eq!(alone.jobs.len(), 2);
        let with_deps = plan(&l.project, &l.document, &[], &named).unwrap();
        assert_eq!(with_deps.jobs.len(), 3);
    }

    #[test]
    fn a_named_built_service_without_image_is_an_error_naming_it() {
        let l = load(YAML);
        let named = vec!["local".to_string()];
        let e = plan(&l.project, &l.document, &named, &named).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("services.local.image"), "{text}");
        assert!(
            text.contains("service \"local\" has no image name"),
            "{text}"
        );
        assert!(text.contains("compose.yaml:15"), "{text}");
    }
}
