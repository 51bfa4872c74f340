//! Every project under `$COMPOSE_ROOT/projects` (`compose ls`), and the
//! Compose files each was last brought up from. Docker compose finds both
//! through its containers' labels (`com.docker.compose.project`,
//! `com.docker.compose.project.config_files`); here the files are one
//! record per project, `config-files.json`, written by `up`.

use super::{observe, ProjectDir, ProjectError};
use crate::container::Status;
use std::path::{Path, PathBuf};

/// The record of the Compose files, in the project's directory.
pub const CONFIG_FILES: &str = "config-files.json";

/// One project as `ls` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSummary {
    pub name: String,
    /// The status of each container, in the snapshot's order.
    pub statuses: Vec<Status>,
    /// The Compose files of the last `up`; empty when never recorded.
    pub config_files: Vec<PathBuf>,
}

/// Record the Compose files `dir`'s project was brought up from (atomic:
/// a temp file renamed over the old record).
pub fn record_config_files(dir: &ProjectDir, files: &[PathBuf]) -> Result<(), ProjectError> {
    let path = dir.dir().join(CONFIG_FILES);
    let tmp = dir
        .dir()
        .join(format!(".{CONFIG_FILES}.{}.tmp", std::process::id()));
    let json = serde_json::to_vec(files).expect("paths serialise");
    std::fs::write(&tmp, json).map_err(ProjectError::io("write", &tmp))?;
    std::fs::rename(&tmp, &path).map_err(ProjectError::io("write", &path))
}

/// The recorded Compose files (empty when none were recorded).
pub fn config_files(dir: &ProjectDir) -> Vec<PathBuf> {
    std::fs::read(dir.dir().join(CONFIG_FILES))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Every project under `compose_root` that has at least one container,
/// sorted by name. Reads state files only: it starts no supervisor.
pub fn list(compose_root: &Path) -> Result<Vec<ProjectSummary>, ProjectError> {
    let projects = compose_root.join("projects");
    let mut names: Vec<String> = match std::fs::read_dir(&projects) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => {
            return Err(ProjectError::Io {
                action: "list",
                path: projects,
                source,
            })
        }
    };
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let dir = ProjectDir::new(compose_root, &name);
        let snap = observe(&dir)?;
        if snap.containers.is_empty() {
            continue;
        }
        out.push(ProjectSummary {
            statuses: snap.containers.iter().map(|c| c.status()).collect(),
            config_files: config_files(&dir),
            name,
        });
    }
    Ok(out)
}
