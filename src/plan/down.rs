//! `down`: stop every container of the project, dependents before their
//! dependencies (each level in parallel), remove them, then the networks and,
//! with `-v`, the volumes. [`stop_waits`] gives `stop` the same order.
//!
//! The order is docker compose's `InReverseDependencyOrder`: a service
//! stops once every service that depends on it, directly or through
//! others, has stopped; services with no such link stop at once. So the
//! dependency levels stop one after the other, dependents first, and the
//! services of one level together.

use super::action::{Action, Cause, Plan};
use super::observed::Observed;
use crate::model::Project;
use std::collections::{BTreeSet, HashMap};

/// Every service that depends on `service`, directly or through other
/// services (`depends_on`, which the loader also fills from `links`,
/// `volumes_from` and `network_mode: service:`).
pub fn dependents_of(project: &Project, service: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut todo = vec![service.to_string()];
    while let Some(current) = todo.pop() {
        for (name, s) in &project.services {
            if s.depends_on.contains_key(&current) && found.insert(name.clone()) {
                todo.push(name.clone());
            }
        }
    }
    found.remove(service);
    found
}

/// For containers to stop, given by service, the indices each one's stop
/// waits for: the stops of containers of its (transitive) dependents.
pub fn stop_waits(project: &Project, services: &[&str]) -> Vec<Vec<usize>> {
    let mut cache: HashMap<&str, BTreeSet<String>> = HashMap::new();
    services
        .iter()
        .map(|service| {
            let dependents = cache
                .entry(service)
                .or_insert_with(|| dependents_of(project, service));
            services
                .iter()
                .enumerate()
                .filter(|(_, other)| dependents.contains(**other))
                .map(|(i, _)| i)
                .collect()
        })
        .collect()
}

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
    let mut stopped: HashMap<String, Vec<usize>> = HashMap::new();
    let mut removed = Vec::new();
    for name in &order {
        // Wait for the stops of every service depending on this one, even
        // through a service with nothing to stop.
        let mut after: Vec<usize> = dependents_of(project, name)
            .iter()
            .flat_map(|dependent| stopped.get(dependent).cloned().unwrap_or_default())
            .collect();
        after.sort_unstable();
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
        stopped.insert(name.clone(), mine);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::service::ServiceDependency;
    use crate::model::ServiceConfig;

    fn project(edges: &[(&str, &[&str])]) -> Project {
        let mut p = Project::default();
        for (name, deps) in edges {
            let mut s = ServiceConfig {
                name: name.to_string(),
                ..Default::default()
            };
            for d in *deps {
                s.depends_on
                    .insert(d.to_string(), ServiceDependency::default());
            }
            p.services.insert(name.to_string(), s);
        }
        p
    }

    #[test]
    fn a_stop_waits_for_every_transitive_dependent_only() {
        // web -> api -> db; admin -> db; cache alone.
        let p = project(&[
            ("web", &["api"]),
            ("api", &["db"]),
            ("admin", &["db"]),
            ("db", &[]),
            ("cache", &[]),
        ]);
        let services = ["db", "web", "api", "db", "cache", "admin"];
        assert_eq!(
            stop_waits(&p, &services),
            [
                vec![1, 2, 5],
                vec![],
                vec![1],
                vec![1, 2, 5],
                vec![],
                vec![]
            ]
        );
        // Through a service with nothing to stop: db still waits for web.
        assert_eq!(stop_waits(&p, &["db", "web"]), [vec![1], vec![]]);
    }
}
