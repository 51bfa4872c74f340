//! The Compose loader: from files on disk to a typed [`Project`].
//!
//! The stages follow compose-go's loader (and so docker compose v2): for each
//! file, parse (keeping positions), interpolate, apply `include` and
//! `extends`, merge over the files before it, validate against the schema and
//! rewrite into canonical long form; then resolve relative paths, normalise
//! (default network, names), apply profiles, type the result and check it.
//! Every stage is pure apart from reading the user's files.

pub mod canonical;
pub mod discover;
pub mod dotenv;
pub mod environment;
pub mod extends;
pub mod include;
pub mod interpolate;
pub mod merge;
pub mod node;
pub mod normalize;
pub mod paths;
pub mod profiles;
pub mod schema;
pub mod validate;
pub mod yaml;

use crate::model::{ModelError, Project};
use environment::Environment;
use indexmap::IndexMap;
use node::{Location, Node};
use std::fmt;
use std::path::PathBuf;

/// Everything the command line (or a test) says about what to load.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The directory `compose` runs in.
    pub working_dir: PathBuf,
    /// `-f/--file`, in order; `-` means standard input ([`Options::stdin`]).
    pub files: Vec<PathBuf>,
    /// `--project-directory`.
    pub project_directory: Option<PathBuf>,
    /// `-p/--project-name`.
    pub project_name: Option<String>,
    /// `--env-file`, in order.
    pub env_files: Vec<PathBuf>,
    /// `--profile`, in order.
    pub profiles: Vec<String>,
    /// `--environment NAME`: also load `compose.NAME.yaml` and `.env.NAME`.
    pub environment: Option<String>,
    /// `--no-interpolate` turns this off.
    pub interpolate: bool,
    /// Services named on the command line: their profiles are enabled.
    pub selected_services: Vec<String>,
    /// The process environment (the shell's), passed in so tests control it.
    pub os_env: IndexMap<String, String>,
    /// The text of standard input when a file is `-`.
    pub stdin: Option<String>,
}

impl Options {
    /// Options for a directory with the current process's environment.
    pub fn for_dir(dir: impl Into<PathBuf>) -> Self {
        Options {
            working_dir: dir.into(),
            interpolate: true,
            ..Options::default()
        }
    }
}

/// Something the user should know that does not stop loading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub location: Option<Location>,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(l) => write!(f, "{l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A loaded project with what was learnt on the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub project: Project,
    /// The canonical document the project was typed from.
    pub document: Node,
    pub warnings: Vec<Warning>,
    /// The variables interpolation used, with their origins.
    pub environment: Environment,
    pub project_dir: PathBuf,
    pub config_files: Vec<PathBuf>,
}

/// Every way loading can fail; each variant's source names the place.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Discover(#[from] discover::DiscoverError),
    #[error(transparent)]
    Yaml(#[from] yaml::YamlError),
    #[error(transparent)]
    Interpolation(#[from] interpolate::InterpolationError),
    #[error(transparent)]
    Merge(#[from] merge::MergeError),
    #[error(transparent)]
    Schema(#[from] schema::SchemaError),
    #[error(transparent)]
    Canonical(#[from] canonical::CanonicalError),
    #[error(transparent)]
    Normalize(#[from] normalize::NormalizeError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("{file}: top-level object must be a mapping, found {found}")]
    NotAMapping { file: Location, found: &'static str },
    #[error("empty compose file: {} defines nothing", .files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", "))]
    Empty { files: Vec<PathBuf> },
}

/// Load a project as docker compose would.
pub fn load(opts: &Options) -> Result<Loaded, LoadError> {
    let mut warnings = Vec::new();
    let found = discover::discover(opts, &mut warnings)?;
    let mut document = Node::map(Default::default());
    for file in &found.files {
        for mut doc in yaml::parse_documents(&file.content, &file.path)? {
            if doc.is_null() {
                continue;
            }
            if doc.as_map().is_none() {
                return Err(LoadError::NotAMapping {
                    file: Location::new(doc.span.clone(), node::NodePath::root()),
                    found: doc.kind_name(),
                });
            }
            if opts.interpolate {
                interpolate::interpolate(&mut doc, &found.environment, &mut warnings)?;
            }
            document = merge::merge(document, doc)?;
            schema::validate(&document)?;
            canonical::canonical(&mut document, &mut warnings)?;
        }
    }
    if document.as_map().is_none_or(|m| m.is_empty()) {
        return Err(LoadError::Empty {
            files: found.files.iter().map(|f| f.path.to_path_buf()).collect(),
        });
    }
    let name = found.explicit_name.clone().unwrap_or_else(|| {
        document
            .get("name")
            .and_then(Node::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                discover::normalize_project_name(
                    &found
                        .project_dir
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                )
            })
    });
    if let Some(m) = document.as_map_mut() {
        m.insert("name".into(), Node::string(name.clone()));
    }
    normalize::normalize(&mut document, &name, &found.environment)?;
    let project = Project::from_node(&document)?;
    Ok(Loaded {
        project,
        document,
        warnings,
        environment: found.environment,
        project_dir: found.project_dir,
        config_files: found.files.iter().map(|f| f.path.to_path_buf()).collect(),
    })
}
