//! The supervisor process: accept requests on the project's socket, one
//! thread per connection; every tick, fold exited containers into their
//! state (reaping the inits it is the subreaper of) and exit once the
//! project has no container and no command holds the project lock.

use super::netsvc::NetServices;
use super::protocol::{ProgressLine, Reply, Request};
use super::restart::Restarts;
use super::{events, pid_path, socket_path};
use crate::container::{become_subreaper, InitProgram};
use crate::project::{execute, observe, Env, Op, Progress, ProjectDir, Services};
use nix::fcntl::{Flock, FlockArg};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the supervisor looks at its containers when idle.
const TICK: Duration = Duration::from_millis(500);
/// How often the accept loop wakes up.
const ACCEPT_POLL: Duration = Duration::from_millis(20);

/// Why the supervisor could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("supervisor: cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

fn io(action: &'static str, path: &std::path::Path) -> impl FnOnce(std::io::Error) -> ServeError {
    let path = path.to_path_buf();
    move |source| ServeError::Io {
        action,
        path,
        source,
    }
}

struct Shared {
    project: ProjectDir,
    /// Containers seen running at the last tick, for `die` events.
    running: Mutex<std::collections::HashSet<String>>,
    /// Containers a command is stopping or stopped: never restarted.
    stopped_by_command: Mutex<std::collections::HashSet<String>>,
    /// Restarts done and due (restart policies).
    restarts: Mutex<Restarts>,
    init: InitProgram,
    /// DNS servers and port proxies of the project's networks.
    services: NetServices,
    active: AtomicUsize,
    shutdown: AtomicBool,
}

impl Shared {
    fn env(&self) -> Env<'_> {
        Env {
            init: &self.init,
            services: &self.services,
        }
    }
}

/// Run the supervisor of `project` until it has nothing left. Returns at
/// once when another supervisor of the project runs.
pub fn serve(project: ProjectDir, init: InitProgram) -> Result<(), ServeError> {
    // Detach from the terminal of the command that started us, and take
    // signals as they come whatever mask that command had.
    let _ = nix::unistd::setsid();
    let _ = nix::sys::signal::SigSet::all().thread_unblock();
    let _ = become_subreaper();
    let dir = project.dir();
    std::fs::create_dir_all(&dir).map_err(io("create", &dir))?;
    let lock_path = dir.join("supervisor.lock");
    let lock_file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io("open", &lock_path))?;
    let Ok(_running) = Flock::lock(lock_file, FlockArg::LockExclusiveNonblock) else {
        return Ok(());
    };
    let sock = socket_path(&project);
    let _ = std::fs::remove_file(&sock);
    let listener = UnixListener::bind(&sock).map_err(io("listen on", &sock))?;
    listener
        .set_nonblocking(true)
        .map_err(io("listen on", &sock))?;
    let pid = pid_path(&project);
    std::fs::write(&pid, format!("{}\n", std::process::id())).map_err(io("write", &pid))?;
    let services =
        NetServices::new(project.clone()).map_err(io("start the network services of", &dir))?;
    // Re-adopt: the DNS servers and proxies of containers that kept
    // running while no supervisor did.
    services.refresh();
    let shared = Arc::new(Shared {
        project,
        running: Mutex::new(std::collections::HashSet::new()),
        stopped_by_command: Mutex::new(std::collections::HashSet::new()),
        restarts: Mutex::new(Restarts::default()),
        init,
        services,
        active: AtomicUsize::new(0),
        shutdown: AtomicBool::new(false),
    });
    let health = super::health::scheduler::spawn(shared.project.clone(), shared.init.clone());
    accept_loop(&listener, &shared);
    shared.services.shutdown();
    drop(health);
    let _ = std::fs::remove_file(&sock);
    let _ = std::fs::remove_file(&pid);
    let _ = std::fs::remove_file(&lock_path);
    if matches!(observe(&shared.project), Ok(s) if s.containers.is_empty()) {
        // The stream is live only: with the project gone, so is its history.
        let _ = std::fs::remove_file(events::path(&shared.project));
    }
    // An empty log says nothing: drop it, and the project directory with
    // it when `down` left nothing else.
    let log = dir.join(super::LOG_FILE);
    if std::fs::metadata(&log).is_ok_and(|m| m.len() == 0) {
        let _ = std::fs::remove_file(&log);
    }
    shared.project.remove_if_empty();
    Ok(())
}

fn accept_loop(listener: &UnixListener, shared: &Arc<Shared>) {
    let mut last_tick = Instant::now();
    while !shared.shutdown.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                shared.active.fetch_add(1, Ordering::SeqCst);
                let shared = Arc::clone(shared);
                std::thread::spawn(move || {
                    let _ = stream.set_nonblocking(false);
                    handle(stream, &shared);
                    shared.active.fetch_sub(1, Ordering::SeqCst);
                });
                continue;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => {}
        }
        wait_for_connection(listener);
        if last_tick.elapsed() >= TICK {
            last_tick = Instant::now();
            if idle_and_empty(shared) {
                return;
            }
        }
    }
}

/// Block until a client connects or ACCEPT_POLL passes (the loop then
/// looks at the shutdown flag and the tick). A connection is taken at
/// once: sleeping between non-blocking accepts made every request wait
/// half a poll period on average (ps does four).
fn wait_for_connection(listener: &UnixListener) {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
    let ms = ACCEPT_POLL.as_millis().min(u16::MAX as u128) as u16;
    if poll(&mut fds, PollTimeout::from(ms)).is_err() {
        std::thread::sleep(ACCEPT_POLL);
    }
}

/// Fold exits (reaping our children), then: nothing left, no request
/// being served, and no command holding the project lock (a command about
/// to ask us to create containers holds it).
fn idle_and_empty(shared: &Shared) -> bool {
    let snapshot = observe(&shared.project);
    if let Ok(snap) = &snapshot {
        record_deaths(shared, snap);
    }
    // Containers that exited by themselves leave DNS and the proxies'
    // backends; removed networks lose their DNS server.
    shared.services.refresh();
    let empty = matches!(&snapshot, Ok(s) if s.containers.is_empty());
    if !empty || shared.active.load(Ordering::SeqCst) > 0 {
        return false;
    }
    let lock_path = shared.project.dir().join("project.lock");
    let Ok(file) = std::fs::OpenOptions::new().write(true).open(&lock_path) else {
        // No lock file: `down` removed the project directory.
        return true;
    };
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(_held) => matches!(observe(&shared.project), Ok(s) if s.containers.is_empty()),
        Err(_) => false,
    }
}

/// A command stopping or starting a container decides over its restart
/// policy: one it stops stays stopped (Docker's "manually stopped").
fn note_command(shared: &Shared, op: &Op) {
    let Ok(mut stopped) = shared.stopped_by_command.lock() else {
        return;
    };
    if let (Ok(mut restarts), (_, name)) = (shared.restarts.lock(), op.subject()) {
        restarts.forget(name);
    }
    match op {
        Op::StopContainer { name, .. } | Op::RemoveContainer { name, .. } => {
            stopped.insert(name.clone());
        }
        Op::StartContainer { name } => {
            stopped.remove(name);
        }
        _ => {}
    }
}

/// A `die` event for each container that ran at the last tick and has
/// stopped since, with its restart scheduled when its policy says so; then
/// the restarts that are due.
fn record_deaths(shared: &Shared, snap: &crate::project::Snapshot) {
    let (Ok(mut running), Ok(mut restarts)) = (shared.running.lock(), shared.restarts.lock())
    else {
        return;
    };
    let now = Instant::now();
    let mut up = std::collections::HashSet::new();
    for c in &snap.containers {
        let name = &c.record.name;
        match c.status() {
            crate::container::Status::Running | crate::container::Status::Paused => {
                up.insert(name.clone());
            }
            crate::container::Status::Stopped if running.contains(name) => {
                let code = c.state.as_ref().and_then(|s| s.exit).map_or(0, |e| e.code);
                events::append(
                    &shared.project,
                    &events::died(name, &c.record.service, code),
                );
                let by_command = shared
                    .stopped_by_command
                    .lock()
                    .map(|s| s.contains(name))
                    .unwrap_or(true);
                if !by_command {
                    restarts.died(name, c.record.restart, code, now);
                }
            }
            _ => {}
        }
    }
    for name in restarts.take_due(now) {
        let Some(c) = snap.containers.iter().find(|c| c.record.name == name) else {
            continue;
        };
        match crate::project::ops::start(&shared.project, &name, &shared.env()) {
            Ok(()) => {
                let mut event = events::died(&name, &c.record.service, 0);
                event.action = "restart".into();
                event.attributes.clear();
                events::append(&shared.project, &event);
                up.insert(name);
            }
            Err(e) => eprintln!("restarting {name}: {e}"),
        }
    }
    *running = up;
}

fn handle(stream: UnixStream, shared: &Shared) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let writer = Mutex::new(stream);
    let send = |reply: &Reply| {
        if let Ok(mut line) = serde_json::to_vec(reply) {
            line.push(b'\n');
            if let Ok(mut w) = writer.lock() {
                let _ = w.write_all(&line);
            }
        }
    };
    let mut line = String::new();
    if BufReader::new(read_half).read_line(&mut line).is_err() {
        return;
    }
    let request: Request = match serde_json::from_str(&line) {
        Ok(r) => r,
        Err(e) => {
            send(&Reply::Error {
                message: format!("cannot read the request: {e}"),
            });
            return;
        }
    };
    match request {
        Request::Ping => send(&Reply::Pong {
            pid: std::process::id(),
        }),
        Request::Observe => match observe(&shared.project) {
            Ok(snapshot) => send(&Reply::Snapshot { snapshot }),
            Err(e) => send(&Reply::Error {
                message: e.to_string(),
            }),
        },
        Request::Apply { steps, on_failure } => {
            let progress = |op: &Op, p: Progress<'_>| {
                let (kind, name) = op.subject();
                let error = match p {
                    Progress::Begin => {
                        note_command(shared, op);
                        send(&Reply::Progress {
                            line: ProgressLine {
                                kind: kind.to_string(),
                                name: name.to_string(),
                                done: op.verbs().0.to_string(),
                                error: None,
                                working: true,
                            },
                        });
                        return;
                    }
                    Progress::Done => {
                        events::append(&shared.project, &events::of_op(op));
                        if let (Op::StartContainer { name }, Ok(mut running)) =
                            (op, shared.running.lock())
                        {
                            // A short-lived container may exit before the
                            // next tick sees it running: its `die` is due too.
                            running.insert(name.clone());
                        }
                        None
                    }
                    Progress::Failed(e) => Some(e.to_string()),
                };
                send(&Reply::Progress {
                    line: ProgressLine {
                        kind: kind.to_string(),
                        name: name.to_string(),
                        done: op.verbs().1.to_string(),
                        error,
                        working: false,
                    },
                });
            };
            let result = execute(
                &shared.project,
                &steps,
                &shared.env(),
                on_failure,
                &progress,
            );
            // Networks removed by the steps lose their DNS server before
            // the command returns.
            shared.services.refresh();
            match result {
                Ok(()) => send(&Reply::Applied),
                Err(e) => send(&Reply::Failed {
                    op: e.op,
                    error: e.source.to_string(),
                    others: e.others,
                    skipped: e.skipped,
                }),
            }
        }
        Request::Shutdown => {
            shared.shutdown.store(true, Ordering::SeqCst);
            send(&Reply::ShuttingDown);
        }
        Request::Events => stream_events(&writer, shared),
        Request::Ports => send(&Reply::Ports {
            ports: shared.services.ports(),
        }),
    }
}

/// Send the events appended from now on until the client disconnects or
/// the supervisor exits.
fn stream_events(writer: &Mutex<UnixStream>, shared: &Shared) {
    let path = events::path(&shared.project);
    let start = std::fs::metadata(&path).map_or(0, |m| m.len());
    let mut cursor = EventCursor {
        path,
        offset: start,
    };
    // A watcher keeps the supervisor alive (it counts as active), so its
    // going away must be noticed without an event to write: a read that
    // returns 0 bytes is the end of the connection.
    let Ok(probe) = writer.lock().map(|w| w.try_clone()) else {
        return;
    };
    let Ok(mut probe) = probe else { return };
    let _ = probe.set_read_timeout(Some(Duration::from_millis(1)));
    while !shared.shutdown.load(Ordering::SeqCst) {
        if matches!(std::io::Read::read(&mut probe, &mut [0u8; 1]), Ok(0)) {
            return;
        }
        for event in cursor.read_new() {
            let Ok(mut line) = serde_json::to_vec(&Reply::Event { event }) else {
                continue;
            };
            line.push(b'\n');
            let Ok(mut w) = writer.lock() else { return };
            if w.write_all(&line).is_err() {
                return;
            }
        }
        std::thread::sleep(ACCEPT_POLL * 2);
    }
}

struct EventCursor {
    path: std::path::PathBuf,
    offset: u64,
}

impl EventCursor {
    fn read_new(&mut self) -> Vec<events::Event> {
        use std::io::{Read, Seek, SeekFrom};
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return Vec::new();
        };
        let mut bytes = Vec::new();
        if f.seek(SeekFrom::Start(self.offset)).is_err() || f.read_to_end(&mut bytes).is_err() {
            return Vec::new();
        }
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        self.offset += complete as u64;
        String::from_utf8_lossy(&bytes[..complete])
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}
