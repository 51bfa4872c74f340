//! Finding the project: its directory, its Compose files, its `.env` files
//! and its name.
//!
//! OWNER: loader-front helper (skeleton only).

use super::environment::{Environment, Origin};
use super::{Options, Warning};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One Compose file to load, with its text.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: Arc<Path>,
    pub content: String,
}

/// What discovery found before any YAML is read.
#[derive(Debug, Clone)]
pub struct Discovered {
    pub project_dir: PathBuf,
    pub files: Vec<ConfigFile>,
    /// Shell environment layered over the env files, with origins.
    pub environment: Environment,
    /// `-p` or `COMPOSE_PROJECT_NAME`, already checked; `None` when the name
    /// must come from the files' `name:` or the directory.
    pub explicit_name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("no configuration file provided: not found (looked for compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml in {} and its parents)", .dir.display())]
    NotFound { dir: PathBuf },
    #[error("{}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid project name {name:?}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number")]
    InvalidProjectName { name: String },
}

pub fn discover(opts: &Options, _warnings: &mut Vec<Warning>) -> Result<Discovered, DiscoverError> {
    let dir = opts.working_dir.clone();
    let path = dir.join("compose.yaml");
    let content = std::fs::read_to_string(&path).map_err(|source| DiscoverError::Read {
        path: path.clone(),
        source,
    })?;
    let mut environment = Environment::new();
    for (k, v) in &opts.os_env {
        environment.set(k, v, Origin::Shell);
    }
    Ok(Discovered {
        project_dir: dir,
        files: vec![ConfigFile {
            path: Arc::from(path),
            content,
        }],
        environment,
        explicit_name: opts.project_name.clone(),
    })
}

/// Docker compose's normalisation of a directory name into a project name:
/// lower-cased, only `[a-z0-9_-]` kept.
pub fn normalize_project_name(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect()
}
