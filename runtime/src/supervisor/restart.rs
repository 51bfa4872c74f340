//! Restart policies (`restart:`, `deploy.restart_policy`), applied by the
//! supervisor when it sees a container's workload exit: Docker's rules
//! (`restartmanager`): `always` and `unless-stopped` restart whatever the
//! exit code, `on-failure[:N]` only after a non-zero code and at most N
//! times; a container stopped by a command is never restarted.

use serde::{Deserialize, Serialize};

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
}
