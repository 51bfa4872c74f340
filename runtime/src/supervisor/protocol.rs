//! The supervisor's wire format: one JSON object per line.

use crate::project::{OnFailure, Snapshot, Step};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    /// Is the supervisor alive? Answered with `Pong`.
    Ping,
    /// The project's state: answered with `Snapshot`.
    Observe,
    /// Perform steps: `Progress` lines, then `Applied` or `Failed`.
    Apply {
        steps: Vec<Step>,
        #[serde(default)]
        on_failure: OnFailure,
    },
    /// Exit now (containers keep running).
    Shutdown,
    /// Stream `Event` replies from now on, until the client goes away.
    Events,
    /// What is published: answered with `Ports`.
    Ports,
}

/// One step that began or finished, as progress lines show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressLine {
    /// "Container", "Volume", "Network".
    pub kind: String,
    pub name: String,
    /// "Created", "Started", ...; "Creating", "Starting" when `working`.
    pub done: String,
    /// Set when the step failed.
    pub error: Option<String>,
    /// The step has begun and is not finished (the tty display's spinner).
    #[serde(default)]
    pub working: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    Pong {
        pid: u32,
    },
    Snapshot {
        snapshot: Snapshot,
    },
    Progress {
        line: ProgressLine,
    },
    Applied,
    /// The failed step, its error, and the steps left undone.
    Failed {
        op: String,
        error: String,
        #[serde(default)]
        others: Vec<String>,
        skipped: Vec<String>,
    },
    /// The request could not be read or served.
    Error {
        message: String,
    },
    ShuttingDown,
    Ports {
        ports: Vec<super::netsvc::ports::PortEntry>,
    },
    Event {
        event: super::events::Event,
    },
}
