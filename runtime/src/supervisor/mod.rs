//! The project supervisor: one long-lived process per project (the hidden
//! `compose supervise` subcommand), started detached by the first command
//! that needs it. It performs plans (so container inits are its children:
//! it is their subreaper and reaps them), answers snapshots, and exits
//! when the project has nothing left. Containers never depend on it: their
//! PID 1 is our own init, so after a SIGKILL of the supervisor they keep
//! running and the next command starts a new supervisor, which re-adopts
//! them from their state directories (pidfds).
//!
//! The API is JSON lines on `projects/<project>/supervisor.sock`: one
//! [`protocol::Request`] per connection, answered by [`protocol::Reply`]
//! lines (progress lines, then one final reply). It also runs the
//! project's DNS servers and port proxies ([`netsvc`]).

pub mod client;
pub mod events;
pub mod health;
pub mod netsvc;
pub mod protocol;
pub mod restart;
pub mod server;

pub use client::{Client, ClientError};

use crate::project::ProjectDir;
use std::path::PathBuf;

pub const SOCKET: &str = "supervisor.sock";
pub const PID_FILE: &str = "supervisor.pid";
pub const LOG_FILE: &str = "supervisor.log";

pub fn socket_path(project: &ProjectDir) -> PathBuf {
    project.dir().join(SOCKET)
}

pub fn pid_path(project: &ProjectDir) -> PathBuf {
    project.dir().join(PID_FILE)
}
