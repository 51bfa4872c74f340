//! The supervisor's healthcheck scheduler: one thread for the whole
//! project. Every scan it looks at the project's containers: a running one
//! with a healthcheck is tracked (a new run starts over at `starting`,
//! as Docker resets `State.Health` on start), others are dropped. Probes
//! are child processes (an exec into the container, its output going to
//! a file so a chatty probe never blocks on a full pipe), polled without
//! blocking: many probes run at once on this one thread, and one over its
//! timeout is killed and counts as a failure (Docker's rules).

use super::{Health, HealthCheck, HealthStatus, ProbeResult, MAX_OUTPUT};
use crate::container::spec::ProcessSpec;
use crate::container::state::now_rfc3339;
use crate::container::{Container, InitProgram, Status};
use crate::project::{observe, ObservedContainer, ProjectDir};
use crate::supervisor::events;
use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// How often the containers are looked at (the supervisor's tick).
const SCAN: Duration = Duration::from_millis(500);
/// How often running probes are polled and due ones started.
const POLL: Duration = Duration::from_millis(50);
/// Where a probe's stdout and stderr go, in the container's directory.
const PROBE_OUTPUT: &str = ".health-probe.out";

/// The running scheduler; dropping it stops the thread and kills the
/// probes in flight.
pub struct HealthMonitor {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for HealthMonitor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Start probing the healthchecks of `project`'s containers.
pub fn spawn(project: ProjectDir, init: InitProgram) -> HealthMonitor {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("healthchecks".into())
        .spawn(move || run(&project, &init, &flag))
        .ok();
    HealthMonitor { stop, thread }
}

fn run(project: &ProjectDir, init: &InitProgram, stop: &AtomicBool) {
    let mut tracked: HashMap<String, Tracked> = HashMap::new();
    let mut last_scan: Option<Instant> = None;
    while !stop.load(Ordering::SeqCst) {
        if last_scan.is_none_or(|t| t.elapsed() >= SCAN) {
            last_scan = Some(Instant::now());
            if let Ok(snap) = observe(project) {
                scan(&snap.containers, &mut tracked);
            }
        }
        for t in tracked.values_mut() {
            t.poll(project, init);
        }
        std::thread::sleep(POLL);
    }
    for t in tracked.values_mut() {
        t.cancel_probe();
    }
}

/// Track every running container with a healthcheck; drop the others.
fn scan(containers: &[ObservedContainer], tracked: &mut HashMap<String, Tracked>) {
    let mut seen = BTreeMap::new();
    for c in containers {
        let (Some(check), Some(state)) = (&c.record.healthcheck, &c.state) else {
            continue;
        };
        let (Status::Running | Status::Paused, Some(started_at)) =
            (state.status, state.started_at.as_ref())
        else {
            continue;
        };
        seen.insert(c.record.name.clone(), state.status == Status::Paused);
        let same_run = tracked
            .get(&c.record.name)
            .is_some_and(|t| &t.health.started_at == started_at);
        if !same_run {
            if let Some(mut old) = tracked.remove(&c.record.name) {
                old.cancel_probe();
            }
            tracked.insert(c.record.name.clone(), Tracked::new(c, check, started_at));
        }
    }
    tracked.retain(|name, t| match seen.get(name) {
        Some(paused) => {
            t.paused = *paused;
            true
        }
        None => {
            t.cancel_probe();
            false
        }
    });
}

/// Reap the processes of a killed probe's group that its exec shim left
/// to us. The shim's child lives in the container's pid namespace, but
/// when the shim dies first the kernel hands it to the nearest subreaper
/// at the shim's level: the supervisor. Left unreaped, that zombie keeps
/// the container's PID 1 from finishing its exit (a namespace's init
/// waits for every process of the namespace), so `stop` would hang.
fn reap_orphans(pgid: i32) {
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for pid in entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| parent_and_group(*pid) == Some((me, pgid)))
    {
        let pid = Pid::from_raw(pid);
        let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
        let _ = waitpid(pid, None);
    }
}

/// `(ppid, pgrp)` of `pid`, from `/proc/<pid>/stat` (proc(5): the fields
/// after the parenthesised command name are state, ppid, pgrp).
fn parent_and_group(pid: i32) -> Option<(i32, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(") ")?;
    let mut fields = rest.split(' ').skip(1);
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
}

/// One container's healthcheck.
struct Tracked {
    name: String,
    service: String,
    dir: PathBuf,
    check: HealthCheck,
    process: ProcessSpec,
    /// When the current run started.
    started: Instant,
    health: Health,
    next: Instant,
    probe: Option<Probe>,
    /// A frozen container gets no probe (an exec would hang).
    paused: bool,
}

/// A probe in flight.
struct Probe {
    child: Child,
    start: String,
    deadline: Instant,
}

impl Tracked {
    fn new(c: &ObservedContainer, check: &HealthCheck, started_at: &str) -> Tracked {
        // A supervisor restarted mid-run picks up where the last one was.
        let health = Health::read(&c.dir)
            .filter(|h| h.started_at == started_at)
            .unwrap_or_else(|| Health::starting(started_at));
        let _ = health.write(&c.dir);
        let since_start = humantime::parse_rfc3339_weak(started_at)
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .unwrap_or_default();
        let now = Instant::now();
        let mut process = c.running_process();
        process.args = check.test.argv();
        process.tty = false;
        let mut t = Tracked {
            name: c.record.name.clone(),
            service: c.record.service.clone(),
            dir: c.dir.clone(),
            check: check.clone(),
            process,
            started: now.checked_sub(since_start).unwrap_or(now),
            health,
            next: now,
            probe: None,
            paused: false,
        };
        t.next = now + t.delay(now);
        t
    }

    fn in_start_period(&self, now: Instant) -> bool {
        now.duration_since(self.started) < self.check.start_period
    }

    /// Docker's probe interval: `start_interval` while starting within
    /// the start period, else `interval`.
    fn delay(&self, now: Instant) -> Duration {
        if self.health.status == HealthStatus::Starting && self.in_start_period(now) {
            self.check.start_interval
        } else {
            self.check.interval
        }
    }

    fn poll(&mut self, project: &ProjectDir, init: &InitProgram) {
        let now = Instant::now();
        let Some(probe) = &mut self.probe else {
            if !self.paused && now >= self.next {
                self.start_probe(project, init);
            }
            return;
        };
        match probe.child.try_wait() {
            Ok(Some(status)) => {
                let code = status.code().unwrap_or(-1);
                let start = probe.start.clone();
                self.probe = None;
                let output = self.take_output();
                self.finish(project, start, code, output);
            }
            Ok(None) if now < probe.deadline => {}
            _ => {
                let start = probe.start.clone();
                self.cancel_probe();
                let output = format!(
                    "Health check exceeded timeout ({})",
                    humantime::format_duration(self.check.timeout)
                );
                self.finish(project, start, -1, output);
            }
        }
    }

    fn start_probe(&mut self, project: &ProjectDir, init: &InitProgram) {
        let start = now_rfc3339();
        match self.spawn_probe(init) {
            Ok(child) => {
                self.probe = Some(Probe {
                    child,
                    start,
                    deadline: Instant::now() + self.check.timeout,
                })
            }
            // Docker records a probe that cannot run as a failure (-1).
            Err(e) => self.finish(project, start, -1, e),
        }
    }

    fn spawn_probe(&self, init: &InitProgram) -> Result<Child, String> {
        let container = Container::load(&self.dir).map_err(|e| e.to_string())?;
        let mut exec = container
            .exec(&self.process, init)
            .map_err(|e| e.to_string())?;
        let out_path = self.dir.join(PROBE_OUTPUT);
        let out = std::fs::File::create(&out_path).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        // Its own process group, so a timeout kills the probe with the
        // exec shim that runs it.
        std::os::unix::process::CommandExt::process_group(exec.command_mut(), 0)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        exec.spawn()
            .map_err(|e| format!("cannot run the probe: {e}"))
    }

    fn take_output(&self) -> String {
        let path = self.dir.join(PROBE_OUTPUT);
        let bytes = std::fs::read(&path).unwrap_or_default();
        let _ = std::fs::remove_file(&path);
        let kept = &bytes[..bytes.len().min(MAX_OUTPUT)];
        String::from_utf8_lossy(kept).into_owned()
    }

    /// Kill a probe in flight (and what it started) and reap it.
    fn cancel_probe(&mut self) {
        if let Some(mut probe) = self.probe.take() {
            let pgid = probe.child.id() as i32;
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
            let _ = probe.child.wait();
            reap_orphans(pgid);
            let _ = std::fs::remove_file(self.dir.join(PROBE_OUTPUT));
        }
    }

    /// Fold a probe's result in, write `health.json`, announce a change.
    fn finish(&mut self, project: &ProjectDir, start: String, exit_code: i32, output: String) {
        let now = Instant::now();
        let result = ProbeResult {
            start,
            end: now_rfc3339(),
            exit_code,
            output,
        };
        let changed = self
            .health
            .record(result, self.check.retries, self.in_start_period(now));
        let _ = self.health.write(&self.dir);
        if let Some(status) = changed {
            events::append(project, &events::health(&self.name, &self.service, status));
        }
        self.next = now + self.delay(now);
    }
}
