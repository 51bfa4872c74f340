//! `depends_on` conditions, as the executor's `AwaitCondition` op: wait
//! until a dependency's containers are healthy (`service_healthy`) or have
//! exited 0 (`service_completed_successfully`), polling the project's state
//! (docker compose's `waitDependencies`: every container must be healthy;
//! one that exits or turns unhealthy fails the wait; any exited container
//! completes the service). An optional dependency (`required: false`) that
//! fails only warns.

use super::{observe, ObservedContainer, ProjectDir, ProjectError};
use crate::container::Status;
use crate::supervisor::health::{health_status, HealthStatus};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// How often the dependency's state is looked at (docker compose: 500 ms).
const POLL: Duration = Duration::from_millis(200);

/// What a dependent waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    ServiceHealthy,
    ServiceCompletedSuccessfully,
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Condition::ServiceHealthy => "service_healthy",
            Condition::ServiceCompletedSuccessfully => "service_completed_successfully",
        })
    }
}

/// The wait of one dependent for one dependency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Await {
    /// The service that waits.
    pub dependent: String,
    /// The service waited for.
    pub dependency: String,
    pub condition: Condition,
    /// `required: false`: a failure only warns.
    pub required: bool,
    /// `None`: as long as it takes (docker compose has no limit either).
    pub timeout: Option<Duration>,
}

/// Why a condition cannot be met.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unmet {
    #[error("container {container} is unhealthy")]
    Unhealthy { container: String },
    #[error("container {container} exited with code {code}")]
    Exited { container: String, code: i32 },
    #[error("container {container} has no healthcheck configured (add a `healthcheck:` to the service, or use `condition: service_started`)")]
    NoHealthcheck { container: String },
    #[error("the service has no container")]
    Missing,
    #[error("the condition was still not met after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
}

/// Where a wait stands.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Waiting,
    Met,
    Failed(Unmet),
}

/// Wait until `wait` is met or fails. An optional dependency that fails
/// is reported on stderr (the supervisor's log) and the wait succeeds.
pub fn await_condition(project: &ProjectDir, wait: &Await) -> Result<(), ProjectError> {
    let started = Instant::now();
    loop {
        let snap = observe(project)?;
        let containers: Vec<&ObservedContainer> = snap
            .containers
            .iter()
            .filter(|c| c.record.service == wait.dependency)
            .collect();
        let mut verdict = verdict(wait.condition, &containers);
        if verdict == Verdict::Waiting {
            match wait.timeout {
                Some(limit) if started.elapsed() >= limit => {
                    verdict = Verdict::Failed(Unmet::Timeout(limit));
                }
                _ => {
                    std::thread::sleep(POLL);
                    continue;
                }
            }
        }
        return match verdict {
            Verdict::Failed(why) if wait.required => Err(ProjectError::Dependency {
                dependent: wait.dependent.clone(),
                dependency: wait.dependency.clone(),
                condition: wait.condition,
                why,
            }),
            Verdict::Failed(why) => {
                eprintln!(
                    "warning: optional dependency {} of {} ({}): {why}",
                    wait.dependency, wait.dependent, wait.condition
                );
                Ok(())
            }
            _ => Ok(()),
        };
    }
}

fn verdict(condition: Condition, containers: &[&ObservedContainer]) -> Verdict {
    if containers.is_empty() {
        return Verdict::Failed(Unmet::Missing);
    }
    match condition {
        Condition::ServiceHealthy => healthy(containers),
        Condition::ServiceCompletedSuccessfully => completed(containers),
    }
}

fn exit_code(c: &ObservedContainer) -> i32 {
    c.state.as_ref().and_then(|s| s.exit).map_or(0, |e| e.code)
}

/// Every container healthy; any exited or unhealthy one fails.
fn healthy(containers: &[&ObservedContainer]) -> Verdict {
    for c in containers {
        let container = c.record.name.clone();
        if c.status() == Status::Stopped {
            let code = exit_code(c);
            return Verdict::Failed(Unmet::Exited { container, code });
        }
        if c.record.healthcheck.is_none() {
            return Verdict::Failed(Unmet::NoHealthcheck { container });
        }
        match health_status(&c.dir) {
            Some(HealthStatus::Healthy) => {}
            Some(HealthStatus::Unhealthy) => {
                return Verdict::Failed(Unmet::Unhealthy { container });
            }
            Some(HealthStatus::Starting) | None => return Verdict::Waiting,
        }
    }
    Verdict::Met
}

/// The first exited container decides: code 0 completes the service.
fn completed(containers: &[&ObservedContainer]) -> Verdict {
    let Some(c) = containers.iter().find(|c| c.status() == Status::Stopped) else {
        return Verdict::Waiting;
    };
    match exit_code(c) {
        0 => Verdict::Met,
        code => Verdict::Failed(Unmet::Exited {
            container: c.record.name.clone(),
            code,
        }),
    }
}

/// The first words of the error: what failed.
pub fn headline(condition: Condition) -> &'static str {
    match condition {
        Condition::ServiceHealthy => "failed to start",
        Condition::ServiceCompletedSuccessfully => "did not complete successfully",
    }
}
