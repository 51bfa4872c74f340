//! The watch rules of the selected services: which services are watched,
//! each `develop.watch` trigger with its matchers, and the container path
//! a changed host path maps to (docker compose's `watchRule.Matches`).

use super::matcher::{ephemeral, Matcher};
use super::WatchError;
use crate::model::develop::{Trigger, WatchAction};
use crate::model::{Project, ServiceConfig};
use compose_runtime::build::context::PatternSet;
use std::path::{Path, PathBuf};

/// One trigger of one service, ready to match paths.
#[derive(Debug, Clone)]
pub struct Rule {
    pub service: String,
    pub trigger: Trigger,
    include: Option<Matcher>,
    /// The build context's ignore file, the editors' files and the
    /// trigger's `ignore`: any match skips the path.
    ignore: Vec<Matcher>,
}

/// A changed host path and where it lands in the container (`None` for
/// actions that copy nothing).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mapping {
    pub host: PathBuf,
    pub container: Option<String>,
}

/// The services to watch: those of `project` (the selected ones and their
/// dependencies) with a `develop.watch`. A service named on the command
/// line without one is an error naming it; none at all is docker
/// compose's error.
pub fn watched_services<'a>(
    project: &'a Project,
    named: &[String],
) -> Result<Vec<&'a ServiceConfig>, WatchError> {
    for name in named {
        let configured = project.services.get(name).is_some_and(has_watch);
        if !configured {
            return Err(WatchError::NotConfigured {
                service: name.clone(),
            });
        }
    }
    let services: Vec<&ServiceConfig> =
        project.services.values().filter(|s| has_watch(s)).collect();
    if services.is_empty() {
        return Err(WatchError::NoneConfigured);
    }
    for service in &services {
        check(service)?;
    }
    Ok(services)
}

fn has_watch(service: &ServiceConfig) -> bool {
    service
        .develop
        .as_ref()
        .is_some_and(|d| !d.watch.is_empty())
}

/// docker compose refuses a rebuild without a build section, and a
/// `sync+exec` without a command.
fn check(service: &ServiceConfig) -> Result<(), WatchError> {
    for trigger in triggers(service) {
        match trigger.action {
            WatchAction::Rebuild if service.build.is_none() => {
                return Err(WatchError::RebuildWithoutBuild {
                    service: service.name.clone(),
                })
            }
            WatchAction::SyncExec if trigger.exec.command.as_ref().is_none_or(|c| c.is_empty()) => {
                return Err(WatchError::ExecWithoutCommand {
                    service: service.name.clone(),
                })
            }
            _ => {}
        }
    }
    Ok(())
}

fn triggers(service: &ServiceConfig) -> &[Trigger] {
    service.develop.as_ref().map_or(&[], |d| &d.watch)
}

/// The build context of `service`, where its `.dockerignore` is read.
pub fn build_context(service: &ServiceConfig) -> Option<PathBuf> {
    let build = service.build.as_ref()?;
    let context = if build.context.is_empty() {
        "."
    } else {
        &build.context
    };
    Some(PathBuf::from(context))
}

/// The rules of `service`; `dockerignore` is its build context's ignore
/// patterns (docker compose applies them to every trigger of a service
/// that has a build section).
pub fn rules_for(
    service: &ServiceConfig,
    dockerignore: Option<PatternSet>,
) -> Result<Vec<Rule>, WatchError> {
    let mut base = vec![ephemeral()];
    if let (Some(context), Some(set)) = (build_context(service), dockerignore) {
        base.push(Matcher::from_set(&context, set));
    }
    let mut rules = Vec::new();
    for (i, trigger) in triggers(service).iter().enumerate() {
        let root = Path::new(&trigger.path);
        let pattern = |source| WatchError::Pattern {
            service: service.name.clone(),
            index: i,
            source,
        };
        let mut ignore = base.clone();
        ignore.push(Matcher::new(root, &trigger.ignore).map_err(pattern)?);
        let include = if trigger.include.is_empty() {
            None
        } else {
            Some(Matcher::new(root, &trigger.include).map_err(pattern)?)
        };
        rules.push(Rule {
            service: service.name.clone(),
            trigger: trigger.clone(),
            include,
            ignore,
        });
    }
    Ok(rules)
}

impl Rule {
    /// Whether the rule copies files (docker compose's `isSync`: the
    /// actions an `initial_sync` and the bind-mount check apply to).
    pub fn is_sync(&self) -> bool {
        matches!(
            self.trigger.action,
            WatchAction::Sync | WatchAction::SyncRestart
        )
    }

    /// Whether an ignore rule skips `path` (for the initial sync's walk).
    pub fn ignores(&self, path: &Path) -> bool {
        self.ignore.iter().any(|m| m.matches(path))
    }

    /// The mapping of `path` when the rule takes it: under the rule's
    /// path, included, not ignored.
    pub fn map(&self, path: &Path) -> Option<Mapping> {
        let root = Path::new(&self.trigger.path);
        let rel = path.strip_prefix(root).ok()?;
        if let Some(include) = &self.include {
            if !include.matches(path) {
                return None;
            }
        }
        if self.ignores(path) {
            return None;
        }
        let container = (!self.trigger.target.is_empty()).then(|| join(&self.trigger.target, rel));
        Some(Mapping {
            host: path.to_path_buf(),
            container,
        })
    }
}

/// `target` joined with the relative host path, slash-separated.
fn join(target: &str, rel: &Path) -> String {
    let rel = rel.to_string_lossy();
    if rel.is_empty() {
        return target.to_string();
    }
    format!("{}/{rel}", target.trim_end_matches('/'))
}

/// Whether a sync trigger's `path` lies in one of the service's bind
/// mounts: docker compose then leaves it unwatched, with a warning, since
/// the container already sees the host's files.
pub fn bind_mounted(path: &str, service: &ServiceConfig) -> bool {
    service
        .volumes
        .iter()
        .filter(|v| v.kind == "bind" && !v.source.is_empty())
        .any(|v| Path::new(path).starts_with(&v.source))
}
