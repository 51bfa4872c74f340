//! Projects: the containers, volumes and networks of one Compose project on
//! disk, and the executor that applies a plan's steps to them.
//!
//! ```text
//! $COMPOSE_ROOT/projects/<project>/
//!   project.lock                 flock: one command changing the project at a time
//!   containers/<name>/           the container's state dir (see `container`)
//!     compose.json               ContainerRecord: service, replica, config hash,
//!                                hashed config, spec, stop signal (written at create)
//!   networks/<name>              a network this project created (its NetworkSpec)
//! $COMPOSE_ROOT/volumes/<name>/_data   named and anonymous volumes
//! ```
//!
//! `observe` snapshots this for planning; `executor::execute` performs
//! steps (`Op`) in dependency order, independent ones in parallel. Nothing
//! here knows Compose YAML: the CLI turns its plan into `Op`s.

pub mod command;
pub mod condition;
pub mod executor;
pub mod hooks;
pub mod interrupt;
pub mod join;
pub mod listing;
pub mod logs;
pub mod observe;
pub mod ops;
pub mod pre_start;
pub mod record;
pub mod services;
pub mod volume;

pub use executor::{execute, Env, ExecuteError, OnFailure, Op, Progress, Step};
pub use observe::{observe, ObservedContainer, Snapshot};
pub use record::ContainerRecord;
pub use services::{NoServices, Services};

use crate::container::{CleanupError, ContainerError};
use crate::image::lock::{lock, LockError, LockGuard};
use std::path::{Path, PathBuf};

/// Where one project's state lives.
#[derive(Debug, Clone)]
pub struct ProjectDir {
    root: PathBuf,
    name: String,
}

impl ProjectDir {
    /// The project `name` under `compose_root`.
    pub fn new(compose_root: &Path, name: &str) -> ProjectDir {
        ProjectDir {
            root: compose_root.to_path_buf(),
            name: name.to_string(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `$COMPOSE_ROOT`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn dir(&self) -> PathBuf {
        self.root.join("projects").join(&self.name)
    }

    pub fn containers_dir(&self) -> PathBuf {
        self.dir().join("containers")
    }

    pub fn container_dir(&self, name: &str) -> PathBuf {
        self.containers_dir().join(name)
    }

    pub fn networks_dir(&self) -> PathBuf {
        self.dir().join("networks")
    }

    /// `$COMPOSE_ROOT/volumes` (shared by all projects, names carry the
    /// project prefix).
    pub fn volumes_dir(&self) -> PathBuf {
        self.root.join("volumes")
    }

    /// Whether any container directory exists (cheaper than a snapshot).
    pub fn has_containers(&self) -> bool {
        std::fs::read_dir(self.containers_dir())
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
    }

    /// Take the project lock: two commands changing one project serialise.
    pub fn lock(&self) -> Result<LockGuard, ProjectError> {
        let dir = self.dir();
        std::fs::create_dir_all(&dir).map_err(ProjectError::io("create", &dir))?;
        Ok(lock(&dir.join("project.lock"), true)?)
    }

    /// Remove the project's directory once it holds no container and no
    /// network (after `down`), so `ls projects/` lists live projects only.
    pub fn remove_if_empty(&self) {
        for sub in [self.containers_dir(), self.networks_dir()] {
            let _ = std::fs::remove_dir(sub);
        }
        // The supervisor's files keep the directory until it exits, and
        // it calls this again then.
        let entries: Vec<_> = std::fs::read_dir(self.dir())
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        if entries
            .iter()
            .all(|n| n == "project.lock" || n == listing::CONFIG_FILES)
        {
            let _ = std::fs::remove_file(self.dir().join(listing::CONFIG_FILES));
            let _ = std::fs::remove_file(self.dir().join("project.lock"));
            let _ = std::fs::remove_dir(self.dir());
        }
    }
}

/// What went wrong managing a project's containers and volumes.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a valid container record: {source}", path.display())]
    Record {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("no such container: {name}")]
    NoSuchContainer { name: String },
    #[error(transparent)]
    Container(#[from] ContainerError),
    #[error(transparent)]
    Cleanup(#[from] CleanupError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("container {name}: exec {command:?}: executable file not found in $PATH ({path}) in the image")]
    CommandNotFound {
        name: String,
        command: String,
        path: String,
    },
    #[error("container {name}: exec {command:?}: no such file in the image")]
    NoSuchFile { name: String, command: String },
    #[error(
        "container {name}: unknown stop signal {signal:?} (use a name like SIGTERM or a number)"
    )]
    BadSignal { name: String, signal: String },
    #[error("container {container}: {source}")]
    Network {
        container: String,
        #[source]
        source: crate::network::NetworkError,
    },
    #[error("container {container}: {source}")]
    NetworkTeardown {
        container: String,
        #[source]
        source: crate::network::TeardownError,
    },
    #[error(transparent)]
    NetworkCreate(#[from] crate::network::NetworkError),
    #[error(transparent)]
    NetworkRemove(#[from] crate::network::TeardownError),
    #[error("network {network} declared as external, but could not be found (create it with another project or `compose network create`, or remove `external: true`)")]
    ExternalNetworkMissing { network: String },
    #[error("container {container}: {kind} hook exited with status {code}{}", if output.is_empty() { String::new() } else { format!(": {output}") })]
    Hook {
        container: String,
        kind: &'static str,
        code: i32,
        output: String,
    },
    #[error("service {service} pre_start[{index}] exited with code {code} (container {container}){}", if output.is_empty() { String::new() } else { format!(": {output}") })]
    PreStart {
        service: String,
        container: String,
        index: usize,
        code: i32,
        output: String,
    },
    #[error("service {service} pre_start[{index}] was stopped before it finished (container {container} was stopped or removed)")]
    PreStartAborted {
        service: String,
        container: String,
        index: usize,
    },
    #[error("service {service} pre_start[{index}]: image {image}: {source} (pull or build it first, e.g. `compose image pull {image}`)")]
    HookImage {
        service: String,
        index: usize,
        image: String,
        #[source]
        source: Box<crate::image::StoreError>,
    },
    #[error("dependency {dependency} {}: {why} ({dependent} depends on {dependency} with condition {condition})", condition::headline(*condition))]
    Dependency {
        dependent: String,
        dependency: String,
        condition: condition::Condition,
        why: condition::Unmet,
    },
    #[error("service {service}: {source}")]
    Publish {
        service: String,
        #[source]
        source: crate::network::NetworkError,
    },
}

impl ProjectError {
    pub(crate) fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| ProjectError::Io {
            action,
            path,
            source,
        }
    }
}

/// A signal by name (`SIGTERM`, `TERM`) or number, as `stop_signal` and
/// `kill -s` take it.
pub fn parse_signal(text: &str) -> Option<nix::sys::signal::Signal> {
    use std::str::FromStr;
    if let Ok(n) = text.parse::<i32>() {
        return nix::sys::signal::Signal::try_from(n).ok();
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    nix::sys::signal::Signal::from_str(&name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::signal::Signal;

    #[test]
    fn signals_by_name_short_name_or_number() {
        assert_eq!(parse_signal("SIGTERM"), Some(Signal::SIGTERM));
        assert_eq!(parse_signal("quit"), Some(Signal::SIGQUIT));
        assert_eq!(parse_signal("9"), Some(Signal::SIGKILL));
        assert_eq!(parse_signal("SIGNOPE"), None);
    }
}
