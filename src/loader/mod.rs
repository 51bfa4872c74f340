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
pub mod label_files;
pub mod merge;
pub mod node;
pub mod normalize;
pub mod paths;
pub mod pipeline;
pub mod profiles;
pub mod schema;
pub mod service_env;
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
    /// Resolve each service's `env_file` and bare `environment` keys into
    /// its environment (off with `config --no-env-resolution`).
    pub resolve_environment: bool,
    /// Drop `env_file` once resolved, as `compose config` prints it.
    pub discard_env_files: bool,
    /// Leave bare `KEY` items of `environment` lists as written. compose-go
    /// (`ResolveEnvironment` in `loadYamlModel`) fills them from the project
    /// environment while loading, even with `--no-env-resolution`; `compose
    /// env` turns that off to tell where each value comes from.
    pub keep_bare_environment: bool,
}

impl Options {
    /// Options for a directory with the current process's environment.
    pub fn for_dir(dir: impl Into<PathBuf>) -> Self {
        Options {
            working_dir: dir.into(),
            interpolate: true,
            resolve_environment: true,
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
    /// Profiles in force: requested ones plus those of services named on
    /// the command line.
    pub profiles: Vec<String>,
    /// Services not active (profiles, or not selected), as loaded.
    pub disabled_services: node::Mapping,
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
    Include(#[from] Box<include::IncludeError>),
    #[error(transparent)]
    Extends(#[from] Box<extends::ExtendsError>),
    #[error(transparent)]
    Paths(#[from] paths::PathsError),
    #[error(transparent)]
    Profiles(#[from] Box<profiles::ProfileError>),
    #[error(transparent)]
    ServiceEnv(#[from] service_env::ServiceEnvError),
    #[error(transparent)]
    LabelFile(#[from] label_files::LabelFileError),
    #[error(transparent)]
    Schema(#[from] schema::SchemaError),
    #[error(transparent)]
    Validation(#[from] validate::ValidationError),
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

// The errors of include, extends and profiles carry several names and paths;
// they are boxed so that every `Result` of the loader stays small.
impl From<include::IncludeError> for LoadError {
    fn from(e: include::IncludeError) -> Self {
        LoadError::Include(Box::new(e))
    }
}

impl From<extends::ExtendsError> for LoadError {
    fn from(e: extends::ExtendsError) -> Self {
        LoadError::Extends(Box::new(e))
    }
}

impl From<profiles::ProfileError> for LoadError {
    fn from(e: profiles::ProfileError) -> Self {
        LoadError::Profiles(Box::new(e))
    }
}

/// Load a project as docker compose would.
///
/// The stages, after compose-go's `load` and `ModelToProject`: discover the
/// files, load them into one document ([`pipeline::load_model`]: per
/// document interpolate, include, extends, merge, unicity, schema,
/// canonical; then relative paths), name the project, apply profiles and
/// the services named on the command line, and type the result.
pub fn load(opts: &Options) -> Result<Loaded, LoadError> {
    let Model {
        mut document,
        warnings,
        environment,
        project_dir,
        config_files,
        profiles,
    } = load_model(opts)?;
    let selection = profiles::apply(&mut document, &profiles, &opts.selected_services)?;
    // compose-go `checkConsistency`, on the active services: references to
    // undefined resources, cycles, duplicate container names, port ranges.
    validate::check_project(&document, &selection.disabled)?;
    normalize::content_from_environment(&mut document, &environment);
    // Service environments are resolved after profiles, so that a missing
    // env_file of an inactive service does not fail (docker compose
    // TestUnusedMissingEnvFile). `document` keeps the unresolved form, which
    // `compose env` needs to tell where each value came from.
    let mut resolved = document.clone();
    if opts.resolve_environment {
        service_env::apply_resolved_env(
            &mut resolved,
            &environment,
            &project_dir,
            opts.discard_env_files,
        )?;
    }
    // compose-go resolves label files whatever the options, and drops
    // `label_file` with `env_file`.
    label_files::apply(&mut resolved, opts.discard_env_files)?;
    let mut project = Project::from_node(&resolved)?;
    project.working_dir = project_dir.clone();
    project.compose_files = config_files.clone();
    project.profiles = selection.profiles.clone();
    project.disabled_services = Project::type_services(&selection.disabled)?;
    Ok(Loaded {
        project,
        document,
        warnings,
        environment,
        project_dir,
        config_files,
        profiles: selection.profiles,
        disabled_services: selection.disabled,
    })
}

/// The model before profiles and typing: what `config --no-interpolate`
/// prints (docker compose renders compose-go's `LoadModel` there).
#[derive(Debug, Clone)]
pub struct Model {
    /// The merged, canonical, path-resolved and normalised document.
    pub document: Node,
    pub warnings: Vec<Warning>,
    pub environment: Environment,
    pub project_dir: PathBuf,
    pub config_files: Vec<PathBuf>,
    /// The profiles asked for (`--profile`, else `COMPOSE_PROFILES`).
    pub profiles: Vec<String>,
}

/// compose-go's `LoadModel`: discover the files, load them into one
/// document, name the project and normalise it. Without interpolation, the
/// short syntaxes that cannot be parsed (`${PORT:-8080}:80`) stay as
/// written ([`canonical::canonical_lenient`]), so the document may not type.
pub fn load_model(opts: &Options) -> Result<Model, LoadError> {
    let mut warnings = Vec::new();
    let found = discover::discover(opts, &mut warnings)?;
    let ctx = pipeline::Context {
        opts,
        environment: found.environment.clone(),
        working_dir: found.project_dir.clone(),
        stages: pipeline::Stages::ALL,
        include_chain: Vec::new(),
    };
    let mut document = pipeline::load_model(&ctx, &found.files, &mut warnings)?;
    check_not_empty(&document, &found)?;
    if let Some(m) = document.as_map_mut() {
        m.insert("name".into(), Node::string(found.project_name.clone()));
    }
    // compose-go `Normalize`: default network, resource names, implied
    // dependencies; before profiles, as compose-go runs it in `load`.
    normalize::normalize(&mut document, &found.project_name, &found.environment)?;
    Ok(Model {
        document,
        warnings,
        environment: found.environment,
        project_dir: found.project_dir,
        config_files: found.files.iter().map(|f| f.path.to_path_buf()).collect(),
        profiles: found.profiles,
    })
}

/// compose-go: "empty compose file" when the files define nothing.
fn check_not_empty(document: &Node, found: &discover::Discovered) -> Result<(), LoadError> {
    if document.as_map().is_none_or(|m| m.is_empty()) {
        return Err(LoadError::Empty {
            files: found.files.iter().map(|f| f.path.to_path_buf()).collect(),
        });
    }
    Ok(())
}
