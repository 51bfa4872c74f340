//! `up`: converge the observed project on the desired one (docker compose's
//! `convergence.go`, as data). Per service, in dependency order: replicas
//! over the wanted count go (highest number first), containers whose config
//! changed are recreated, stopped ones are started, missing ones created.

use super::action::{Action, Cause, Condition, Plan};
use super::diff::changed_fields;
use super::observed::{Observed, ObservedContainer};
use crate::model::{hash, ModelError, Project, ServiceConfig};
use indexmap::IndexMap;
use std::collections::{HashMap, HashSet};

/// The flags of `compose up` that change what is planned.
#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    pub force_recreate: bool,
    pub no_recreate: bool,
    pub no_start: bool,
    pub remove_orphans: bool,
    /// `--scale SERVICE=N`, over `scale`/`deploy.replicas`.
    pub scale: IndexMap<String, usize>,
    /// `--always-recreate-deps`: services recreated even when unchanged.
    pub recreate_services: std::collections::BTreeSet<String>,
}

/// The container name of replica `number` of a service.
pub fn container_name(project: &str, service: &ServiceConfig, number: u32) -> String {
    if service.container_name.is_empty() {
        format!("{project}-{}-{number}", service.name)
    } else {
        service.container_name.clone()
    }
}

/// Plan `up` for `project` over what `observed` has.
pub fn plan_up(
    project: &Project,
    observed: &Observed,
    opts: &UpOptions,
) -> Result<Plan, ModelError> {
    let mut plan = Plan::default();
    let resources = create_resources(project, observed, &mut plan);
    // The steps after which each service counts as up (its starts, or its
    // creates with --no-start): what its dependents wait for.
    let mut ready: HashMap<String, Vec<usize>> = HashMap::new();
    let mut waits = Waits::default();
    let mut recreated: HashSet<String> = HashSet::new();
    for name in project.services_in_dependency_order() {
        let service = &project.services[&name];
        let mark = plan.steps.len();
        let mut after: Vec<usize> = resources.for_service(project, service);
        for dep in service.depends_on.keys() {
            after.extend(ready.get(dep).into_iter().flatten().copied());
        }
        let (wait_steps, created) = waits.for_service(project, service, &ready, &mut plan);
        after.extend(&wait_steps);
        let mut steps = converge_service(project, service, observed, opts, &after, &mut plan)?;
        steps.extend(restart_for_dependencies(
            service, observed, &recreated, &after, mark, &mut plan,
        ));
        if plan.steps.len() == mark + created {
            // Nothing to do for the service: nobody waits.
            waits.forget_new(mark, &mut plan);
        } else {
            waits.name_dependent(&name, &wait_steps, &mut plan);
        }
        if was_recreated(observed, &name, &plan.steps[mark..]) {
            recreated.insert(name.clone());
        }
        ready.insert(name, steps);
    }
    orphans(project, observed, opts, &mut plan);
    Ok(plan)
}

/// The `depends_on` waits of the plan, one per dependency, condition and
/// `required` (dependents with the same need share it).
#[derive(Default)]
struct Waits {
    steps: HashMap<(String, Condition, bool), usize>,
}

impl Waits {
    /// The wait steps `service` needs (added to the plan when new), and
    /// how many were added. A missing optional dependency is a warning.
    fn for_service(
        &mut self,
        project: &Project,
        service: &ServiceConfig,
        ready: &HashMap<String, Vec<usize>>,
        plan: &mut Plan,
    ) -> (Vec<usize>, usize) {
        let mut steps = Vec::new();
        let mut created = 0;
        for (dep, config) in &service.depends_on {
            if !project.services.contains_key(dep) {
                if !config.required {
                    plan.warnings.push(format!(
                        "{} is missing optional dependency {dep}",
                        service.name
                    ));
                }
                continue;
            }
            let Some(condition) = Condition::parse(&config.condition) else {
                continue;
            };
            let key = (dep.clone(), condition, config.required);
            let step = match self.steps.get(&key) {
                Some(&step) => step,
                None => {
                    created += 1;
                    let after = ready.get(dep).cloned().unwrap_or_default();
                    let action = Action::AwaitDependency {
                        dependency: dep.clone(),
                        condition,
                        required: config.required,
                        dependents: Vec::new(),
                    };
                    let step = plan.push(action, Cause::Follows, after);
                    self.steps.insert(key, step);
                    step
                }
            };
            steps.push(step);
        }
        (steps, created)
    }

    /// Drop the waits added at `mark` and after (the service that needed
    /// them had nothing to do).
    fn forget_new(&mut self, mark: usize, plan: &mut Plan) {
        self.steps.retain(|_, step| *step < mark);
        plan.steps.truncate(mark);
    }

    fn name_dependent(&self, service: &str, steps: &[usize], plan: &mut Plan) {
        for &step in steps {
            if let Action::AwaitDependency { dependents, .. } = &mut plan.steps[step].action {
                dependents.push(service.to_string());
            }
        }
    }
}

/// Whether the steps of a service recreate one of its existing containers.
fn was_recreated(observed: &Observed, service: &str, steps: &[super::action::Step]) -> bool {
    let existing = observed.of_service(service);
    steps.iter().any(|s| {
        matches!(&s.action, Action::CreateContainer { name, .. }
            if existing.iter().any(|c| &c.name == name))
    })
}

/// `depends_on: {DEP: {restart: true}}`: when `up` recreated DEP, the
/// service's running containers that nothing else touches restart after
/// it (docker compose restarts dependents of a recreated dependency).
fn restart_for_dependencies(
    service: &ServiceConfig,
    observed: &Observed,
    recreated: &HashSet<String>,
    after: &[usize],
    mark: usize,
    plan: &mut Plan,
) -> Vec<usize> {
    let Some(dependency) = service
        .depends_on
        .iter()
        .find(|(dep, config)| config.restart && recreated.contains(*dep))
        .map(|(dep, _)| dep.clone())
    else {
        return Vec::new();
    };
    let touched = |name: &str| {
        plan.steps[mark..].iter().any(|s| match &s.action {
            Action::CreateContainer { name: n, .. }
            | Action::StartContainer { name: n }
            | Action::StopContainer { name: n }
            | Action::RemoveContainer { name: n } => n == name,
            _ => false,
        })
    };
    let names: Vec<String> = observed
        .of_service(&service.name)
        .iter()
        .filter(|c| c.status.is_running() && !touched(&c.name))
        .map(|c| c.name.clone())
        .collect();
    let mut ready = Vec::new();
    for name in names {
        let cause = Cause::DependencyRecreated {
            dependency: dependency.clone(),
        };
        let stop = plan.push(
            Action::StopContainer { name: name.clone() },
            cause,
            after.to_vec(),
        );
        ready.push(plan.push(Action::StartContainer { name }, Cause::Follows, vec![stop]));
    }
    ready
}

/// Step indices of the networks and volumes `up` creates, by runtime name.
struct Resources {
    networks: HashMap<String, usize>,
    volumes: HashMap<String, usize>,
}

impl Resources {
    /// The creation steps a service's containers wait for.
    fn for_service(&self, project: &Project, service: &ServiceConfig) -> Vec<usize> {
        let networks = service
            .networks
            .keys()
            .filter_map(|k| project.networks.get(k))
            .filter_map(|n| self.networks.get(&n.name));
        let volumes = service
            .volumes
            .iter()
            .filter(|v| v.kind == "volume")
            .filter_map(|v| project.volumes.get(&v.source))
            .filter_map(|v| self.volumes.get(&v.name));
        networks.chain(volumes).copied().collect()
    }
}

/// Networks and volumes that do not exist yet (external ones are the
/// user's to create; the runtime reports them missing when used).
fn create_resources(project: &Project, observed: &Observed, plan: &mut Plan) -> Resources {
    let mut networks = HashMap::new();
    for net in project.networks.values() {
        if !net.external && !observed.networks.contains(&net.name) {
            let step = plan.push(
                Action::CreateNetwork {
                    name: net.name.clone(),
                },
                Cause::Missing,
                vec![],
            );
            networks.insert(net.name.clone(), step);
        }
    }
    let mut volumes = HashMap::new();
    for vol in project.volumes.values() {
        if !vol.external && !observed.volumes.contains(&vol.name) {
            let step = plan.push(
                Action::CreateVolume {
                    name: vol.name.clone(),
                },
                Cause::Missing,
                vec![],
            );
            volumes.insert(vol.name.clone(), step);
        }
    }
    Resources { networks, volumes }
}

/// One service's steps; returns the steps its dependents wait for.
fn converge_service(
    project: &Project,
    service: &ServiceConfig,
    observed: &Observed,
    opts: &UpOptions,
    after: &[usize],
    plan: &mut Plan,
) -> Result<Vec<usize>, ModelError> {
    let wanted = opts
        .scale
        .get(&service.name)
        .copied()
        .unwrap_or_else(|| service.replicas().max(0) as usize);
    let existing = observed.of_service(&service.name);
    let hash = hash::service_hash(service)?;
    let config = hash::hashed_config(service)?;
    let mut ready = Vec::new();
    // Scale down: the highest numbers go first (docker compose does the same).
    for c in existing.iter().rev().filter(|c| c.number as usize > wanted) {
        let cause = Cause::ScaledDown {
            from: existing.len(),
            to: wanted,
        };
        remove_container(c, cause, plan);
    }
    for c in existing.iter().filter(|c| c.number as usize <= wanted) {
        if let Some(cause) = recreate_cause(c, &hash, &config, opts) {
            let stop = plan.push(
                Action::StopContainer {
                    name: c.name.clone(),
                },
                cause,
                after.to_vec(),
            );
            let remove = plan.push(
                Action::RemoveContainer {
                    name: c.name.clone(),
                },
                Cause::Follows,
                vec![stop],
            );
            ready.push(create_and_start(
                project,
                service,
                c.number,
                Cause::Follows,
                vec![remove],
                opts,
                plan,
            ));
        } else if !c.status.is_running() && !opts.no_start {
            ready.push(plan.push(
                Action::StartContainer {
                    name: c.name.clone(),
                },
                Cause::NotRunning,
                after.to_vec(),
            ));
        }
    }
    let present: Vec<u32> = existing.iter().map(|c| c.number).collect();
    let missing = (1..=wanted as u32).filter(|n| !present.contains(n));
    for number in missing {
        let cause = if existing.is_empty() {
            Cause::Missing
        } else {
            Cause::ScaledUp {
                from: existing.len().min(wanted),
                to: wanted,
            }
        };
        ready.push(create_and_start(
            project,
            service,
            number,
            cause,
            after.to_vec(),
            opts,
            plan,
        ));
    }
    Ok(ready)
}

/// Why an existing container must be recreated, if it must.
fn recreate_cause(
    c: &ObservedContainer,
    hash: &str,
    config: &serde_json::Value,
    opts: &UpOptions,
) -> Option<Cause> {
    if opts.force_recreate || opts.recreate_services.contains(&c.service) {
        return Some(Cause::ForceRecreate);
    }
    if opts.no_recreate || c.config_hash == hash {
        return None;
    }
    let fields = c
        .config
        .as_ref()
        .map(|old| changed_fields(old, config))
        .unwrap_or_default();
    Some(Cause::ConfigChanged { fields })
}

/// Create a replica, then start it unless `--no-start`; returns the last step.
fn create_and_start(
    project: &Project,
    service: &ServiceConfig,
    number: u32,
    cause: Cause,
    after: Vec<usize>,
    opts: &UpOptions,
    plan: &mut Plan,
) -> usize {
    let name = container_name(&project.name, service, number);
    let create = plan.push(
        Action::CreateContainer {
            service: service.name.clone(),
            number,
            name: name.clone(),
        },
        cause,
        after,
    );
    if opts.no_start {
        return create;
    }
    plan.push(
        Action::StartContainer { name },
        Cause::Follows,
        vec![create],
    )
}

/// Stop (when running) then remove a container.
pub(super) fn remove_container(c: &ObservedContainer, cause: Cause, plan: &mut Plan) -> usize {
    if c.status.is_running() {
        let stop = plan.push(
            Action::StopContainer {
                name: c.name.clone(),
            },
            cause,
            vec![],
        );
        plan.push(
            Action::RemoveContainer {
                name: c.name.clone(),
            },
            Cause::Follows,
            vec![stop],
        )
    } else {
        plan.push(
            Action::RemoveContainer {
                name: c.name.clone(),
            },
            cause,
            vec![],
        )
    }
}

/// Containers of services the project no longer has: removed with
/// `--remove-orphans`, else named in a warning (as docker compose does).
fn orphans(project: &Project, observed: &Observed, opts: &UpOptions, plan: &mut Plan) {
    let mut names = Vec::new();
    for c in &observed.containers {
        if project.services.contains_key(&c.service)
            || project.disabled_services.contains_key(&c.service)
        {
            continue;
        }
        if opts.remove_orphans {
            remove_container(c, Cause::Orphan, plan);
        } else {
            names.push(c.name.clone());
        }
    }
    if !names.is_empty() {
        plan.warnings.push(format!(
            "found orphan containers ({}) for this project; run with --remove-orphans to clean them up",
            names.join(", ")
        ));
    }
}
