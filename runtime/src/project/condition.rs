//! `depends_on` conditions, as the executor's `AwaitCondition` op: wait
//! until a dependency's containers are healthy (`service_healthy`) or have
//! exited 0 (`service_completed_successfully`), polling the project's state
//! (docker compose's `waitDependencies`: every container must be healthy;
//! one that exits or turns unhealthy fails the wait; any exited container
//! completes the service). An optional dependency (`required: false`) that
//! fails only warns.

use super::{observe, ObservedContainer, ProjectDir, ProjectError};
use crate::container::Status;
use crate::supervisor::health::{health_of, HealthStatus};
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
    /// The pid of the command that waits: when it is gone (Ctrl-C), so is
    /// the point of waiting, and the supervisor stops (docker compose's
    /// wait ends with its context).
    #[serde(default)]
    pub caller: Option<u32>,
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
    #[error("the command waiting for it (pid {0}) is gone")]
    CallerGone(u32),
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
        let containers: Vec<View> = snap
            .containers
            .iter()
            .filter(|c| c.record.service == wait.dependency)
            .map(View::of)
            .collect();
        let mut verdict = verdict(wait.condition, &containers);
        if let Some(pid) = wait.caller.filter(|pid| !alive(*pid)) {
            if verdict == Verdict::Waiting {
                verdict = Verdict::Failed(Unmet::CallerGone(pid));
            }
        }
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
            Verdict::Failed(why) if wait.required || matches!(why, Unmet::CallerGone(_)) => {
                Err(ProjectError::Dependency {
                    dependent: wait.dependent.clone(),
                    dependency: wait.dependency.clone(),
                    condition: wait.condition,
                    why,
                })
            }
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

/// Whether process `pid` still runs (a zombie does not).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

/// What a condition looks at of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
struct View {
    name: String,
    status: Status,
    exit_code: i32,
    has_check: bool,
    health: Option<HealthStatus>,
}

impl View {
    fn of(c: &ObservedContainer) -> View {
        View {
            name: c.record.name.clone(),
            status: c.status(),
            exit_code: c.state.as_ref().and_then(|s| s.exit).map_or(0, |e| e.code),
            has_check: c.record.healthcheck.is_some(),
            health: health_of(c),
        }
    }
}

fn verdict(condition: Condition, containers: &[View]) -> Verdict {
    if containers.is_empty() {
        return Verdict::Failed(Unmet::Missing);
    }
    match condition {
        Condition::ServiceHealthy => healthy(containers),
        Condition::ServiceCompletedSuccessfully => completed(containers),
    }
}

/// Every container healthy; any exited or unhealthy one fails.
fn healthy(containers: &[View]) -> Verdict {
    for c in containers {
        let container = c.name.clone();
        if c.status == Status::Stopped {
            let code = c.exit_code;
            return Verdict::Failed(Unmet::Exited { container, code });
        }
        if !c.has_check {
            return Verdict::Failed(Unmet::NoHealthcheck { container });
        }
        match c.health {
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
fn completed(containers: &[View]) -> Verdict {
    let Some(c) = containers.iter().find(|c| c.status == Status::Stopped) else {
        return Verdict::Waiting;
    };
    match c.exit_code {
        0 => Verdict::Met,
        code => Verdict::Failed(Unmet::Exited {
            container: c.name.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn view(name: &str, status: Status, health: Option<HealthStatus>) -> View {
        View {
            name: name.into(),
            status,
            exit_code: 0,
            has_check: health.is_some(),
            health,
        }
    }

    #[test]
    fn healthy_needs_every_container_healthy_and_fails_on_unhealthy_or_exit() {
        use HealthStatus::*;
        let ok = view("db-1", Status::Running, Some(Healthy));
        let starting = view("db-2", Status::Running, Some(Starting));
        let c = Condition::ServiceHealthy;
        assert_eq!(verdict(c, std::slice::from_ref(&ok)), Verdict::Met);
        assert_eq!(verdict(c, &[ok.clone(), starting]), Verdict::Waiting);
        let sick = view("db-2", Status::Running, Some(Unhealthy));
        assert_eq!(
            verdict(c, &[ok.clone(), sick]).to_string_for_test(),
            "container db-2 is unhealthy"
        );
        let mut gone = view("db-2", Status::Stopped, Some(Starting));
        gone.exit_code = 137;
        assert_eq!(
            verdict(c, &[ok, gone]).to_string_for_test(),
            "container db-2 exited with code 137"
        );
        assert!(verdict(c, &[view("db-1", Status::Running, None)])
            .to_string_for_test()
            .starts_with("container db-1 has no healthcheck configured"));
        assert_eq!(verdict(c, &[]), Verdict::Failed(Unmet::Missing));
    }

    #[test]
    fn completed_waits_for_an_exit_and_names_a_non_zero_code() {
        let c = Condition::ServiceCompletedSuccessfully;
        let running = view("m-1", Status::Running, None);
        assert_eq!(verdict(c, std::slice::from_ref(&running)), Verdict::Waiting);
        let mut done = view("m-1", Status::Stopped, None);
        assert_eq!(verdict(c, &[done.clone()]), Verdict::Met);
        done.exit_code = 3;
        assert_eq!(
            verdict(c, &[running, done]).to_string_for_test(),
            "container m-1 exited with code 3"
        );
    }

    impl Verdict {
        fn to_string_for_test(&self) -> String {
            match self {
                Verdict::Failed(why) => why.to_string(),
                other => format!("{other:?}"),
            }
        }
    }

    #[test]
    fn the_error_names_the_dependency_the_condition_and_why() {
        let e = ProjectError::Dependency {
            dependent: "web".into(),
            dependency: "db".into(),
            condition: Condition::ServiceHealthy,
            why: Unmet::Unhealthy {
                container: "p-db-1".into(),
            },
        };
        assert_eq!(
            e.to_string(),
            "dependency db failed to start: container p-db-1 is unhealthy (web depends on db with condition service_healthy)"
        );
    }
}
