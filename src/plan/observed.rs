//! What the runtime reports about a project before a command plans: a
//! snapshot taken once, never re-read while planning (docker compose's
//! `observed_state.go` idea).

use std::collections::BTreeSet;

/// A container's lifecycle state as the runtime saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Created,
    Running,
    Paused,
    Restarting,
    Exited { code: i32 },
    Dead,
}

impl Status {
    /// Whether the container's processes are alive (what `up` leaves alone).
    pub fn is_running(self) -> bool {
        matches!(self, Status::Running | Status::Paused | Status::Restarting)
    }
}

/// One container of the project as it exists now.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedContainer {
    pub name: String,
    pub service: String,
    /// The replica number (`web-3` is 3).
    pub number: u32,
    /// The service config hash the container was created from.
    pub config_hash: String,
    /// The hashed configuration itself, when the runtime kept it, so that a
    /// recreation can say which fields changed.
    pub config: Option<serde_json::Value>,
    pub status: Status,
}

/// The project's resources as they exist now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    pub containers: Vec<ObservedContainer>,
    /// Network names (the runtime names, e.g. `app_default`).
    pub networks: BTreeSet<String>,
    /// Volume names (e.g. `app_db-data`).
    pub volumes: BTreeSet<String>,
}

impl Observed {
    /// The containers of `service`, lowest replica number first.
    pub fn of_service(&self, service: &str) -> Vec<&ObservedContainer> {
        let mut found: Vec<_> = self
            .containers
            .iter()
            .filter(|c| c.service == service)
            .collect();
        found.sort_by_key(|c| c.number);
        found
    }
}
