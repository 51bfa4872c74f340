//! The plan as data: steps with an action, a cause users can read, and the
//! steps each waits for. `Display` is stable, so tests compare whole plans
//! as golden strings and `--dry-run` prints exactly what would be done.

use std::fmt;

/// One thing the executor does; it decides nothing itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    CreateNetwork {
        name: String,
    },
    CreateVolume {
        name: String,
    },
    CreateContainer {
        service: String,
        number: u32,
        name: String,
    },
    StartContainer {
        name: String,
    },
    StopContainer {
        name: String,
    },
    RemoveContainer {
        name: String,
    },
    RemoveNetwork {
        name: String,
    },
    RemoveVolume {
        name: String,
    },
    /// Wait until `dependency` meets a `depends_on` condition before the
    /// services that need it go on.
    AwaitDependency {
        dependency: String,
        condition: Condition,
        /// `required: false`: a failure only warns.
        required: bool,
        /// The services waiting (for the error message).
        dependents: Vec<String>,
    },
}

/// A `depends_on` condition that needs a wait (`service_started` is the
/// dependency order itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
    Healthy,
    CompletedSuccessfully,
}

impl Condition {
    /// Compose's `condition:` word; `None` for `service_started` (and
    /// anything the loader let through that is not a wait).
    pub fn parse(text: &str) -> Option<Condition> {
        match text {
            "service_healthy" => Some(Condition::Healthy),
            "service_completed_successfully" => Some(Condition::CompletedSuccessfully),
            _ => None,
        }
    }
}

/// Why a step is in the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The resource does not exist yet.
    Missing,
    /// The service's configuration differs from the container's; the paths
    /// that changed, when the old configuration is known.
    ConfigChanged {
        fields: Vec<String>,
    },
    /// `--force-recreate`.
    ForceRecreate,
    /// The container exists but is not running.
    NotRunning,
    ScaledUp {
        from: usize,
        to: usize,
    },
    ScaledDown {
        from: usize,
        to: usize,
    },
    /// A container of a service the project no longer has
    /// (`--remove-orphans`).
    Orphan,
    /// Part of taking the project down.
    Down,
    /// `depends_on: {DEP: {restart: true}}` and DEP was recreated.
    DependencyRecreated {
        dependency: String,
    },
    /// The step follows from another one (remove after stop, start after
    /// create, ...).
    Follows,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Missing => f.write_str("missing"),
            Cause::ConfigChanged { fields } if fields.is_empty() => f.write_str("config changed"),
            Cause::ConfigChanged { fields } => {
                const SHOWN: usize = 3;
                write!(
                    f,
                    "config changed: {}",
                    fields[..fields.len().min(SHOWN)].join(", ")
                )?;
                if fields.len() > SHOWN {
                    write!(f, " (+{} more)", fields.len() - SHOWN)?;
                }
                Ok(())
            }
            Cause::ForceRecreate => f.write_str("--force-recreate"),
            Cause::NotRunning => f.write_str("not running"),
            Cause::ScaledUp { from, to } => write!(f, "scaled {from}→{to}"),
            Cause::ScaledDown { from, to } => write!(f, "scaled {from}→{to}"),
            Cause::Orphan => f.write_str("orphan: its service is not in the project"),
            Cause::Down => f.write_str("down"),
            Cause::DependencyRecreated { dependency } => {
                write!(f, "dependency {dependency} recreated, restart: true")
            }
            Cause::Follows => Ok(()),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::CreateNetwork { name } => write!(f, "create network {name}"),
            Action::CreateVolume { name } => write!(f, "create volume {name}"),
            Action::CreateContainer { name, .. } => write!(f, "create container {name}"),
            Action::StartContainer { name } => write!(f, "start container {name}"),
            Action::StopContainer { name } => write!(f, "stop container {name}"),
            Action::RemoveContainer { name } => write!(f, "remove container {name}"),
            Action::RemoveNetwork { name } => write!(f, "remove network {name}"),
            Action::RemoveVolume { name } => write!(f, "remove volume {name}"),
            Action::AwaitDependency {
                dependency,
                condition,
                required,
                dependents,
            } => {
                let what = match condition {
                    Condition::Healthy => "to be healthy",
                    Condition::CompletedSuccessfully => "to complete successfully",
                };
                let optional = if *required { "" } else { ", optional" };
                write!(
                    f,
                    "wait for {dependency} {what} (for {}{optional})",
                    dependents.join(", ")
                )
            }
        }
    }
}

/// A step: its action, its cause, and the steps (by index) it waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub action: Action,
    pub cause: Cause,
    pub after: Vec<usize>,
}

/// An ordered DAG of steps: a step only waits for earlier ones, so running
/// them in order is always valid, and steps with no path between them may
/// run in parallel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Things the user should know that change nothing (orphans left).
    pub warnings: Vec<String>,
}

impl Plan {
    /// Add a step and return its index.
    pub fn push(&mut self, action: Action, cause: Cause, after: Vec<usize>) -> usize {
        debug_assert!(after.iter().all(|&a| a < self.steps.len()));
        let mut after = after;
        after.sort_unstable();
        after.dedup();
        self.steps.push(Step {
            action,
            cause,
            after,
        });
        self.steps.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

impl fmt::Display for Plan {
    /// One line a step, numbered from 1: `3. start container app-db-1
    /// (missing) after 2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            write!(f, "{}. {}", i + 1, step.action)?;
            if step.cause != Cause::Follows {
                write!(f, " ({})", step.cause)?;
            }
            if !step.after.is_empty() {
                let after: Vec<String> = step.after.iter().map(|a| (a + 1).to_string()).collect();
                write!(f, " after {}", after.join(", "))?;
            }
            writeln!(f)?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}
