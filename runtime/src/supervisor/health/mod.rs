//! Healthchecks: the resolved check a container carries in its record
//! ([`HealthCheck`], from Compose's `healthcheck:` over the image's
//! `HEALTHCHECK`), the status file `health.json` in the container's
//! directory (docker inspect's `State.Health`: status, failing streak, the
//! last five probes), Docker's rules for folding a probe result into it,
//! and [`health_status`] for everyone who needs to know (depends_on
//! conditions, `ps`, `up --wait`, the port proxies). The supervisor's
//! scheduler that runs the probes is in `scheduler`.

mod check;
pub mod scheduler;

pub use check::{HealthCheck, HealthOverrides, HealthTest};

use crate::container::state::State;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The status file in a container's directory.
pub const HEALTH_FILE: &str = "health.json";
/// Docker keeps the output of the last five probes (`maxLogEntries`).
pub const MAX_LOG_ENTRIES: usize = 5;
/// Docker keeps at most 4 KiB of a probe's output (`maxOutputLen`).
pub const MAX_OUTPUT: usize = 4096;

/// A container's health, as `docker ps` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Starting,
    Healthy,
    Unhealthy,
}

impl std::fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HealthStatus::Starting => "starting",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        })
    }
}

/// One probe, as docker inspect's `Health.Log` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProbeResult {
    /// RFC 3339 times.
    pub start: String,
    pub end: String,
    /// -1: the probe could not run or exceeded its timeout (Docker's).
    pub exit_code: i32,
    pub output: String,
}

/// `health.json`: docker inspect's `State.Health`, plus the start of the
/// container it belongs to (a restarted container starts over).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    pub status: HealthStatus,
    pub failing_streak: u32,
    pub log: Vec<ProbeResult>,
    /// `state.json`'s `started_at` of the run this health is about.
    pub started_at: String,
}

impl Health {
    /// A run that just started: `starting`, no probe yet.
    pub fn starting(started_at: &str) -> Health {
        Health {
            status: HealthStatus::Starting,
            failing_streak: 0,
            log: Vec::new(),
            started_at: started_at.to_string(),
        }
    }

    /// Fold a probe in (Docker's `handleProbeResult`): a success makes the
    /// container healthy; a failure counts towards `retries` consecutive
    /// failures, except while `in_start_period` and not yet healthy, when
    /// it does not count. Returns the new status when it changed.
    pub fn record(
        &mut self,
        result: ProbeResult,
        retries: u32,
        in_start_period: bool,
    ) -> Option<HealthStatus> {
        let before = self.status;
        if result.exit_code == 0 {
            self.failing_streak = 0;
            self.status = HealthStatus::Healthy;
        } else if !(in_start_period && self.status == HealthStatus::Starting) {
            self.failing_streak += 1;
            if self.failing_streak >= retries {
                self.status = HealthStatus::Unhealthy;
            }
        }
        self.log.push(result);
        let excess = self.log.len().saturating_sub(MAX_LOG_ENTRIES);
        self.log.drain(..excess);
        (self.status != before).then_some(self.status)
    }

    pub fn read(container_dir: &Path) -> Option<Health> {
        let bytes = std::fs::read(container_dir.join(HEALTH_FILE)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Write via a temp file and rename: readers never see half a file.
    pub fn write(&self, container_dir: &Path) -> std::io::Result<()> {
        let tmp = container_dir.join(".health.json.tmp");
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, json)?;
        std::fs::rename(&tmp, container_dir.join(HEALTH_FILE))
    }
}

/// The health of the container in `container_dir`: `None` when it has no
/// healthcheck (or never ran). A running container whose current run has
/// not been probed yet is `starting`, whatever an earlier run ended with.
pub fn health_status(container_dir: &Path) -> Option<HealthStatus> {
    let record = crate::project::ContainerRecord::read(container_dir).ok()?;
    record.healthcheck.as_ref()?;
    let state: State = std::fs::read(container_dir.join(crate::container::state::STATE_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())?;
    status_of(&state, Health::read(container_dir))
}

/// [`health_status`] of a container already observed (no second read of
/// its record and state).
pub fn health_of(c: &crate::project::ObservedContainer) -> Option<HealthStatus> {
    c.record.healthcheck.as_ref()?;
    status_of(c.state.as_ref()?, Health::read(&c.dir))
}

/// The health of a run in `state`, given the last `health.json`.
pub fn status_of(state: &State, health: Option<Health>) -> Option<HealthStatus> {
    let started_at = state.started_at.as_deref()?;
    let current = health.filter(|h| h.started_at == started_at);
    match state.status {
        crate::container::Status::Running | crate::container::Status::Paused => {
            Some(current.map_or(HealthStatus::Starting, |h| h.status))
        }
        _ => current.map(|h| h.status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(code: i32) -> ProbeResult {
        ProbeResult {
            start: "t0".into(),
            end: "t1".into(),
            exit_code: code,
            output: format!("exit {code}\n"),
        }
    }

    #[test]
    fn a_success_makes_healthy_and_retries_failures_make_unhealthy() {
        let mut h = Health::starting("s");
        assert_eq!(h.record(probe(1), 3, false), None);
        assert_eq!(h.failing_streak, 1);
        assert_eq!(h.record(probe(0), 3, false), Some(HealthStatus::Healthy));
        assert_eq!(h.failing_streak, 0);
        assert_eq!(h.record(probe(1), 3, false), None);
        assert_eq!(h.record(probe(2), 3, false), None);
        assert_eq!(h.record(probe(1), 3, false), Some(HealthStatus::Unhealthy));
        assert_eq!(h.record(probe(1), 3, false), None, "no change, no event");
        assert_eq!(h.log.len(), MAX_LOG_ENTRIES);
        assert_eq!(h.log[0].output, "exit 0\n", "the oldest probes go first");
    }

    #[test]
    fn failures_in_the_start_period_do_not_count_until_healthy() {
        let mut h = Health::starting("s");
        for _ in 0..10 {
            assert_eq!(h.record(probe(1), 1, true), None);
        }
        assert_eq!((h.status, h.failing_streak), (HealthStatus::Starting, 0));
        h.record(probe(0), 1, true);
        assert_eq!(
            h.record(probe(1), 1, true),
            Some(HealthStatus::Unhealthy),
            "once healthy, a failure counts even in the start period"
        );
    }

    #[test]
    fn a_new_run_starts_over() {
        let mut state = State::created("x");
        state.status = crate::container::Status::Running;
        state.started_at = Some("run2".into());
        let mut old = Health::starting("run1");
        old.status = HealthStatus::Unhealthy;
        assert_eq!(
            status_of(&state, Some(old.clone())),
            Some(HealthStatus::Starting)
        );
        old.started_at = "run2".into();
        assert_eq!(status_of(&state, Some(old)), Some(HealthStatus::Unhealthy));
        state.status = crate::container::Status::Stopped;
        assert_eq!(status_of(&state, None), None);
    }
}
