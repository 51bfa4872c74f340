//! What `stop`, `start`, `restart`, `kill` and `rm` share: pick the
//! selected services' containers from a snapshot and run one op on each,
//! in parallel, through the executor.

use super::session::Session;
use compose_runtime::container::Status;
use compose_runtime::project::{ObservedContainer, OnFailure, Op, Snapshot, Step};

/// Load the project and check the service names.
pub fn session(global: &super::GlobalArgs, services: &[String]) -> anyhow::Result<Session> {
    let session = Session::load_existing(global, &[])?;
    for s in services {
        if !session.project.services.contains_key(s) {
            anyhow::bail!("no such service: {s}");
        }
    }
    Ok(session)
}

pub fn is_up(c: &ObservedContainer) -> bool {
    matches!(c.status(), Status::Running | Status::Paused)
}

/// Run `op` on every selected container `filter` accepts; with
/// `dry_run`, print the steps instead (numbered, as `up --dry-run`).
pub fn each(
    session: &Session,
    snap: &Snapshot,
    services: &[String],
    filter: impl Fn(&ObservedContainer) -> bool,
    op: impl Fn(&ObservedContainer) -> Op,
    dry_run: bool,
) -> anyhow::Result<()> {
    let steps: Vec<Step> = session
        .containers(snap, services)
        .into_iter()
        .filter(|c| filter(c))
        .map(|c| Step {
            op: op(c),
            after: vec![],
        })
        .collect();
    if dry_run {
        for (i, step) in steps.iter().enumerate() {
            println!("{}. {}", i + 1, step.op);
        }
        return Ok(());
    }
    // Starting stops at the first failure; stopping and removing go on
    // and report every failure, as a teardown should.
    let starts = steps
        .iter()
        .all(|s| matches!(s.op, Op::StartContainer { .. }));
    let on_failure = if starts {
        OnFailure::Stop
    } else {
        OnFailure::Continue
    };
    session.apply(&steps, on_failure)?;
    Ok(())
}

/// Stop the selected running containers (`stop`, and the first half of
/// `restart`), waiting `timeout` seconds before killing.
pub fn stop(
    session: &Session,
    services: &[String],
    timeout: Option<u64>,
    dry_run: bool,
) -> anyhow::Result<()> {
    let snap = session.snapshot()?;
    let op = |c: &ObservedContainer| Op::StopContainer {
        name: c.record.name.clone(),
        timeout: super::session::timeout(timeout),
    };
    each(session, &snap, services, is_up, op, dry_run)
}

/// Start the selected stopped containers, dependencies first; a service
/// whose `depends_on` asks for a healthy or completed dependency waits for
/// it first, as `up` does.
pub fn start(session: &Session, services: &[String]) -> anyhow::Result<()> {
    let snap = session.snapshot()?;
    for service in session.project.services_in_dependency_order() {
        if !services.is_empty() && !services.contains(&service) {
            continue;
        }
        let waits = dependency_waits(session, &service);
        if !waits.is_empty() {
            session.apply(&waits, OnFailure::Stop)?;
        }
        each(
            session,
            &snap,
            std::slice::from_ref(&service),
            |c| !is_up(c),
            |c| Op::StartContainer {
                name: c.record.name.clone(),
            },
            false,
        )?;
    }
    Ok(())
}

/// The waits `service`'s `depends_on` conditions ask for, on the project's
/// services.
fn dependency_waits(session: &Session, service: &str) -> Vec<Step> {
    use compose_runtime::project::condition::{Await, Condition};
    let Some(config) = session.project.services.get(service) else {
        return Vec::new();
    };
    config
        .depends_on
        .iter()
        .filter(|(dep, _)| session.project.services.contains_key(*dep))
        .filter_map(|(dep, d)| {
            let condition = match d.condition.as_str() {
                "service_healthy" => Condition::ServiceHealthy,
                "service_completed_successfully" => Condition::ServiceCompletedSuccessfully,
                _ => return None,
            };
            Some(Step {
                op: Op::AwaitCondition {
                    wait: Await {
                        dependent: service.to_string(),
                        dependency: dep.clone(),
                        condition,
                        required: d.required,
                        timeout: None,
                        caller: Some(std::process::id()),
                    },
                },
                after: vec![],
            })
        })
        .collect()
}
