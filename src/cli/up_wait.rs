//! `up --wait [--wait-timeout N]`: after the plan is applied, wait until
//! every container of the selected services is running, and healthy when
//! it has a healthcheck. Unlike docker compose, a one-shot container that
//! exited 0 counts as done (docker compose fails `--wait` there); one that
//! exited non-zero or turned unhealthy fails at once, naming it.

use super::session::Session;
use compose_runtime::container::Status;
use compose_runtime::project::condition::Condition;
use compose_runtime::project::{ObservedContainer, Op, Step};
use compose_runtime::supervisor::health::{health_of, HealthStatus};
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(200);

/// Why `--wait` failed.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error("container {container} is unhealthy")]
    Unhealthy { container: String },
    #[error("container {container} exited with code {code}")]
    Exited { container: String, code: i32 },
    #[error("timed out after {} waiting for {}", humantime::format_duration(*.timeout), .pending.join(", "))]
    Timeout {
        timeout: Duration,
        /// `name (state)` of each container not ready.
        pending: Vec<String>,
    },
}

/// Where one container stands.
enum Readiness {
    Ready(&'static str),
    Pending(&'static str),
    Failed(WaitError),
}

fn readiness(c: &ObservedContainer) -> Readiness {
    let container = c.record.name.clone();
    match c.status() {
        Status::Stopped => match c.state.as_ref().and_then(|s| s.exit).map_or(0, |e| e.code) {
            0 => Readiness::Ready("Exited"),
            code => Readiness::Failed(WaitError::Exited { container, code }),
        },
        Status::Created => Readiness::Pending("created"),
        Status::Running | Status::Paused => match health_of(c) {
            None => Readiness::Ready("Running"),
            Some(HealthStatus::Healthy) => Readiness::Ready("Healthy"),
            Some(HealthStatus::Starting) => Readiness::Pending("health: starting"),
            Some(HealthStatus::Unhealthy) => Readiness::Failed(WaitError::Unhealthy { container }),
        },
    }
}

/// After `up`: a warning for each optional dependency (`required: false`)
/// whose wait gave up, saying why (docker compose's "optional dependency
/// ... failed to start"), since its wait step reports done regardless.
pub fn warn_failed_optional(session: &Session, steps: &[Step]) -> anyhow::Result<()> {
    let snap = session.snapshot()?;
    for step in steps {
        let Op::AwaitCondition { wait } = &step.op else {
            continue;
        };
        if wait.required {
            continue;
        }
        let containers = session.containers(&snap, std::slice::from_ref(&wait.dependency));
        let why = containers.iter().find_map(|c| match readiness(c) {
            Readiness::Failed(e) => Some(e.to_string()),
            _ if wait.condition == Condition::ServiceHealthy && c.record.healthcheck.is_none() => {
                Some(format!(
                    "container {} has no healthcheck configured",
                    c.record.name
                ))
            }
            _ => None,
        });
        let why = match why {
            Some(why) => why,
            None if containers.is_empty() => "the service has no container".to_string(),
            None => continue,
        };
        crate::ui::warn(&format!(
            "optional dependency {} of {} ({}) failed: {why}",
            wait.dependency, wait.dependent, wait.condition
        ));
    }
    Ok(())
}

/// Wait for the containers of `services`; `timeout` `None` waits as long
/// as it takes. Prints docker compose's `Container x  Healthy` lines.
pub fn wait(
    session: &Session,
    services: &[String],
    timeout: Option<Duration>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let snap = session.snapshot()?;
        let containers = session.containers(&snap, services);
        let mut pending = Vec::new();
        let mut ready = Vec::new();
        for c in &containers {
            match readiness(c) {
                Readiness::Ready(word) => ready.push((c, word)),
                Readiness::Pending(why) => pending.push(format!("{} ({why})", c.record.name)),
                Readiness::Failed(e) => return Err(e.into()),
            }
        }
        if pending.is_empty() {
            for (c, word) in ready {
                eprintln!(
                    " {} Container {}  {word}",
                    console::style("✔").green(),
                    c.record.name
                );
            }
            return Ok(());
        }
        if let Some(timeout) = timeout.filter(|t| started.elapsed() >= *t) {
            return Err(WaitError::Timeout { timeout, pending }.into());
        }
        std::thread::sleep(POLL);
    }
}
