//! An attached `compose up`: follow the logs of the attached services
//! (`--attach`, `--no-attach`, `attach: false`), say when a container
//! exits, and stop the project on Ctrl-C or, with
//! `--abort-on-container-exit`/`--abort-on-container-failure`, when a
//! watched container exits (docker compose's `upSession`: the exit code is
//! the first exited container's, or with `--exit-code-from` that service's).

use super::logs::{LogPrinter, POLL};
use super::session::{short_name, timeout, Session};
use compose_runtime::container::Status;
use compose_runtime::project::interrupt::{force_stop, Interrupts};
use compose_runtime::project::{ObservedContainer, OnFailure, Op, Step};
use std::collections::{HashMap, HashSet};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The flags of `up` about its attached mode.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct AttachArgs {
    /// Stops all containers if any container was stopped
    #[arg(long)]
    pub abort_on_container_exit: bool,
    /// Stops all containers if any container exited with failure
    #[arg(long, conflicts_with = "abort_on_container_exit")]
    pub abort_on_container_failure: bool,
    /// Return the exit code of the selected service container (implies --abort-on-container-exit)
    #[arg(long, value_name = "SERVICE")]
    pub exit_code_from: Option<String>,
    /// Restrict attaching to the specified services
    #[arg(long, value_name = "SERVICE")]
    pub attach: Vec<String>,
    /// Automatically attach to log output of dependent services
    #[arg(long, conflicts_with = "attach")]
    pub attach_dependencies: bool,
    /// Do not attach (stream logs) to the specified services
    #[arg(long, value_name = "SERVICE")]
    pub no_attach: Vec<String>,
    /// Show timestamps
    #[arg(long)]
    pub timestamps: bool,
    /// Don't print prefix in logs
    #[arg(long)]
    pub no_log_prefix: bool,
    /// Produce monochrome output
    #[arg(long)]
    pub no_color: bool,
}

/// Attached-mode flags that do not fit the rest of the command line.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AttachError {
    #[error("--detach cannot be combined with --abort-on-container-exit, --abort-on-container-failure, --exit-code-from, --attach or --attach-dependencies")]
    Detached,
    #[error("{flag} {service}: no such service in this up; services: {known}")]
    NoSuchService {
        flag: &'static str,
        service: String,
        known: String,
    },
}

/// When a watched container's exit stops the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnExit {
    Ignore,
    /// `--abort-on-container-exit` (and `--exit-code-from`).
    Stop,
    /// `--abort-on-container-failure`: only on a non-zero code.
    Fail,
}

impl AttachArgs {
    /// Whether these flags need an attached `up`.
    pub fn wants_attached(&self) -> bool {
        self.abort_on_container_exit
            || self.abort_on_container_failure
            || self.exit_code_from.is_some()
            || !self.attach.is_empty()
            || self.attach_dependencies
    }

    pub fn on_exit(&self) -> OnExit {
        if self.abort_on_container_failure {
            OnExit::Fail
        } else if self.abort_on_container_exit || self.exit_code_from.is_some() {
            OnExit::Stop
        } else {
            OnExit::Ignore
        }
    }

    /// Check the flags against `-d` and the project's services.
    pub fn validate(&self, detach: bool, services: &[String]) -> Result<(), AttachError> {
        if detach && self.wants_attached() {
            return Err(AttachError::Detached);
        }
        let named = self
            .exit_code_from
            .iter()
            .map(|s| ("--exit-code-from", s))
            .chain(self.attach.iter().map(|s| ("--attach", s)));
        for (flag, service) in named {
            if !services.contains(service) {
                return Err(AttachError::NoSuchService {
                    flag,
                    service: service.clone(),
                    known: services.join(", "),
                });
            }
        }
        Ok(())
    }
}

/// Which services are attached and which are watched for exits.
#[derive(Debug, PartialEq, Eq)]
pub struct Attached {
    pub logs: Vec<String>,
    pub watched: Vec<String>,
}

/// docker compose's choice: `--attach` as given; else the services named
/// on the command line (all when none), their dependencies too with
/// `--attach-dependencies`, less those with `attach: false`; then less
/// `--no-attach`. Exits are watched on the named services, or on the
/// attached ones when none are named.
pub fn attached(args: &AttachArgs, project: &crate::model::Project, named: &[String]) -> Attached {
    let mut logs: Vec<String> = if !args.attach.is_empty() {
        args.attach.clone()
    } else {
        project
            .services
            .values()
            .filter(|s| named.is_empty() || args.attach_dependencies || named.contains(&s.name))
            .filter(|s| s.attach != Some(false))
            .map(|s| s.name.clone())
            .collect()
    };
    logs.retain(|s| !args.no_attach.contains(s));
    let watched = if named.is_empty() {
        logs.clone()
    } else {
        named.to_vec()
    };
    Attached { logs, watched }
}

/// Follow the attached services until every watched container has
/// exited, a cascade stops the project, or Ctrl-C does.
pub fn run(
    session: &Session,
    args: &AttachArgs,
    named: &[String],
    stop_timeout: Option<u64>,
) -> anyhow::Result<ExitCode> {
    run_holding(session, args, named, stop_timeout, &|| false)
}

/// As [`run`]; while `recreating` says so (`up --watch` rebuilding a
/// service), containers stopping and vanishing are a recreation, not
/// exits: they neither end nor abort `up` (docker compose's monitor
/// follows recreated containers the same way).
pub fn run_holding(
    session: &Session,
    args: &AttachArgs,
    named: &[String],
    stop_timeout: Option<u64>,
    recreating: &dyn Fn() -> bool,
) -> anyhow::Result<ExitCode> {
    let chosen = attached(args, &session.project, named);
    let snap = session.snapshot()?;
    let colour = !args.no_color && console::colors_enabled();
    let mut printer = LogPrinter::new(
        &session.containers(&snap, &chosen.logs),
        colour,
        !args.no_log_prefix,
        args.timestamps,
    );
    let mut interrupts = Interrupts::catch()?;
    let mut exits = Exits::default();
    printer.print_new(Some(usize::MAX));
    loop {
        std::thread::sleep(POLL);
        printer.print_new(None);
        if interrupts.pending() {
            eprintln!("Gracefully stopping... press Ctrl+C again to force");
            stop_all(session, stop_timeout, &mut interrupts)?;
            return Ok(ExitCode::from(130));
        }
        // Containers half made are not observed: the logs catch up after.
        if recreating() {
            continue;
        }
        let snap = session.snapshot()?;
        printer.add(&session.containers(&snap, &chosen.logs));
        let watched = session.containers(&snap, &chosen.watched);
        for (c, restarting) in exits.new_exits(&watched) {
            printer.print_new(None);
            let code = exit_code(c);
            if restarting {
                // docker compose's printer; a restart is not an exit that
                // aborts the project.
                eprintln!("{} exited with code {code} (restarting)", short_name(c));
                continue;
            }
            eprintln!("{} exited with code {code}", short_name(c));
            let abort = match args.on_exit() {
                OnExit::Ignore => false,
                OnExit::Stop => true,
                OnExit::Fail => code != 0,
            };
            if abort {
                eprintln!("Aborting on container exit...");
                stop_all(session, stop_timeout, &mut interrupts)?;
                printer.print_new(None);
                let snap = session.snapshot()?;
                for (c, _) in exits.new_exits(&session.containers(&snap, &chosen.watched)) {
                    eprintln!("{} exited with code {}", short_name(c), exit_code(c));
                }
                let code = match &args.exit_code_from {
                    Some(service) => service_exit_code(session, service)?,
                    None => code,
                };
                return Ok(exit_status(code));
            }
        }
        if watched.iter().all(|c| exits.finished(c)) {
            printer.print_new(None);
            return Ok(ExitCode::SUCCESS);
        }
    }
}

/// The exits seen so far, by container and run (a restarted container
/// exits again at another time), and which of them the supervisor will
/// restart (the container's restart policy, counting the exits seen as
/// the restarts done).
#[derive(Default)]
struct Exits {
    seen: HashSet<(String, Option<String>)>,
    counts: HashMap<String, u32>,
    /// Containers waiting for their restart, since when.
    restarting: HashMap<String, Instant>,
}

/// Longer than the supervisor's longest restart back-off (a minute): a
/// container said to be restarting that stays down this long is not (a
/// run missed between two looks made the count too low).
const RESTART_DUE: Duration = Duration::from_secs(65);

impl Exits {
    /// The containers that exited since the last call, each with whether
    /// it will be restarted.
    fn new_exits<'a>(
        &mut self,
        containers: &[&'a ObservedContainer],
    ) -> Vec<(&'a ObservedContainer, bool)> {
        let mut out = Vec::new();
        for c in containers {
            let name = &c.record.name;
            if c.status() != Status::Stopped {
                self.restarting.remove(name);
                continue;
            }
            let finished_at = c.state.as_ref().and_then(|s| s.finished_at.clone());
            if !self.seen.insert((name.clone(), finished_at)) {
                continue;
            }
            let count = self.counts.entry(name.clone()).or_default();
            let restarting = c.record.restart.should_restart(exit_code(c), *count);
            *count += 1;
            if restarting {
                self.restarting.insert(name.clone(), Instant::now());
            }
            out.push((*c, restarting));
        }
        out
    }

    /// Stopped for good: exited and not waiting for a restart.
    fn finished(&self, c: &ObservedContainer) -> bool {
        c.status() == Status::Stopped
            && self
                .restarting
                .get(&c.record.name)
                .is_none_or(|since| since.elapsed() > RESTART_DUE)
    }
}

fn exit_code(c: &ObservedContainer) -> i32 {
    c.state.as_ref().and_then(|s| s.exit).map_or(0, |e| e.code)
}

/// The exit code of the service's first container (`--exit-code-from`).
fn service_exit_code(session: &Session, service: &str) -> anyhow::Result<i32> {
    let snap = session.snapshot()?;
    let services = [service.to_string()];
    Ok(session
        .containers(&snap, &services)
        .first()
        .map_or(0, |c| exit_code(c)))
}

/// A process exit status from a container's code (a shell's 0-255).
fn exit_status(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Stop every running container of the project's services.
fn stop_all(
    session: &Session,
    stop_timeout: Option<u64>,
    interrupts: &mut Interrupts,
) -> anyhow::Result<()> {
    let selected: Vec<String> = session.project.services.keys().cloned().collect();
    let snap = session.snapshot()?;
    let steps: Vec<Step> = session
        .containers(&snap, &selected)
        .iter()
        .filter(|c| c.status() == Status::Running || c.status() == Status::Paused)
        .map(|c| Step {
            op: Op::StopContainer {
                name: c.record.name.clone(),
                timeout: timeout(stop_timeout),
            },
            after: vec![],
        })
        .collect();
    stop_or_force(session, &steps, interrupts)
}

/// Run the graceful stop on a thread while watching for a second Ctrl-C,
/// which kills the containers being stopped (docker compose's
/// `runEventLoop`: the first interruption stops, the second kills). The
/// stop then sees them gone and returns at once.
fn stop_or_force(
    session: &Session,
    steps: &[Step],
    interrupts: &mut Interrupts,
) -> anyhow::Result<()> {
    std::thread::scope(|scope| {
        let stopping = scope.spawn(|| session.apply(steps, OnFailure::Continue));
        let mut forced = false;
        while !stopping.is_finished() {
            std::thread::sleep(POLL);
            if !forced && interrupts.pending() {
                forced = true;
                let names = steps.iter().filter_map(|step| match &step.op {
                    Op::StopContainer { name, .. } => Some(name.as_str()),
                    _ => None,
                });
                force_stop(&session.dir, names);
            }
        }
        stopping
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("stopping the containers panicked")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Project, ServiceConfig};

    fn project(services: &[(&str, Option<bool>)]) -> Project {
        let mut p = Project::default();
        for (name, attach) in services {
            p.services.insert(
                name.to_string(),
                ServiceConfig {
                    name: name.to_string(),
                    attach: *attach,
                    ..Default::default()
                },
            );
        }
        p
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn attached_services_follow_docker_compose() {
        let p = project(&[("db", None), ("quiet", Some(false)), ("web", None)]);
        let none = AttachArgs::default();
        let all = attached(&none, &p, &[]);
        assert_eq!(all.logs, strings(&["db", "web"]));
        assert_eq!(all.watched, all.logs);
        let named = attached(&none, &p, &strings(&["web"]));
        assert_eq!(named.logs, strings(&["web"]));
        let deps = AttachArgs {
            attach_dependencies: true,
            no_attach: strings(&["db"]),
            ..Default::default()
        };
        let got = attached(&deps, &p, &strings(&["web"]));
        assert_eq!(got.logs, strings(&["web"]));
        assert_eq!(got.watched, strings(&["web"]));
        let explicit = AttachArgs {
            attach: strings(&["quiet"]),
            ..Default::default()
        };
        assert_eq!(attached(&explicit, &p, &[]).logs, strings(&["quiet"]));
    }

    #[test]
    fn exit_code_from_implies_abort_and_needs_a_known_service() {
        let args = AttachArgs {
            exit_code_from: Some("web".into()),
            ..Default::default()
        };
        assert_eq!(args.on_exit(), OnExit::Stop);
        assert_eq!(
            args.validate(true, &strings(&["web"])),
            Err(AttachError::Detached)
        );
        assert_eq!(
            args.validate(false, &strings(&["db"])),
            Err(AttachError::NoSuchService {
                flag: "--exit-code-from",
                service: "web".into(),
                known: "db".into()
            })
        );
        assert_eq!(args.validate(false, &strings(&["web"])), Ok(()));
    }
}
