//! Lifecycle hooks (Compose `post_start`, `pre_stop`): commands exec'd in
//! the running container right after it started or right before its stop
//! signal, as docker compose runs them. A hook that exits non-zero fails
//! the step with the tail of its output (stderr preferred), as docker
//! compose reports it. A `privileged` hook runs with every capability
//! whatever the container's set, as docker compose execs it with
//! `Privileged` (`docker exec --privileged`). `pre_start` hooks are
//! containers of their own: `super::pre_start`.

use super::observe::ObservedContainer;
use super::{ContainerRecord, ProjectError};
use crate::container::{Container, InitProgram};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How many lines of a failing hook's output the error keeps.
const TAIL_LINES: usize = 10;

/// One hook.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hook {
    pub command: Vec<String>,
    /// Empty: the container's user.
    #[serde(default)]
    pub user: String,
    /// Empty: the container's working directory.
    #[serde(default)]
    pub working_dir: String,
    /// `KEY=value`, over the container's environment.
    #[serde(default)]
    pub environment: Vec<String>,
    /// Every capability, no seccomp filter.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub privileged: bool,
}

/// A container's hooks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hooks {
    #[serde(default)]
    pub post_start: Vec<Hook>,
    #[serde(default)]
    pub pre_stop: Vec<Hook>,
    /// One-shot containers run before the container starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_start: Vec<super::pre_start::PreStartHook>,
}

impl Hooks {
    pub fn is_empty(&self) -> bool {
        self.post_start.is_empty() && self.pre_stop.is_empty() && self.pre_start.is_empty()
    }
}

/// Run `hooks` (named `kind` in errors) one after the other in the
/// container whose state is in `dir`.
pub fn run(
    record: &ContainerRecord,
    dir: &Path,
    kind: &'static str,
    hooks: &[Hook],
    init: &InitProgram,
) -> Result<(), ProjectError> {
    if hooks.is_empty() {
        return Ok(());
    }
    let container = Container::load(dir)?;
    let observed = ObservedContainer {
        record: record.clone(),
        state: None,
        dir: dir.to_path_buf(),
    };
    let base = observed.running_process();
    for hook in hooks {
        let mut process = base.clone();
        process.args = hook.command.clone();
        process.tty = false;
        process.privileged = hook.privileged;
        if !hook.user.is_empty() {
            process.user = hook.user.clone();
            process.additional_groups.clear();
        }
        if !hook.working_dir.is_empty() {
            process.cwd = hook.working_dir.clone();
        }
        for kv in &hook.environment {
            let key = kv.split('=').next().unwrap_or(kv);
            process.env.retain(|e| e.split('=').next() != Some(key));
            process.env.push(kv.clone());
        }
        let out = container
            .exec(&process, init)?
            .output()
            .map_err(ProjectError::io("run a hook in", dir))?;
        if !out.status.success() {
            let code = out.status.code().unwrap_or_else(|| {
                128 + std::os::unix::process::ExitStatusExt::signal(&out.status).unwrap_or(0)
            });
            let output = if out.stderr.iter().any(|b| !b.is_ascii_whitespace()) {
                tail(&out.stderr)
            } else {
                tail(&out.stdout)
            };
            return Err(ProjectError::Hook {
                container: record.name.clone(),
                kind,
                code,
                output,
            });
        }
    }
    Ok(())
}

/// The last lines of `bytes`, trimmed.
pub(super) fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tail_keeps_the_last_lines() {
        let text: String = (1..=15).map(|n| format!("line {n}\n")).collect();
        let tail = super::tail(text.as_bytes());
        assert!(tail.starts_with("line 6\n"), "{tail}");
        assert!(tail.ends_with("line 15"), "{tail}");
        assert_eq!(super::tail(b"  \n"), "");
    }
}
