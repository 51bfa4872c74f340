//! RUN: the command runs in one of our containers on the stage's layers
//! (overlay lower dirs, top first) with the stage's environment, user and
//! working directory; what it changed is left in the container's upper
//! dir. Its output, which the init writes to `log.jsonl`, is followed
//! while it runs and passed on line by line.

use super::error::{io, ExecError};
use super::{BuildNetwork, Event};
use crate::build::dockerfile::Location;
use crate::container::log::LogEntry;
use crate::container::spec::DEFAULT_PATH;
use crate::container::{Container, ContainerSpec, InitProgram, NetworkMode};
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Lines of output kept for the error of a failed step.
const TAIL: usize = 20;

/// Mount points the init creates in the root when the image lacks them;
/// they are the container's, not the step's, and stay out of the layer.
const MOUNT_POINTS: &[&str] = &[
    "etc/hosts",
    "etc/hostname",
    "etc/resolv.conf",
    "etc",
    "dev/shm",
    "dev/pts",
    "dev/mqueue",
    "dev",
    "proc",
    "sys",
];

/// One RUN to execute.
pub struct RunStep<'a> {
    pub at: &'a Location,
    pub argv: Vec<String>,
    /// `KEY=VALUE` entries.
    pub env: Vec<String>,
    pub cwd: String,
    pub user: String,
    pub network: BuildNetwork,
    /// `RUN --mount`s; their targets stay out of the layer.
    pub mounts: Vec<crate::container::Mount>,
}

/// Run `step` on `lowers` (top first) in a container whose state lives in
/// `state_dir`; returns its upper dir once it exited 0.
pub fn run(
    step: RunStep<'_>,
    lowers: Vec<PathBuf>,
    state_dir: &Path,
    init: &InitProgram,
    net: Option<&super::net::BuildNet>,
    progress: &mut dyn FnMut(Event),
) -> Result<PathBuf, ExecError> {
    let id = format!(
        "build-{}-{}",
        std::process::id(),
        state_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    let mut spec = ContainerSpec::new(&id, lowers.clone(), step.argv.clone());
    spec.process.env = step.env;
    if !spec.process.env.iter().any(|e| e.starts_with("PATH=")) {
        spec.process.env.push(format!("PATH={DEFAULT_PATH}"));
    }
    spec.process.cwd = step.cwd;
    spec.process.user = step.user;
    // A mount target and the directories made for it (a secret's
    // `/run/secrets/<id>` makes `run/secrets`), deepest first.
    let targets: Vec<String> = step
        .mounts
        .iter()
        .flat_map(|m| match m {
            crate::container::Mount::Bind { target, .. }
            | crate::container::Mount::Tmpfs { target, .. } => {
                let parts: Vec<&str> = target.split('/').filter(|p| !p.is_empty()).collect();
                (1..=parts.len())
                    .rev()
                    .map(|n| parts[..n].join("/"))
                    .collect::<Vec<_>>()
            }
        })
        .collect();
    spec.mounts = step.mounts;
    let joined = match (step.network, net) {
        (BuildNetwork::None, _) => {
            spec.network = NetworkMode::Loopback;
            None
        }
        (BuildNetwork::Bridge, Some(net)) => {
            let path = net.join(&id, step.at)?;
            spec.network = NetworkMode::Join { path };
            spec.etc.resolv_conf = net.resolv_conf.clone();
            Some(net)
        }
        // `network: host`, or no resolver a bridge could reach.
        _ => {
            spec.network = NetworkMode::Host;
            None
        }
    };
    let container_err = |source| ExecError::Container {
        at: step.at.clone(),
        source: Box::new(source),
    };
    let status = match Container::create(&spec, state_dir, init) {
        Ok(container) => {
            let mut tail = Vec::new();
            let status = follow(&container, progress, &mut tail);
            let _ = container.cleanup();
            status.map(|s| (s, tail))
        }
        Err(e) => Err(e),
    };
    if let Some(net) = joined {
        net.leave(&id);
    }
    let (status, tail) = status.map_err(container_err)?;
    if status.code != 0 {
        return Err(ExecError::RunFailed {
            at: step.at.clone(),
            command: step.argv.join(" "),
            code: status.code,
            output: tail,
        });
    }
    let upper = state_dir.join(crate::container::rootfs::UPPER);
    let points = MOUNT_POINTS.iter().map(|s| s.to_string()).chain(targets);
    drop_mount_points(&upper, &lowers, points).map_err(io("clean", &upper))?;
    Ok(upper)
}

/// Wait for the container, passing each new log line on as it appears.
fn follow(
    container: &Container,
    progress: &mut dyn FnMut(Event),
    tail: &mut Vec<String>,
) -> Result<crate::container::ExitStatus, crate::container::ContainerError> {
    let mut reader: Option<BufReader<std::fs::File>> = None;
    let mut pos = 0u64;
    loop {
        let done = container.wait_timeout(Duration::from_millis(50))?;
        if reader.is_none() {
            reader = std::fs::File::open(container.log_path())
                .ok()
                .map(BufReader::new);
        }
        if let Some(r) = reader.as_mut() {
            pos = read_lines(r, pos, progress, tail);
        }
        if let Some(status) = done {
            return Ok(status);
        }
    }
}

/// Read the complete lines after `pos`; returns the new position.
fn read_lines(
    r: &mut BufReader<std::fs::File>,
    mut pos: u64,
    progress: &mut dyn FnMut(Event),
    tail: &mut Vec<String>,
) -> u64 {
    if r.seek(SeekFrom::Start(pos)).is_err() {
        return pos;
    }
    let mut line = String::new();
    while let Ok(n) = r.read_line(&mut line) {
        if n == 0 || !line.ends_with('\n') {
            break;
        }
        pos += n as u64;
        if let Ok(entry) = serde_json::from_str::<LogEntry>(&line) {
            let text = entry.log.trim_end_matches('\n').to_string();
            progress(Event::Output { line: text.clone() });
            tail.push(text);
            if tail.len() > TAIL {
                tail.remove(0);
            }
        }
        line.clear();
    }
    pos
}

/// Remove from `upper` the mount points the init made, when they are
/// empty and no lower has them (so they are not part of the step).
fn drop_mount_points(
    upper: &Path,
    lowers: &[PathBuf],
    points: impl Iterator<Item = String>,
) -> std::io::Result<()> {
    for rel in points {
        let rel = rel.as_str();
        let path = upper.join(rel);
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if lowers
            .iter()
            .any(|l| l.join(rel).symlink_metadata().is_ok())
        {
            continue;
        }
        if meta.is_dir() {
            if std::fs::read_dir(&path)?.next().is_none() {
                std::fs::remove_dir(&path)?;
            }
        } else if meta.is_file() && meta.len() == 0 {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}
