//! Operations on a running container beyond signals: pause and unpause
//! (the cgroup freezer) and resource usage.

use crate::container::create::Container;
use crate::container::error::ContainerError;
use crate::container::state::{State, Status};

impl Container {
    /// `docker compose pause`: freeze every process of the container.
    pub fn pause(&self) -> Result<(), ContainerError> {
        self.set_paused(true)
    }

    /// `docker compose unpause`.
    pub fn unpause(&self) -> Result<(), ContainerError> {
        self.set_paused(false)
    }

    fn set_paused(&self, paused: bool) -> Result<(), ContainerError> {
        let mut state = self.state()?;
        let allowed = if paused {
            state.status.can_pause()
        } else {
            state.status.can_unpause()
        };
        if !allowed {
            return Err(ContainerError::BadState {
                id: self.id.clone(),
                status: state.status,
                action: if paused { "pause it" } else { "unpause it" },
            });
        }
        let cgroup_error = |source| ContainerError::Cgroup {
            id: self.id.clone(),
            source,
        };
        let save = |state: &State| {
            self.dir
                .save_state(state)
                .map_err(|source| self.io_error("write", "state.json", source))
        };
        // The init is frozen with the rest, so it cannot record an exit
        // while we write: write the state only while the group is frozen.
        if paused {
            self.cgroup.freeze().map_err(cgroup_error)?;
            let mut state = self.state()?;
            if state.status != Status::Running {
                // It stopped before the freeze took hold.
                let _ = self.cgroup.thaw();
                return Err(ContainerError::BadState {
                    id: self.id.clone(),
                    status: state.status,
                    action: "pause it",
                });
            }
            state.status = Status::Paused;
            save(&state)
        } else {
            state.status = Status::Running;
            save(&state)?;
            self.cgroup.thaw().map_err(cgroup_error)
        }
    }

    /// Memory, pids and CPU usage of the container (its cgroup).
    pub fn stats(&self) -> Result<crate::cgroups::Stats, ContainerError> {
        self.cgroup
            .stats()
            .map_err(|source| ContainerError::Cgroup {
                id: self.id.clone(),
                source,
            })
    }
}
