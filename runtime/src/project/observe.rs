//! A snapshot of a project as it is on disk: each container's record and
//! lifecycle state, the recorded networks and the existing volumes. Taken
//! once per command, before planning.

use super::record::ContainerRecord;
use super::{ProjectDir, ProjectError};
use crate::container::{Container, State, Status};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// One container of the project.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ObservedContainer {
    pub record: ContainerRecord,
    /// `None`: created but never started (no runtime state yet).
    pub state: Option<State>,
    pub dir: PathBuf,
}

impl ObservedContainer {
    /// The lifecycle status; a never-started container is `Created`.
    pub fn status(&self) -> Status {
        self.state.as_ref().map_or(Status::Created, |s| s.status)
    }

    /// The process the container runs with as started: the record's, plus
    /// what start added (link variables). `exec` starts from it, as
    /// Docker's exec inherits the container's environment.
    pub fn running_process(&self) -> crate::container::spec::ProcessSpec {
        let path = self.dir.join(crate::container::state::CONFIG_FILE);
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<crate::container::state::InitConfig>(&b).ok())
            .map_or_else(|| self.record.spec.process.clone(), |c| c.spec.process)
    }
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    /// Sorted by service, then replica number.
    pub containers: Vec<ObservedContainer>,
    pub networks: BTreeSet<String>,
    /// Every volume under `$COMPOSE_ROOT/volumes` (names carry their
    /// project's prefix).
    pub volumes: BTreeSet<String>,
}

/// Read the project's state. A container directory without a record is a
/// leftover of an interrupted create and is skipped.
pub fn observe(project: &ProjectDir) -> Result<Snapshot, ProjectError> {
    let mut snap = Snapshot {
        networks: names_in(&project.networks_dir())?,
        volumes: names_in(&project.volumes_dir())?
            .into_iter()
            .filter(|n| !n.starts_with('.'))
            .collect(),
        ..Default::default()
    };
    let names: Vec<String> = names_in(&project.containers_dir())?.into_iter().collect();
    // Reading a container is a few small files and JSON documents: with
    // many containers (`ps` of 100 replicas) they are read in parallel.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = names.len().div_ceil(threads).max(PER_THREAD);
    let read: Vec<Result<Vec<ObservedContainer>, ProjectError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = names
            .chunks(chunk)
            .map(|part| {
                scope.spawn(|| {
                    part.iter()
                        .filter_map(|n| container(project, n).transpose())
                        .collect()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    for part in read {
        snap.containers.extend(part?);
    }
    snap.containers.sort_by(|a, b| {
        (&a.record.service, a.record.number).cmp(&(&b.record.service, b.record.number))
    });
    Ok(snap)
}

/// Below this many containers a second thread costs more than it saves.
const PER_THREAD: usize = 16;

/// One container, `None` for a directory without a record (a leftover of
/// an interrupted create).
fn container(project: &ProjectDir, name: &str) -> Result<Option<ObservedContainer>, ProjectError> {
    let dir = project.container_dir(name);
    let Ok(record) = ContainerRecord::read(&dir) else {
        return Ok(None);
    };
    // `Container::create` writes state.json ("created") before it has a
    // cgroup to put in config.json: a container seen between the two is
    // being created and has no runtime state yet (reading it then failed
    // with "cannot read config.json" for any concurrent reader).
    use crate::container::state::{CONFIG_FILE, STATE_FILE};
    let state = if dir.join(STATE_FILE).exists() && dir.join(CONFIG_FILE).exists() {
        Some(Container::load(&dir)?.state()?)
    } else {
        None
    };
    Ok(Some(ObservedContainer { record, state, dir }))
}

fn names_in(dir: &std::path::Path) -> Result<BTreeSet<String>, ProjectError> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.ends_with(".tmp") && !n.starts_with(".tmp"))
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(source) => Err(ProjectError::Io {
            action: "list",
            path: dir.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::state::{State, StateDir};

    #[test]
    fn a_container_being_created_is_seen_without_state() {
        let root = tempfile::tempdir().unwrap();
        let project = ProjectDir::new(root.path(), "p");
        let dir = project.container_dir("p-web-1");
        std::fs::create_dir_all(&dir).unwrap();
        crate::supervisor::netsvc::want::tests::record("web", 1, &[])
            .write(&dir)
            .unwrap();
        // Container::create's first write: state.json, no config.json yet.
        let state_dir = StateDir::open(&dir).unwrap();
        state_dir.save_state(&State::created("p-web-1")).unwrap();
        let snap = observe(&project).expect("no error mid-create");
        assert_eq!(snap.containers.len(), 1);
        assert!(snap.containers[0].state.is_none());
    }
}
