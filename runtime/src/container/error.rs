//! Errors of the container layer: `SetupError` for what the init does
//! inside the new namespaces, `ContainerError` for the host-side API.

use crate::cgroups::CgroupError;
use crate::container::caps::UnknownCapability;
use crate::container::seccomp::SeccompError;
use crate::container::user::UserError;
use nix::errno::Errno;
use std::path::PathBuf;

/// A step of the container's setup failed (reported by the init).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot mount {fstype} {source_desc} on {target}: {errno}")]
    Mount {
        fstype: String,
        source_desc: String,
        target: PathBuf,
        errno: Errno,
    },
    #[error("cannot unshare namespaces ({flags}): {errno}")]
    Unshare { flags: String, errno: Errno },
    #[error("cannot join the network namespace {path}: {errno}")]
    JoinNetwork { path: PathBuf, errno: Errno },
    #[error("cannot join the namespace {path}: {errno}")]
    JoinNamespace { path: PathBuf, errno: Errno },
    #[error("container {id} is not running")]
    NotRunning { id: String },
    #[error("{path} is not a character or block device: `devices:` maps device nodes only")]
    NotADevice { path: PathBuf },
    #[error("device {path}: permissions {permissions:?} must be made of r, w and m")]
    BadDevicePermissions { path: PathBuf, permissions: String },
    #[error("sysctl {key} is not allowed: {reason}")]
    SysctlNotAllowed { key: String, reason: &'static str },
    #[error("cannot set sysctl {key}={value:?}: {source}")]
    Sysctl {
        key: String,
        value: String,
        source: std::io::Error,
    },
    #[error("cannot pivot_root into {root}: {errno}")]
    PivotRoot { root: PathBuf, errno: Errno },
    #[error("cannot set the hostname to {name:?}: {errno}")]
    Hostname { name: String, errno: Errno },
    #[error("the rootfs has no layers: an image must provide at least one lower dir")]
    NoLayers,
    #[error("overlay options are {len} bytes, above the kernel's page-size limit: too many layers or paths too long")]
    OverlayOptionsTooLong { len: usize },
    #[error("the layer path {path} contains ':' or ',' which overlayfs cannot take")]
    BadLayerPath { path: PathBuf },
    #[error("cannot resolve or create {path} inside the container: {errno}")]
    Target { path: PathBuf, errno: Errno },
    #[error("the image's {path} is not a directory: the container needs it as a mount point")]
    NotADirectory { path: PathBuf },
    #[error("cannot set the domain name to {name:?}: {errno}")]
    Domainname { name: String, errno: Errno },
    #[error("domainname {name:?} is invalid: use at most 64 characters, no spaces or control characters")]
    BadDomainname { name: String },
    #[error("mount target {target:?} must be an absolute path")]
    RelativeTarget { target: String },
    #[error("unknown ulimit {name:?}: use one of core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack")]
    UnknownRlimit { name: String },
    #[error("hostname {name:?} is invalid: use letters, digits and '-' in dot-separated labels, at most 63 characters")]
    BadHostname { name: String },
    #[error("oom_score_adj {score} is out of range: use -1000 to 1000")]
    BadOomScoreAdj { score: i32 },
    #[error("the working directory {cwd:?} is invalid: it needs to be an absolute path")]
    RelativeWorkingDir { cwd: String },
    #[error("the container has no command: set `command` or use an image with an entrypoint")]
    NoCommand,
    #[error("an argument or environment entry contains a NUL byte: {value:?}")]
    NulByte { value: String },
    #[error("cannot {action}: {errno}")]
    Sys { action: &'static str, errno: Errno },
    #[error(transparent)]
    User(#[from] UserError),
    #[error(transparent)]
    Capability(#[from] UnknownCapability),
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    #[error(transparent)]
    Seccomp(#[from] SeccompError),
    #[error("cannot set capabilities: {0}")]
    Caps(#[from] caps::errors::CapsError),
}

impl SetupError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> SetupError {
        let path = path.into();
        move |source| SetupError::Io {
            action,
            path,
            source,
        }
    }

    pub(crate) fn sys(action: &'static str) -> impl FnOnce(Errno) -> SetupError {
        move |errno| SetupError::Sys { action, errno }
    }
}

/// Errors of the host-side container API.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("container {id}: cannot {action} {path}: {source}")]
    Io {
        id: String,
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("container {id}: the layer directory {path} does not exist")]
    MissingLayer { id: String, path: PathBuf },
    #[error("container {id}: the bind mount source {path} does not exist")]
    MissingBindSource { id: String, path: PathBuf },
    #[error("container {id}: {source}")]
    Cgroup { id: String, source: CgroupError },
    #[error("container {id}: {source}")]
    Spec { id: String, source: SetupError },
    #[error("container {id}: cannot start the init {program}: {source}")]
    Spawn {
        id: String,
        program: PathBuf,
        source: std::io::Error,
    },
    #[error("container {id}: setup failed: {message}")]
    Setup { id: String, message: String },
    #[error(
        "container {id}: the setup did not finish within {after:?} and was stopped; see {log}"
    )]
    SetupTimeout {
        id: String,
        after: std::time::Duration,
        log: PathBuf,
    },
    #[error("container {id}: the init exited without reporting (status {status}); see {log}")]
    InitVanished {
        id: String,
        status: std::process::ExitStatus,
        log: PathBuf,
    },
    #[error("container {id} is {status:?}: cannot {action}")]
    BadState {
        id: String,
        status: crate::container::state::Status,
        action: &'static str,
    },
    #[error("container {id}: cannot signal the init: {source}")]
    Signal { id: String, source: std::io::Error },
}

/// Every failure of a cleanup (it never stops at the first).
#[derive(Debug, thiserror::Error)]
#[error("container {id}: cleanup failed: {}", join(errors))]
pub struct CleanupError {
    pub id: String,
    pub errors: Vec<ContainerError>,
}

fn join(errors: &[ContainerError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}
