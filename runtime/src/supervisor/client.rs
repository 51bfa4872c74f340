//! Talking to a project's supervisor, starting it when its socket does not
//! answer: the same binary as `compose supervise --root ROOT PROJECT`, its
//! stderr in `supervisor.log`. A request whose connection closes before the
//! final reply (the supervisor exited or was killed) is retried once on a
//! fresh supervisor.

use super::protocol::{ProgressLine, Reply, Request};
use super::{socket_path, LOG_FILE};
use crate::project::{OnFailure, ProjectDir, Snapshot, Step};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a new supervisor has to answer.
const START_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the supervisor of project {project} did not answer within {}s; see {}", START_TIMEOUT.as_secs(), log.display())]
    NotStarted { project: String, log: PathBuf },
    #[error("the supervisor of project {project} closed the connection before answering")]
    Closed { project: String },
    #[error("the supervisor answered something unexpected: {message}")]
    Protocol { message: String },
    #[error("{op}: {error}{}{}", also(others), undone(skipped))]
    Failed {
        op: String,
        error: String,
        others: Vec<String>,
        skipped: Vec<String>,
    },
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

/// A project's supervisor, seen from a command.
pub struct Client {
    project: ProjectDir,
    program: PathBuf,
}

impl Client {
    /// `program` is the `compose` binary to start the supervisor from.
    pub fn new(project: ProjectDir, program: PathBuf) -> Client {
        Client { project, program }
    }

    /// Make sure a supervisor answers; start one if none does. Returns its pid.
    pub fn ensure_running(&self) -> Result<u32, ClientError> {
        if let Ok(Reply::Pong { pid }) = self.once(&Request::Ping, &mut |_| {}) {
            return Ok(pid);
        }
        self.start()?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Reply::Pong { pid }) = self.once(&Request::Ping, &mut |_| {}) {
                return Ok(pid);
            }
            if Instant::now() > deadline {
                return Err(ClientError::NotStarted {
                    project: self.project.name().to_string(),
                    log: self.project.dir().join(LOG_FILE),
                });
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn start(&self) -> Result<(), ClientError> {
        let dir = self.project.dir();
        std::fs::create_dir_all(&dir).map_err(|source| ClientError::Io {
            action: "create",
            path: dir.clone(),
            source,
        })?;
        let log_path = dir.join(LOG_FILE);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|source| ClientError::Io {
                action: "open",
                path: log_path,
                source,
            })?;
        Command::new(&self.program)
            .arg("supervise")
            .arg("--root")
            .arg(self.project.root())
            .arg(self.project.name())
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|source| ClientError::Io {
                action: "start the supervisor",
                path: self.program.clone(),
                source,
            })?;
        Ok(())
    }

    /// Perform `steps`; `progress` sees each finished step.
    pub fn apply(
        &self,
        steps: &[Step],
        on_failure: OnFailure,
        progress: &mut dyn FnMut(&ProgressLine),
    ) -> Result<(), ClientError> {
        if steps.is_empty() {
            return Ok(());
        }
        let request = Request::Apply {
            steps: steps.to_vec(),
            on_failure,
        };
        match self.request(&request, progress)? {
            Reply::Applied => Ok(()),
            Reply::Failed {
                op,
                error,
                others,
                skipped,
            } => Err(ClientError::Failed {
                op,
                error,
                others,
                skipped,
            }),
            other => Err(unexpected(other)),
        }
    }

    /// The project's state, as the supervisor sees it.
    pub fn observe(&self) -> Result<Snapshot, ClientError> {
        match self.request(&Request::Observe, &mut |_| {})? {
            Reply::Snapshot { snapshot } => Ok(snapshot),
            other => Err(unexpected(other)),
        }
    }

    /// The published ports, with the host ports actually bound.
    pub fn ports(&self) -> Result<Vec<super::netsvc::ports::PortEntry>, ClientError> {
        match self.request(&Request::Ports, &mut |_| {})? {
            Reply::Ports { ports } => Ok(ports),
            other => Err(unexpected(other)),
        }
    }

    /// Call `each` with every event from now on; returns when the
    /// supervisor exits (the project is gone) or `each` returns false.
    pub fn events(
        &self,
        each: &mut dyn FnMut(&super::events::Event) -> bool,
    ) -> Result<(), ClientError> {
        self.ensure_running()?;
        let path = socket_path(&self.project);
        let io = |action| {
            let path = path.clone();
            move |source| ClientError::Io {
                action,
                path,
                source,
            }
        };
        let mut stream = UnixStream::connect(&path).map_err(io("connect to"))?;
        let mut line = serde_json::to_vec(&Request::Events).expect("requests serialise");
        line.push(b'\n');
        stream.write_all(&line).map_err(io("write to"))?;
        let mut reader = BufReader::new(stream);
        loop {
            let mut text = String::new();
            if reader.read_line(&mut text).map_err(io("read from"))? == 0 {
                return Ok(());
            }
            if let Ok(Reply::Event { event }) = serde_json::from_str(&text) {
                if !each(&event) {
                    return Ok(());
                }
            }
        }
    }

    /// Ask the supervisor to exit (containers keep running).
    pub fn shutdown(&self) -> Result<(), ClientError> {
        match self.once(&Request::Shutdown, &mut |_| {}) {
            Ok(_) | Err(ClientError::Io { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn request(
        &self,
        request: &Request,
        progress: &mut dyn FnMut(&ProgressLine),
    ) -> Result<Reply, ClientError> {
        self.ensure_running()?;
        match self.once(request, progress) {
            Err(ClientError::Closed { .. } | ClientError::Io { .. }) => {
                self.ensure_running()?;
                self.once(request, progress)
            }
            other => other,
        }
    }

    fn once(
        &self,
        request: &Request,
        progress: &mut dyn FnMut(&ProgressLine),
    ) -> Result<Reply, ClientError> {
        let path = socket_path(&self.project);
        let io = |action| {
            let path = path.clone();
            move |source| ClientError::Io {
                action,
                path,
                source,
            }
        };
        let mut stream = UnixStream::connect(&path).map_err(io("connect to"))?;
        let mut line = serde_json::to_vec(request).expect("requests serialise");
        line.push(b'\n');
        stream.write_all(&line).map_err(io("write to"))?;
        let mut reader = BufReader::new(stream);
        loop {
            let mut text = String::new();
            if reader.read_line(&mut text).map_err(io("read from"))? == 0 {
                return Err(ClientError::Closed {
                    project: self.project.name().to_string(),
                });
            }
            let reply: Reply = serde_json::from_str(&text).map_err(|e| ClientError::Protocol {
                message: format!("{e}: {}", text.trim()),
            })?;
            match reply {
                Reply::Progress { line } => progress(&line),
                Reply::Error { message } => return Err(ClientError::Protocol { message }),
                other => return Ok(other),
            }
        }
    }
}

fn unexpected(reply: Reply) -> ClientError {
    ClientError::Protocol {
        message: format!("{reply:?}"),
    }
}
