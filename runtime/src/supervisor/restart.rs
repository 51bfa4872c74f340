//! Restart policies (`restart:`, `deploy.restart_policy`), applied by the
//! supervisor when it sees a container's workload exit: Docker's rules
//! (`restartmanager`): `always` and `unless-stopped` restart whatever the
//! exit code, `on-failure[:N]` only after a non-zero code and at most N
//! times; a container stopped by a command is never restarted.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Docker's restart backoff: 100 ms, doubled per restart, at most a minute.
fn backoff(restarts: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << restarts.min(10))).min(Duration::from_secs(60))
}

/// Restarts done and due, per container.
#[derive(Debug, Default)]
pub struct Restarts {
    counts: HashMap<String, u32>,
    due: HashMap<String, Instant>,
}

impl Restarts {
    /// A command started or stopped the container: its count starts over
    /// and nothing is due.
    pub fn forget(&mut self, name: &str) {
        self.counts.remove(name);
        self.due.remove(name);
    }

    /// The workload of `name` exited with `code` at `now`: schedule a
    /// restart if `policy` wants one; returns whether it did.
    pub fn died(&mut self, name: &str, policy: RestartPolicy, code: i32, now: Instant) -> bool {
        let count = self.counts.get(name).copied().unwrap_or(0);
        if !policy.should_restart(code, count) {
            return false;
        }
        self.due.insert(name.to_string(), now + backoff(count));
        true
    }

    /// The containers whose restart is due at `now` (counted as restarted).
    pub fn take_due(&mut self, now: Instant) -> Vec<String> {
        let mut names: Vec<String> = self
            .due
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(n, _)| n.clone())
            .collect();
        names.sort();
        for name in &names {
            self.due.remove(name);
            *self.counts.entry(name.clone()).or_default() += 1;
        }
        names
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "policy", rename_all = "kebab-case")]
pub enum RestartPolicy {
    #[default]
    No,
    Always,
    UnlessStopped,
    OnFailure {
        max_retries: Option<u32>,
    },
}

impl RestartPolicy {
    /// Read Compose's `restart:` text (`no`, `always`, `unless-stopped`,
    /// `on-failure[:N]`); `None` for anything else.
    pub fn parse(text: &str) -> Option<RestartPolicy> {
        Some(match text {
            "" | "no" => RestartPolicy::No,
            "always" => RestartPolicy::Always,
            "unless-stopped" => RestartPolicy::UnlessStopped,
            "on-failure" => RestartPolicy::OnFailure { max_retries: None },
            other => {
                let n = other.strip_prefix("on-failure:")?.parse().ok()?;
                RestartPolicy::OnFailure {
                    max_retries: Some(n),
                }
            }
        })
    }

    /// Whether a container that exited with `code`, after `restarts`
    /// restarts already, starts again.
    pub fn should_restart(self, code: i32, restarts: u32) -> bool {
        match self {
            RestartPolicy::No => false,
            RestartPolicy::Always | RestartPolicy::UnlessStopped => true,
            RestartPolicy::OnFailure { max_retries } => {
                code != 0 && max_retries.is_none_or(|max| restarts < max)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_follow_dockers_rules() {
        let on_failure_2 = RestartPolicy::parse("on-failure:2").unwrap();
        assert!(on_failure_2.should_restart(1, 1));
        assert!(!on_failure_2.should_restart(1, 2));
        assert!(!on_failure_2.should_restart(0, 0));
        assert!(RestartPolicy::parse("always")
            .unwrap()
            .should_restart(0, 99));
        assert!(!RestartPolicy::parse("no").unwrap().should_restart(1, 0));
        assert_eq!(RestartPolicy::parse("sometimes"), None);
    }

    #[test]
    fn restarts_back_off_and_stop_at_the_limit() {
        let policy = RestartPolicy::parse("on-failure:2").unwrap();
        let mut r = Restarts::default();
        let t0 = Instant::now();
        assert!(r.died("a", policy, 1, t0));
        assert!(r.take_due(t0).is_empty(), "not before the backoff");
        assert_eq!(r.take_due(t0 + Duration::from_millis(100)), ["a"]);
        assert!(r.died("a", policy, 1, t0));
        assert!(
            r.take_due(t0 + Duration::from_millis(150)).is_empty(),
            "doubled"
        );
        assert_eq!(r.take_due(t0 + Duration::from_millis(200)), ["a"]);
        assert!(!r.died("a", policy, 1, t0), "two restarts were allowed");
        r.forget("a");
        assert!(r.died("a", policy, 1, t0));
        assert_eq!(backoff(30), Duration::from_secs(60));
    }
}
