//! `down`: stop every container of the project, dependents before their
//! dependencies (each level in parallel), remove them, then the networks and,
//! with `-v`, the volumes.

use super::action::{Action, Cause, Plan};
use super::observed::Observed;
use crate::model::Project;
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct DownOptions {
    /// `-v/--volumes`: remove the project's named volumes too.
    pub volumes: bool,
    /// `--remove-orphans`: also containers of services no longer defined.
    pub remove_orphans: bool,
}

/// Plan `down` for `project` over what `observed` has.
pub fn plan_down(project: &Project, observed: &Observed, opts: &DownOptions) -> Plan {
    let mut plan = Plan::default();
    // Stop order: reverse dependency order, so a service stops only after
    // every service that depends on it has stopped.
    let order: Vec<String> = project
        .services_in_dependency_order()
        .into_iter()
        .rev()
        .collect();
    let mut stopped: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut removed = Vec::new();
    for name in &order {
        // Wait for the dependents' stops.
        let after: Vec<usize> = project
            .services
            .iter()
            .filter(|(_, s)| s.depends_on.contains_key(name))
            .flat_map(|(dependent, _)| stopped.get(dependent.as_str()).cloned().unwrap_or_default())
            .collect();
        let mut mine = Vec::new();
        for c in observed.of_service(name) {
            let stop = if c.status.is_running() {
                Some(plan.push(
                    Action::StopContainer {
                        name: c.name.clone(),
                    },
                    Cause::Down,
                    after.clone(),
                ))
            } else {
                None
            };
            let remove_after = stop.map_or_else(|| after.clone(), |s| vec![s]);
            mine.extend(stop);
            removed.push(plan.push(
                Action::RemoveContainer {
                    name: c.name.clone(),
                },
                if stop.is_some() {
                    Cause::Follows
                } else {
                    Cause::Down
                },
                remove_after,
            ));
        }
        stopped.insert(name.as_str(), mine);
    }
    let known =
        |s: &str| project.services.contains_key(s) || project.disabled_services.contains_key(s);
    let orphans: Vec<_> = observed
        .containers
        .iter()
        .filter(|c| !known(&c.service))
        .collect();
    if opts.remove_orphans {
        for c in orphans {
            removed.push(super::up::remove_container(c, Cause::Orphan, &mut plan));
        }
    } else if !orphans.is_empty() {
        let names: Vec<_> = orphans.iter().map(|c| c.name.as_str()).collect();
        plan.warnings.push(format!(
            "found orphan containers ({}) for this project; run with --remove-orphans to clean them up",
            names.join(", ")
        ));
    }
    for net in project.networks.values() {
        if !net.external && observed.networks.contains(&net.name) {
            plan.push(
                Action::RemoveNetwork {
                    name: net.name.clone(),
                },
                Cause::Down,
                removed.clone(),
            );
        }
    }
    if opts.volumes {
        for vol in project.volumes.values() {
            if !vol.external && observed.volumes.contains(&vol.name) {
                plan.push(
                    Action::RemoveVolume {
                        name: vol.name.clone(),
                    },
                    Cause::Down,
                    removed.clone(),
                );
            }
        }
    }
    plan
}
