//! The project as the network services read it: `project::observe`, but
//! reading each container's state.json as it is, without folding exits
//! in. Folding (`Container::state`) while another thread creates the
//! container sees no pid yet and records it as killed; and a container
//! whose files are half-written (a create or remove in another thread)
//! counts as not running instead of failing the whole read. Exits are
//! folded by the supervisor's tick, which refreshes right after.

use crate::container::State;
use crate::project::{ContainerRecord, ObservedContainer, ProjectDir, Snapshot};
use std::collections::BTreeSet;
use std::path::Path;

pub fn snapshot(project: &ProjectDir) -> Snapshot {
    let mut snap = Snapshot {
        networks: names_in(&project.networks_dir()),
        ..Default::default()
    };
    for name in names_in(&project.containers_dir()) {
        let dir = project.container_dir(&name);
        let Ok(record) = ContainerRecord::read(&dir) else {
            continue;
        };
        let state = std::fs::read(dir.join(crate::container::state::STATE_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<State>(&bytes).ok());
        snap.containers
            .push(ObservedContainer { record, state, dir });
    }
    snap.containers.sort_by(|a, b| {
        (&a.record.service, a.record.number).cmp(&(&b.record.service, b.record.number))
    });
    snap
}

/// Other projects' running containers (under the same root) attached to
/// one of `networks`: on a network shared through `external`, they answer
/// by name as the project's own do.
pub fn guests(project: &ProjectDir, networks: &BTreeSet<String>) -> Vec<ContainerRecord> {
    if networks.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for name in names_in(&project.root().join("projects")) {
        if name == project.name() {
            continue;
        }
        for c in snapshot(&ProjectDir::new(project.root(), &name)).containers {
            let shares = c
                .record
                .networks
                .iter()
                .any(|a| networks.contains(&a.network));
            if shares && super::want::is_up(&c) {
                out.push(c.record);
            }
        }
    }
    out
}

fn names_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !n.starts_with('.') && !n.ends_with(".tmp"))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_made_containers_and_temp_files_are_skipped() {
        let root = tempfile::tempdir().unwrap();
        let project = ProjectDir::new(root.path(), "p");
        assert!(snapshot(&project).containers.is_empty());
        // A container directory without its record yet (a create
        // half-way), and a network record being written.
        let bare = project.container_dir("p-web-1");
        std::fs::create_dir_all(&bare).unwrap();
        std::fs::create_dir_all(project.networks_dir()).unwrap();
        std::fs::write(project.networks_dir().join("p_default"), "{}").unwrap();
        std::fs::write(project.networks_dir().join(".tmp1"), "").unwrap();
        let snap = snapshot(&project);
        assert!(snap.containers.is_empty());
        assert_eq!(snap.networks, BTreeSet::from(["p_default".to_string()]));
    }
}
