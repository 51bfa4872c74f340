//! Containers: one Linux container started from a root filesystem, with our
//! own init as PID 1. The host side (`create`) prepares the state directory
//! and cgroup and starts the init; the init side (`init`, `rootfs`,
//! `mounts`, `devices`, `workload`, `supervise`) runs inside the new
//! namespaces. Specs are plain Rust (`spec`); state lives in `state.json`.

pub mod caps;
mod control;
pub mod create;
pub mod devices;
pub mod error;
pub mod exec;
pub mod init;
pub mod launch;
pub mod log;
pub mod mounts;
mod prepare;
pub mod rootfs;
pub mod seccomp;
pub mod spec;
pub mod state;
pub mod supervise;
pub mod sysctl;
pub mod user;
pub mod workload;

pub use create::Container;
pub use error::{CleanupError, ContainerError, SetupError};
pub use launch::{become_subreaper, InitProgram};
pub use spec::{ContainerSpec, Mount, NetworkMode};
pub use state::{ExitStatus, State, Status};
