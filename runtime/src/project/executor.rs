//! Performing a plan: steps run as soon as the steps they wait for are
//! done, independent ones in parallel (one thread each). The executor
//! decides nothing (docker compose's executor): on the first failure it
//! starts no further step, lets running ones finish, removes a container
//! this run created whose start failed, and reports the failed step and
//! the steps left undone.

use super::ops::{self, CreateRequest};
use super::{ProjectDir, ProjectError, Services};
use crate::container::InitProgram;
use std::fmt;
use std::sync::mpsc;
use std::time::Duration;

/// One operation on the project.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    CreateContainer {
        request: Box<CreateRequest>,
    },
    StartContainer {
        name: String,
    },
    StopContainer {
        name: String,
        timeout: Option<Duration>,
    },
    /// `volumes`: also remove the container's anonymous volumes.
    RemoveContainer {
        name: String,
        volumes: bool,
    },
    CreateVolume {
        name: String,
    },
    RemoveVolume {
        name: String,
    },
    /// Create the network (or check that an external one exists).
    CreateNetwork {
        spec: Box<crate::network::NetworkSpec>,
        #[serde(default)]
        external: bool,
    },
    RemoveNetwork {
        name: String,
    },
    /// Wait for a `depends_on` condition of a dependency.
    AwaitCondition {
        wait: super::condition::Await,
    },
}

impl Op {
    /// What the op acts on, as progress lines name it: ("Container", name).
    pub fn subject(&self) -> (&'static str, &str) {
        match self {
            Op::CreateContainer { request } => ("Container", &request.record.name),
            Op::StartContainer { name }
            | Op::StopContainer { name, .. }
            | Op::RemoveContainer { name, .. } => ("Container", name),
            Op::CreateVolume { name } | Op::RemoveVolume { name } => ("Volume", name),
            Op::CreateNetwork { spec, .. } => ("Network", &spec.name),
            Op::RemoveNetwork { name } => ("Network", name),
            Op::AwaitCondition { wait } => ("Service", &wait.dependency),
        }
    }

    /// The progress verbs, docker compose's: ("Creating", "Created").
    pub fn verbs(&self) -> (&'static str, &'static str) {
        match self {
            Op::CreateContainer { .. } | Op::CreateVolume { .. } | Op::CreateNetwork { .. } => {
                ("Creating", "Created")
            }
            Op::StartContainer { .. } => ("Starting", "Started"),
            Op::StopContainer { .. } => ("Stopping", "Stopped"),
            Op::RemoveContainer { .. } | Op::RemoveVolume { .. } | Op::RemoveNetwork { .. } => {
                ("Removing", "Removed")
            }
            // docker compose's "Waiting" then "Healthy" / "Exited".
            Op::AwaitCondition { wait } => match wait.condition {
                super::condition::Condition::ServiceHealthy => ("Waiting", "Healthy"),
                super::condition::Condition::ServiceCompletedSuccessfully => ("Waiting", "Exited"),
            },
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, name) = self.subject();
        let verb = match self {
            Op::CreateContainer { .. } | Op::CreateVolume { .. } | Op::CreateNetwork { .. } => {
                "create"
            }
            Op::StartContainer { .. } => "start",
            Op::StopContainer { .. } => "stop",
            Op::AwaitCondition { wait } => {
                return write!(
                    f,
                    "wait for service {} ({})",
                    wait.dependency, wait.condition
                )
            }
            _ => "remove",
        };
        write!(f, "{verb} {} {name}", kind.to_ascii_lowercase())
    }
}

/// An op and the steps (indices) it waits for.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Step {
    pub op: Op,
    pub after: Vec<usize>,
}

/// What the executor reports as it goes.
#[derive(Debug)]
pub enum Progress<'a> {
    Begin,
    Done,
    Failed(&'a ProjectError),
}

/// What a failed step means for the others.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// Bringing up: start no further step (docker compose cancels).
    #[default]
    Stop,
    /// Tearing down: every step that does not wait for a failed one still
    /// runs, and every failure is reported (netavark's teardown).
    Continue,
}

/// The first failed step, the other failures, and the steps not done.
#[derive(Debug, thiserror::Error)]
#[error("{op}: {source}{}{}", also(others), undone(skipped))]
pub struct ExecuteError {
    pub step: usize,
    pub op: String,
    #[source]
    pub source: Box<ProjectError>,
    /// `op: error` of every later failure (with `OnFailure::Continue`).
    pub others: Vec<String>,
    pub skipped: Vec<String>,
}

fn also(others: &[String]) -> String {
    if others.is_empty() {
        String::new()
    } else {
        format!("; also {}", others.join("; "))
    }
}

fn undone(skipped: &[String]) -> String {
    if skipped.is_empty() {
        String::new()
    } else {
        format!(" (not done: {})", skipped.join(", "))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Running,
    Done,
    Failed,
}

/// What the steps run with: the init program of containers and the
/// supervisor's DNS and port services.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub init: &'a InitProgram,
    pub services: &'a dyn Services,
}

/// Perform `steps` on `project`; `progress` is called from worker threads.
pub fn execute(
    project: &ProjectDir,
    steps: &[Step],
    env: &Env<'_>,
    on_failure: OnFailure,
    progress: &(dyn Fn(&Op, Progress<'_>) + Sync),
) -> Result<(), ExecuteError> {
    let mut state = vec![State::Pending; steps.len()];
    let mut first_error: Option<(usize, ProjectError)> = None;
    let mut others = Vec::new();
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<(usize, Result<(), ProjectError>)>();
        let mut running = 0;
        loop {
            if first_error.is_none() || on_failure == OnFailure::Continue {
                for i in 0..steps.len() {
                    let ready = state[i] == State::Pending
                        && steps[i].after.iter().all(|&a| state[a] == State::Done);
                    if !ready {
                        continue;
                    }
                    state[i] = State::Running;
                    running += 1;
                    let tx = tx.clone();
                    let op = &steps[i].op;
                    scope.spawn(move || {
                        progress(op, Progress::Begin);
                        let result = perform(project, op, env);
                        match &result {
                            Ok(()) => progress(op, Progress::Done),
                            Err(e) => progress(op, Progress::Failed(e)),
                        }
                        let _ = tx.send((i, result));
                    });
                }
            }
            if running == 0 {
                break;
            }
            let Ok((i, result)) = rx.recv() else { break };
            running -= 1;
            match result {
                Ok(()) => state[i] = State::Done,
                Err(e) => {
                    state[i] = State::Failed;
                    undo_failed_start(project, steps, &state, i);
                    if first_error.is_none() {
                        first_error = Some((i, e));
                    } else {
                        others.push(format!("{}: {e}", steps[i].op));
                    }
                }
            }
        }
    });
    match first_error {
        None => Ok(()),
        Some((step, source)) => Err(ExecuteError {
            step,
            op: steps[step].op.to_string(),
            source: Box::new(source),
            others,
            skipped: steps
                .iter()
                .zip(&state)
                .filter(|(_, s)| **s == State::Pending)
                .map(|(s, _)| s.op.to_string())
                .collect(),
        }),
    }
}

fn perform(project: &ProjectDir, op: &Op, env: &Env<'_>) -> Result<(), ProjectError> {
    match op {
        Op::CreateContainer { request } => ops::create(project, request),
        Op::StartContainer { name } => ops::start(project, name, env),
        Op::StopContainer { name, timeout } => {
            let result = ops::stop(project, name, *timeout, env);
            env.services.refresh();
            result
        }
        Op::RemoveContainer { name, volumes } => {
            let result = ops::remove(project, name, *volumes);
            env.services.refresh();
            result
        }
        Op::CreateVolume { name } => super::volume::create(&project.volumes_dir(), name).map(drop),
        Op::RemoveVolume { name } => super::volume::remove(&project.volumes_dir(), name),
        Op::CreateNetwork { spec, external } => ops::create_network(project, spec, *external),
        Op::RemoveNetwork { name } => ops::remove_network(project, name),
        Op::AwaitCondition { wait } => super::condition::await_condition(project, wait),
    }
}

/// A container this run created and could not start is removed again, so
/// a failed `up` leaves no half-made container (its error is reported).
fn undo_failed_start(project: &ProjectDir, steps: &[Step], state: &[State], failed: usize) {
    let Op::StartContainer { name } = &steps[failed].op else {
        return;
    };
    let created_now = steps.iter().zip(state).any(|(s, st)| {
        *st == State::Done
            && matches!(&s.op, Op::CreateContainer { request } if &request.record.name == name)
    });
    if created_now {
        let _ = ops::remove(project, name, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn volume(name: &str, after: Vec<usize>) -> Step {
        Step {
            op: Op::CreateVolume { name: name.into() },
            after,
        }
    }

    #[test]
    fn steps_run_after_what_they_wait_for_and_a_failure_stops_the_rest() {
        let root = tempfile::tempdir().unwrap();
        let project = ProjectDir::new(root.path(), "p");
        let steps = vec![
            volume("p_a", vec![]),
            volume("p_b", vec![0]),
            Step {
                op: Op::RemoveContainer {
                    name: "p-gone-1".into(),
                    volumes: false,
                },
                after: vec![1],
            },
            volume("p_c", vec![2]),
        ];
        let done = Mutex::new(Vec::new());
        let progress = |op: &Op, p: Progress<'_>| {
            if let Progress::Done = p {
                done.lock().unwrap().push(op.to_string());
            }
        };
        let init = InitProgram::at("/nonexistent");
        let env = Env {
            init: &init,
            services: &crate::project::NoServices,
        };
        let err = execute(&project, &steps, &env, OnFailure::Stop, &progress).unwrap_err();
        assert_eq!(
            *done.lock().unwrap(),
            ["create volume p_a", "create volume p_b"]
        );
        assert_eq!(err.step, 2);
        assert_eq!(
            err.to_string(),
            "remove container p-gone-1: no such container: p-gone-1 (not done: create volume p_c)"
        );
        assert!(root.path().join("volumes/p_b/_data").is_dir());
        assert!(!root.path().join("volumes/p_c").exists());
    }

    #[test]
    fn a_teardown_goes_on_past_failures_and_reports_them_all() {
        let root = tempfile::tempdir().unwrap();
        let project = ProjectDir::new(root.path(), "p");
        let remove = |name: &str, after: Vec<usize>| Step {
            op: Op::RemoveContainer {
                name: name.into(),
                volumes: false,
            },
            after,
        };
        let steps = vec![
            remove("p-x-1", vec![]),
            remove("p-y-1", vec![]),
            volume("p_after_x", vec![0]),
            volume("p_free", vec![]),
        ];
        let init = InitProgram::at("/nonexistent");
        let env = Env {
            init: &init,
            services: &crate::project::NoServices,
        };
        let err = execute(&project, &steps, &env, OnFailure::Continue, &|_, _| {}).unwrap_err();
        assert_eq!(err.others.len(), 1, "{err}");
        assert_eq!(err.skipped, ["create volume p_after_x"]);
        assert!(root.path().join("volumes/p_free").is_dir());
    }
}
