//! What one batch of changed paths asks for, per service (docker compose's
//! `handleWatchBatch`): services to rebuild, files to sync, services to
//! restart and `sync+exec` commands to run, each path matched against
//! every rule. Also the lines docker compose prints about it.

use super::rules::{Mapping, Rule};
use crate::model::develop::WatchAction;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The actions of one batch.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BatchPlan {
    pub rebuild: BTreeSet<String>,
    /// Per service, the mappings to sync (each once, in path order).
    pub sync: BTreeMap<String, Vec<Mapping>>,
    pub restart: BTreeSet<String>,
    /// Per service, the indexes (into the rules) of the `sync+exec`
    /// rules to run, each once.
    pub exec: BTreeMap<String, BTreeSet<usize>>,
}

impl BatchPlan {
    pub fn is_empty(&self) -> bool {
        self.rebuild.is_empty()
            && self.sync.is_empty()
            && self.restart.is_empty()
            && self.exec.is_empty()
    }
}

/// Match every path of the batch against every rule.
pub fn plan_batch(rules: &[Rule], batch: &[PathBuf]) -> BatchPlan {
    let mut plan = BatchPlan::default();
    let mut synced: BTreeMap<String, BTreeSet<Mapping>> = BTreeMap::new();
    for path in batch {
        for (i, rule) in rules.iter().enumerate() {
            let Some(mapping) = rule.map(path) else {
                continue;
            };
            let service = rule.service.clone();
            match rule.trigger.action {
                WatchAction::Rebuild => {
                    plan.rebuild.insert(service);
                }
                WatchAction::Restart => {
                    plan.restart.insert(service);
                }
                WatchAction::Sync => {
                    synced.entry(service).or_default().insert(mapping);
                }
                WatchAction::SyncRestart => {
                    synced.entry(service.clone()).or_default().insert(mapping);
                    plan.restart.insert(service);
                }
                WatchAction::SyncExec => {
                    synced.entry(service.clone()).or_default().insert(mapping);
                    plan.exec.entry(service).or_default().insert(i);
                }
            }
        }
    }
    plan.sync = synced
        .into_iter()
        .map(|(s, m)| (s, m.into_iter().collect()))
        .collect();
    plan
}

/// Go's `%q` of a string slice, as docker compose prints service lists:
/// `["web" "api"]`.
pub fn quoted_list(names: &BTreeSet<String>) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    format!("[{}]", quoted.join(" "))
}

pub fn sync_message(service: &str, changes: usize) -> String {
    format!("Syncing service {service:?} after {changes} changes were detected")
}

pub fn rebuild_message(services: &BTreeSet<String>) -> String {
    format!(
        "Rebuilding service(s) {} after changes were detected...",
        quoted_list(services)
    )
}
