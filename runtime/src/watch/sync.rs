//! One sync into one running container, as docker compose's tar syncer
//! does it: first `rm -rf` of the paths deleted on the host, exec'd in
//! the container (so it needs an `rm`, as docker compose's does), then the
//! archive of the changed paths unpacked at the container's `/` by the
//! copy shim (`container::cp`), which enters the container's mount
//! namespace so every path and symlink resolves inside it. Owners are
//! kept, as docker compose asks the engine to (`CopyUIDGID`).

use super::archive::{write_sync_archive, SyncEntry};
use crate::container::cp::{CopyOp, Layout};
use crate::container::{Container, ContainerError, InitProgram};
use crate::project::ObservedContainer;
use std::io::Read;
use std::process::Stdio;

/// Why a sync into a container failed; each names the container.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("container {container}: {source}")]
    Container {
        container: String,
        #[source]
        source: Box<ContainerError>,
    },
    #[error("container {container}: cannot {action}: {source}")]
    Io {
        container: String,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("deleting paths in {container}: `rm` exited with {code}: {output}")]
    Delete {
        container: String,
        code: i32,
        output: String,
    },
    #[error("copying files to {container}: {message}")]
    Copy { container: String, message: String },
}

/// Delete `deleted` (container paths) and copy `copies` into `c`.
pub fn sync_container(
    c: &ObservedContainer,
    copies: &[SyncEntry],
    deleted: &[String],
    init: &InitProgram,
) -> Result<(), SyncError> {
    let name = c.record.name.clone();
    let container = Container::load(&c.dir).map_err(|source| SyncError::Container {
        container: name.clone(),
        source: Box::new(source),
    })?;
    if !deleted.is_empty() {
        delete(c, &container, deleted, init)?;
    }
    if !copies.is_empty() {
        copy(&name, &container, copies, init)?;
    }
    Ok(())
}

fn delete(
    c: &ObservedContainer,
    container: &Container,
    paths: &[String],
    init: &InitProgram,
) -> Result<(), SyncError> {
    let name = &c.record.name;
    let mut process = c.running_process();
    process.args = ["rm", "-rf", "--"]
        .into_iter()
        .map(String::from)
        .chain(paths.iter().cloned())
        .collect();
    process.tty = false;
    let out = container
        .exec(&process, init)
        .map_err(|source| SyncError::Container {
            container: name.clone(),
            source: Box::new(source),
        })?
        .output()
        .map_err(|source| SyncError::Io {
            container: name.clone(),
            action: "run rm",
            source,
        })?;
    if out.status.success() {
        return Ok(());
    }
    Err(SyncError::Delete {
        container: name.clone(),
        code: out.status.code().unwrap_or(-1),
        output: String::from_utf8_lossy(&out.stderr).trim().to_string(),
    })
}

fn copy(
    name: &str,
    container: &Container,
    copies: &[SyncEntry],
    init: &InitProgram,
) -> Result<(), SyncError> {
    let io = |action| {
        let container = name.to_string();
        move |source| SyncError::Io {
            container,
            action,
            source,
        }
    };
    let op = CopyOp::In {
        dest: "/".into(),
        layout: Layout::Stream,
        archive: true,
    };
    let mut cmd = container
        .copy(&op, init)
        .map_err(|source| SyncError::Container {
            container: name.to_string(),
            source: Box::new(source),
        })?;
    cmd.command_mut()
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(io("start the copy"))?;
    let mut stderr = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut stdin = child.stdin.take().expect("piped");
    let written = write_sync_archive(copies, &mut stdin);
    drop(stdin);
    let status = child.wait().map_err(io("wait for the copy"))?;
    let message = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(SyncError::Copy {
            container: name.to_string(),
            message: message.trim().to_string(),
        });
    }
    // A shim that failed early closes the pipe: its message says why.
    written.map_err(io("write the archive"))
}
