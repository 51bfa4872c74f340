//! The project's event stream (`compose events`): container lifecycle
//! events appended as JSON lines to `projects/<project>/events.jsonl` by
//! the supervisor, from the steps it performs and from the exits it sees,
//! and streamed to clients from the end of the file (docker compose shows
//! events from now on).

use crate::container::state::now_rfc3339;
use crate::project::{Op, ProjectDir};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

pub const EVENTS_FILE: &str = "events.jsonl";

/// One event, in docker compose's `events --json` shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub time: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub action: String,
    /// The container (or volume, network) name.
    pub id: String,
    #[serde(default)]
    pub service: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

pub fn path(project: &ProjectDir) -> PathBuf {
    project.dir().join(EVENTS_FILE)
}

/// The event of a finished step: Docker's action names (create, start,
/// stop, destroy).
pub fn of_op(op: &Op) -> Event {
    let (kind, name) = op.subject();
    let action = match op {
        Op::CreateContainer { .. } | Op::CreateVolume { .. } | Op::CreateNetwork { .. } => "create",
        Op::StartContainer { .. } => "start",
        Op::StopContainer { .. } => "stop",
        Op::RemoveContainer { .. } | Op::RemoveVolume { .. } | Op::RemoveNetwork { .. } => {
            "destroy"
        }
        // Waiting changes nothing: no event (`append` skips an empty action).
        Op::AwaitCondition { .. } => "",
    };
    let service = match op {
        Op::CreateContainer { request } => request.record.service.clone(),
        _ => String::new(),
    };
    Event {
        time: now_rfc3339(),
        kind: kind.to_ascii_lowercase(),
        action: action.to_string(),
        id: name.to_string(),
        service,
        attributes: BTreeMap::new(),
    }
}

/// A container's workload exited (Docker's `die`, with `exitCode`).
pub fn died(name: &str, service: &str, code: i32) -> Event {
    Event {
        time: now_rfc3339(),
        kind: "container".into(),
        action: "die".into(),
        id: name.to_string(),
        service: service.to_string(),
        attributes: BTreeMap::from([("exitCode".to_string(), code.to_string())]),
    }
}

/// A container's health changed (Docker's `health_status: healthy`).
pub fn health(name: &str, service: &str, status: crate::supervisor::health::HealthStatus) -> Event {
    Event {
        time: now_rfc3339(),
        kind: "container".into(),
        action: format!("health_status: {status}"),
        id: name.to_string(),
        service: service.to_string(),
        attributes: BTreeMap::new(),
    }
}

/// Append `event` (one write of one line with O_APPEND, so concurrent
/// writers never interleave within a line). Events are best effort; an
/// event without an action (a step that changed nothing) is not written.
pub fn append(project: &ProjectDir, event: &Event) {
    if event.action.is_empty() {
        return;
    }
    let Ok(mut line) = serde_json::to_vec(event) else {
        return;
    };
    line.push(b'\n');
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path(project))
    {
        let _ = f.write_all(&line);
    }
}

impl std::fmt::Display for Event {
    /// docker compose's text form: `TIME TYPE ACTION ID (k=v, ...)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {} {}", self.time, self.kind, self.action, self.id)?;
        let mut attrs: Vec<String> = self
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !self.service.is_empty() {
            attrs.insert(0, format!("service={}", self.service));
        }
        if !attrs.is_empty() {
            write!(f, " ({})", attrs.join(", "))?;
        }
        Ok(())
    }
}
