//! The thin adapter from a `plan::Plan` to the runtime's executor steps:
//! each plan action becomes one `Op`, creations carrying the container spec
//! built by `run_spec` from the service and its image. Images are resolved
//! here first (pulled when missing, Compose's default `pull_policy`).

use super::session::Session;
use crate::model::service::PullPolicy;
use crate::model::{hash, ServiceConfig};
use crate::plan::{Action, Condition, Plan};
use crate::run_spec::{self, Note};
use compose_runtime::container::Mount;
use compose_runtime::image::registry::{self, NoProgress, PullOptions};
use compose_runtime::image::{Image, ImageStore, Reference};
use compose_runtime::project::condition::{Await, Condition as RuntimeCondition};
use compose_runtime::project::ops::{CreateRequest, VolumeSeed};
use compose_runtime::project::record::{new_container_id, VolumeRef};
use compose_runtime::project::{ContainerRecord, Op, Snapshot, Step};
use compose_runtime::supervisor::restart::RestartPolicy;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// Why a plan could not become steps.
#[derive(Debug, thiserror::Error)]
pub enum StepsError {
    #[error("service {service}: invalid image reference {image:?}: {source}")]
    Reference {
        service: String,
        image: String,
        source: compose_runtime::image::reference::ReferenceError,
    },
    #[error(
        "service {service}: image {image} is not available: {source}{}",
        compose_runtime::image::bootstrap::hint_line(image)
    )]
    Image {
        service: String,
        image: String,
        source: compose_runtime::image::registry::PullError,
    },
    #[error("service {service}: image {image} is not in the image store and the pull policy `never` (`pull_policy: never` or `--pull never`) forbids pulling it (`compose image pull {image}` or `compose image load` it first)")]
    NeverPull { service: String, image: String },
    #[error("service {service}: image {image} is not in the image store and `--no-build` forbids building it (run `compose build {service}` first, or drop `--no-build`)")]
    NoBuild { service: String, image: String },
    #[error(transparent)]
    Build(Box<super::build::BuildCliError>),
    #[error("services.{service}.pull_policy: {source}")]
    PullPolicy {
        service: String,
        source: crate::model::duration::DurationError,
    },
    #[error(transparent)]
    Store(#[from] compose_runtime::image::StoreError),
    #[error(transparent)]
    Spec(#[from] run_spec::RunSpecError),
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
}

/// `up`/`create` flags that choose how images are found.
#[derive(Debug, Clone, Default)]
pub struct ImageChoice {
    /// `--pull always|missing|never|build`: over every service's
    /// `pull_policy`.
    pub pull: Option<PullPolicy>,
    /// `--no-build`: a missing image of a service with `build:` is an
    /// error instead of being built.
    pub no_build: bool,
    /// `--quiet-pull`: pull without saying so.
    pub quiet_pull: bool,
}

/// The image of every service of the project, following its
/// `pull_policy`: pulled when missing (the default), always, or never.
pub fn resolve_images(
    session: &Session,
    services: &[&ServiceConfig],
) -> Result<HashMap<String, Image>, StepsError> {
    resolve_images_with(session, services, &ImageChoice::default())
}

/// As [`resolve_images`], with `up`'s image flags.
pub fn resolve_images_with(
    session: &Session,
    services: &[&ServiceConfig],
    choice: &ImageChoice,
) -> Result<HashMap<String, Image>, StepsError> {
    let store = ImageStore::open(&session.root)?;
    let mut images = HashMap::new();
    for service in services {
        images.insert(
            service.name.clone(),
            resolve(session, &store, service, choice)?,
        );
        // `pre_start` hooks from other images: in the store before the
        // containers start, which look them up there.
        for hook in run_spec::hook_image_services(service, &session.project.name) {
            resolve(session, &store, &hook, choice)?;
        }
    }
    Ok(images)
}

fn resolve(
    session: &Session,
    store: &ImageStore,
    service: &ServiceConfig,
    choice: &ImageChoice,
) -> Result<Image, StepsError> {
    let image = service.image_or_default(&session.project.name);
    let reference = Reference::parse(&image).map_err(|source| StepsError::Reference {
        service: service.name.clone(),
        image: image.clone(),
        source,
    })?;
    let policy = match &choice.pull {
        Some(policy) => *policy,
        None => service
            .pull_policy()
            .map_err(|source| StepsError::PullPolicy {
                service: service.name.clone(),
                source,
            })?,
    };
    let unavailable = |source| StepsError::Image {
        service: service.name.clone(),
        image: image.clone(),
        source,
    };
    let note = |done| {
        if !choice.quiet_pull {
            pull_note(session, &service.name, done)
        }
    };
    let local = store.get(&reference)?;
    let buildable = service.build.is_some();
    // docker compose: `pull_policy: build` always builds; a missing image
    // of a service with `build:` is built (unless `--no-build`).
    let build = match (&policy, &local) {
        (PullPolicy::Build, _) if buildable => true,
        (PullPolicy::Always, _) => false,
        (_, None) => buildable,
        (_, Some(_)) => false,
    };
    if build {
        if choice.no_build {
            return Err(StepsError::NoBuild {
                service: service.name.clone(),
                image,
            });
        }
        let init = compose_runtime::container::InitProgram::current_exe();
        let opts = super::build::BuildOptions::default();
        return super::build::build_service(
            &session.root,
            store,
            &init,
            &session.project,
            service,
            &opts,
        )
        .map_err(|source| StepsError::Build(Box::new(source)));
    }
    match (policy, local) {
        (PullPolicy::Always, _) => {
            note(false);
            registry::pull(store, &reference, &PullOptions::default(), &NoProgress)
                .map_err(unavailable)?;
            note(true);
        }
        (_, Some(found)) => return Ok(found),
        (PullPolicy::Never, None) => {
            return Err(StepsError::NeverPull {
                service: service.name.clone(),
                image,
            })
        }
        (_, None) => note(false),
    }
    let found = registry::ensure(store, &reference, &PullOptions::default(), &NoProgress)
        .map_err(unavailable)?;
    note(true);
    Ok(found)
}

/// Say that a service's image is being pulled, or was, in the session's
/// progress mode (docker compose names the service: `web Pulled`).
fn pull_note(session: &Session, service: &str, done: bool) {
    use crate::ui::progress::{json_line, Display, Event, Status};
    match session.progress {
        Display::Quiet => {}
        Display::Json => {
            let (status, text) = if done {
                (Status::Done, "Pulled")
            } else {
                (Status::Working, "Pulling")
            };
            let event = Event {
                kind: String::new(),
                name: service.to_string(),
                text: text.to_string(),
                status,
                details: None,
            };
            eprintln!("{}", json_line(&event));
        }
        Display::Plain | Display::Tty if done => {
            eprintln!(" {} {service} Pulled", console::style("✔").green())
        }
        Display::Plain | Display::Tty => eprintln!(" {service} Pulling"),
    }
}

/// Options of the ops that are not in the plan.
#[derive(Debug, Clone, Copy, Default)]
pub struct StepOptions {
    /// `-t`: seconds before SIGKILL, over each container's grace period.
    pub timeout: Option<Duration>,
    /// `down -v`: remove anonymous volumes with their containers.
    pub volumes: bool,
}

/// The executor's steps for `plan`, and the notes of settings not applied.
pub fn steps(
    session: &Session,
    plan: &Plan,
    images: &HashMap<String, Image>,
    snap: &Snapshot,
    opts: StepOptions,
) -> Result<(Vec<Step>, Vec<Note>), StepsError> {
    let mut from = volumes_from_sources(snap);
    let mut notes = Vec::new();
    let mut steps = Vec::new();
    let first = first_containers(session);
    for step in &plan.steps {
        let op = match &step.action {
            Action::CreateContainer {
                service,
                number,
                name,
            } => {
                let config = &session.project.services[service];
                let image = &images[service];
                let target = Target {
                    number: *number,
                    name,
                    image,
                };
                let (req, run_notes) = create(session, config, &target, &from, &first)?;
                from.entry(service.clone())
                    .or_insert_with(|| req.record.spec.mounts.clone());
                from.insert(format!("container:{name}"), req.record.spec.mounts.clone());
                notes.extend(run_notes);
                Op::CreateContainer {
                    request: Box::new(req),
                }
            }
            Action::StartContainer { name } => Op::StartContainer { name: name.clone() },
            Action::StopContainer { name } => Op::StopContainer {
                name: name.clone(),
                timeout: opts.timeout,
            },
            Action::RemoveContainer { name } => Op::RemoveContainer {
                name: name.clone(),
                volumes: opts.volumes,
            },
            Action::CreateNetwork { name } => network_op(session, name, &mut notes)?,
            Action::RemoveNetwork { name } => Op::RemoveNetwork { name: name.clone() },
            Action::CreateVolume { name } => Op::CreateVolume { name: name.clone() },
            Action::RemoveVolume { name } => Op::RemoveVolume { name: name.clone() },
            Action::AwaitDependency {
                dependency,
                condition,
                required,
                dependents,
            } => Op::AwaitCondition {
                wait: Await {
                    dependent: dependents.join(", "),
                    dependency: dependency.clone(),
                    condition: match condition {
                        Condition::Healthy => RuntimeCondition::ServiceHealthy,
                        Condition::CompletedSuccessfully => {
                            RuntimeCondition::ServiceCompletedSuccessfully
                        }
                    },
                    required: *required,
                    timeout: None,
                    caller: Some(std::process::id()),
                },
            },
        };
        steps.push(Step {
            op,
            after: step.after.clone(),
        });
    }
    notes.sort();
    notes.dedup();
    Ok((steps, notes))
}

/// The create request of a one-off container of `service` (`compose
/// run`): replica number 0 marks it, `name` is its own.
pub fn one_off(
    session: &Session,
    service: &ServiceConfig,
    name: &str,
    image: &Image,
    snap: &Snapshot,
) -> Result<(CreateRequest, Vec<Note>), StepsError> {
    let target = Target {
        number: 0,
        name,
        image,
    };
    let from = volumes_from_sources(snap);
    create(session, service, &target, &from, &first_containers(session))
}

/// Create the project network called `name` (its runtime name).
fn network_op(session: &Session, name: &str, notes: &mut Vec<Note>) -> Result<Op, StepsError> {
    let found = session
        .project
        .networks
        .iter()
        .find(|(_, n)| n.name == name);
    let spec = match found {
        Some((key, config)) => run_spec::network::network_spec(key, config, notes)?,
        None => compose_runtime::network::NetworkSpec::new(name),
    };
    Ok(Op::CreateNetwork {
        external: found.is_some_and(|(_, n)| n.external),
        spec: Box::new(spec),
    })
}

/// Each service's first container, by service name.
fn first_containers(session: &Session) -> BTreeMap<String, String> {
    session
        .project
        .services
        .values()
        .map(|s| {
            let name = crate::plan::container_name(&session.project.name, s, 1);
            (s.name.clone(), name)
        })
        .collect()
}

/// The container a create step makes.
struct Target<'a> {
    number: u32,
    name: &'a str,
    image: &'a Image,
}

/// Mounts of existing containers, for `volumes_from`: by service (its
/// first replica) and by `container:<name>`.
fn volumes_from_sources(snap: &Snapshot) -> BTreeMap<String, Vec<Mount>> {
    let mut from = BTreeMap::new();
    for c in &snap.containers {
        let mounts = c.record.spec.mounts.clone();
        from.entry(c.record.service.clone())
            .or_insert_with(|| mounts.clone());
        from.insert(format!("container:{}", c.record.name), mounts);
    }
    from
}

/// `restart:`, else `deploy.restart_policy` (`any` is `always`,
/// `on-failure` with `max_attempts`), as docker compose maps them.
fn restart_policy(service: &ServiceConfig) -> RestartPolicy {
    if let Some(policy) =
        RestartPolicy::parse(&service.restart).filter(|_| !service.restart.is_empty())
    {
        return policy;
    }
    let Some(p) = service
        .deploy
        .as_ref()
        .and_then(|d| d.restart_policy.as_ref())
    else {
        return RestartPolicy::No;
    };
    match p.condition.as_str() {
        "any" | "" => RestartPolicy::Always,
        "on-failure" => RestartPolicy::OnFailure {
            max_retries: p.max_attempts.map(|n| n.min(u32::MAX as u64) as u32),
        },
        _ => RestartPolicy::No,
    }
}

fn create(
    session: &Session,
    service: &ServiceConfig,
    target: &Target<'_>,
    from: &BTreeMap<String, Vec<Mount>>,
    first: &BTreeMap<String, String>,
) -> Result<(CreateRequest, Vec<Note>), StepsError> {
    let (number, name, image) = (target.number, target.name, target.image);
    let id = new_container_id();
    let volume_root = session.dir.volumes_dir();
    let ctx = run_spec::Context {
        project: &session.project.name,
        container_name: name,
        container_id: &id,
        image: &image.config,
        lower_dirs: image.layer_dirs.iter().rev().cloned().collect(),
        volume_root: &volume_root,
        volumes: &session.project.volumes,
        volumes_from: from,
        compose_root: &session.root,
        networks: &session.project.networks,
        first_containers: first,
    };
    let run = run_spec::build(service, &ctx)?;
    let record = ContainerRecord {
        name: name.to_string(),
        project: session.project.name.clone(),
        service: service.name.clone(),
        number,
        id,
        image: service.image_or_default(&session.project.name),
        image_id: image.id.to_string(),
        config_hash: hash::service_hash(service)?,
        config: hash::hashed_config(service)?,
        created_at: compose_runtime::container::state::now_rfc3339(),
        stop_signal: run.stop_signal,
        stop_grace_period_ms: run.stop_grace_period.as_millis() as u64,
        volumes: run
            .volumes
            .iter()
            .map(|v| VolumeRef {
                name: v.name.clone(),
                anonymous: v.anonymous,
            })
            .collect(),
        restart: restart_policy(service),
        networks: run.networking.attachments,
        dns: run.networking.dns,
        ports: run.networking.ports,
        exposed: run.networking.exposed,
        links: run.networking.links,
        hooks: run.hooks,
        healthcheck: run_spec::health::healthcheck(service, &image.config),
        spec: run.spec,
    };
    let req = CreateRequest {
        record,
        volumes: run
            .volumes
            .into_iter()
            .map(|v| VolumeSeed {
                name: v.name,
                seed_from: v.seed_from,
            })
            .collect(),
        host_dirs: run.host_dirs,
    };
    Ok((req, run.notes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::deploy::RestartPolicy as DeployRestart;
    use crate::model::DeployConfig;

    #[test]
    fn restart_comes_from_restart_else_deploy_restart_policy() {
        let mut s = ServiceConfig {
            restart: "unless-stopped".into(),
            ..Default::default()
        };
        assert_eq!(restart_policy(&s), RestartPolicy::UnlessStopped);
        s.restart.clear();
        assert_eq!(restart_policy(&s), RestartPolicy::No);
        s.deploy = Some(DeployConfig {
            restart_policy: Some(DeployRestart {
                condition: "on-failure".into(),
                max_attempts: Some(3),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(
            restart_policy(&s),
            RestartPolicy::OnFailure {
                max_retries: Some(3)
            }
        );
        s.deploy
            .as_mut()
            .unwrap()
            .restart_policy
            .as_mut()
            .unwrap()
            .condition = "any".into();
        assert_eq!(restart_policy(&s), RestartPolicy::Always);
    }
}
