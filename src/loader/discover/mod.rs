//! Finding the project before any YAML is loaded: its Compose files, its
//! directory, its environment (shell + env files), its profiles and name.
//!
//! The order is docker compose's (`cmd/compose/compose.go`,
//! `toProjectOptions`, over compose-go `cli/options.go`):
//! 1. the shell's environment;
//! 2. env files: `--env-file` (repeatable, later wins; `COMPOSE_ENV_FILES`,
//!    comma-separated, when no flag), else `.env` of `--project-directory`,
//!    of the first `-f` file's directory, or of the working directory (not
//!    when the shell sets `COMPOSE_DISABLE_ENV_FILE=true`);
//! 3. the Compose files: `-f` in order (relative to the working directory,
//!    `-` is standard input), else `COMPOSE_FILE` (which `.env` may set),
//!    else the default names searched upwards with their override file;
//! 4. the project directory: `--project-directory`, else the first file's
//!    directory; its `.env` is then read too, filling only unset variables;
//! 5. profiles from `--profile`, else `COMPOSE_PROFILES`; the name from
//!    `-p`, `COMPOSE_PROJECT_NAME`, the files' `name:` or the directory, and
//!    `COMPOSE_PROJECT_NAME` set to it for interpolation.
//!
//! **Per-environment overrides** (our own addition; docker compose has no
//! equivalent): `--environment NAME`, or `COMPOSE_ENVIRONMENT` (from the
//! shell or `.env`), adds `compose.NAME.yaml` (or `compose.NAME.yml`) from
//! the first base file's directory after the base files and their overrides,
//! and reads `.env.NAME` right after `.env` (or after the `--env-file`
//! files), from the same directory, with `.env.NAME` winning. A missing
//! `compose.NAME.yaml` is an error naming the file expected; a missing
//! `.env.NAME` is fine. NAME is one plain file-name component
//! (`[A-Za-z0-9][A-Za-z0-9_.-]*`).

pub mod env_files;
pub mod files;
pub mod name;

pub use name::{is_valid_project_name, normalize_project_name, project_name, NameSource};

use super::environment::{Environment, Origin};
use super::{Options, Warning};
use env_files::EnvFiles;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One Compose file to load, with its text.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: Arc<Path>,
    pub content: String,
}

/// What discovery found before any YAML is loaded.
#[derive(Debug, Clone)]
pub struct Discovered {
    pub project_dir: PathBuf,
    pub files: Vec<ConfigFile>,
    /// Shell environment layered over the env files, with origins, plus
    /// `COMPOSE_PROJECT_NAME`.
    pub environment: Environment,
    /// `-p` or `COMPOSE_PROJECT_NAME`, already checked; `None` when the name
    /// must come from the files' `name:` or the directory.
    pub explicit_name: Option<String>,
    /// The project name by compose-go's rules, from the files' raw `name:`
    /// (the merged document's `name:` can only differ when `include` or
    /// `extends` bring one in, which compose-go ignores too).
    pub project_name: String,
    /// `--profile`, else `COMPOSE_PROFILES` (comma-separated).
    pub profiles: Vec<String>,
    /// The env files read, in order.
    pub env_files: Vec<PathBuf>,
    /// `--environment` / `COMPOSE_ENVIRONMENT` in effect.
    pub environment_name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("no configuration file provided: not found (looked for compose.yaml, compose.yml, docker-compose.yml, docker-compose.yaml in {} and its parents); use -f to name one", .dir.display())]
    NotFound { dir: PathBuf },
    #[error("compose file {} not found", .path.display())]
    FileNotFound { path: PathBuf },
    #[error("compose file {} (from COMPOSE_FILE) not found; fix COMPOSE_FILE in the shell or .env", .path.display())]
    ComposeFileVarMissing { path: PathBuf },
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("a compose file is `-` but no standard input was given")]
    NoStdin,
    #[error("env file {} not found: check the --env-file path", .path.display())]
    EnvFileNotFound { path: PathBuf },
    #[error(transparent)]
    EnvFile(crate::loader::dotenv::EnvFileError),
    #[error("{name}={value:?} is not a boolean: use true or false")]
    InvalidBoolean { name: String, value: String },
    #[error("invalid project name {name:?}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number")]
    InvalidProjectName { name: String },
    #[error("project name must not be empty: {source_kind} ({raw:?}) has no lowercase letter, digit, `_` or `-`; set one with -p or a top-level `name:`")]
    EmptyProjectName {
        raw: String,
        source_kind: NameSource,
    },
    #[error("invalid environment name {name:?}: use letters, digits, `_`, `-` and `.`, starting with a letter or digit")]
    InvalidEnvironmentName { name: String },
    #[error("environment {name:?} selected but {} does not exist (nor its .yml variant); create it or choose another --environment", .expected.display())]
    EnvironmentFileMissing { name: String, expected: PathBuf },
    #[error(transparent)]
    Interpolation(#[from] crate::loader::interpolate::InterpolationError),
}

/// Find the project's files, directory, environment, profiles and name.
pub fn discover(opts: &Options, warnings: &mut Vec<Warning>) -> Result<Discovered, DiscoverError> {
    let cwd = &opts.working_dir;
    let mut environment = Environment::from_shell(&opts.os_env);
    if !environment.contains("PWD") {
        // docker compose sets PWD when the shell did not.
        environment.set("PWD", cwd.display().to_string(), Origin::Compose);
    }
    let explicit_dir = opts
        .project_directory
        .as_deref()
        .map(|d| files::absolute(cwd, d));
    let flag_files: Vec<PathBuf> = opts.files.iter().map(|f| flag_path(cwd, f)).collect();
    let env_file_spec = env_file_spec(opts, &environment)?;

    // First round of env files, before the Compose files are known.
    let first_dir = explicit_dir
        .clone()
        .or_else(|| first_file_dir(&flag_files))
        .unwrap_or_else(|| cwd.clone());
    let (first, mut env_name) = env_files::read_group(
        &mut environment,
        &env_file_spec.resolve(&first_dir),
        &first_dir,
        opts.environment.as_deref(),
    )?;

    let search_dir = explicit_dir.as_deref().unwrap_or(cwd);
    let mut paths = compose_paths(flag_files, &environment, cwd, search_dir, warnings)?;
    let project_dir = explicit_dir
        .or_else(|| first_file_dir(&paths))
        .unwrap_or_else(|| cwd.clone());

    // Second round, from the project directory; fills only unset variables.
    let mut env_file_paths = first.files;
    if project_dir != first_dir {
        let (second, name) = env_files::read_group(
            &mut environment,
            &env_file_spec.resolve(&project_dir),
            &project_dir,
            env_name.as_deref(),
        )?;
        env_name = env_name.or(name);
        env_file_paths.extend(second.files);
    }

    if let Some(name) = &env_name {
        let dir = first_file_dir(&paths).unwrap_or_else(|| project_dir.clone());
        paths.push(files::environment_file(&dir, name)?);
    }
    let config_files = files::read_all(&paths, opts.stdin.as_deref())?;
    let (explicit_name, project_name) = name_project(
        opts,
        &config_files,
        &mut environment,
        &project_dir,
        warnings,
    )?;

    Ok(Discovered {
        project_dir,
        files: config_files,
        profiles: profiles(opts, &environment),
        environment,
        explicit_name,
        project_name,
        env_files: env_file_paths,
        environment_name: env_name,
    })
}

/// `-f` files, else `COMPOSE_FILE`, else the default names searched from
/// `search_dir` upwards.
fn compose_paths(
    flag_files: Vec<PathBuf>,
    environment: &Environment,
    cwd: &Path,
    search_dir: &Path,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<PathBuf>, DiscoverError> {
    if !flag_files.is_empty() {
        return Ok(flag_files);
    }
    if let Some(value) = environment.non_empty("COMPOSE_FILE") {
        let sep = environment.get("COMPOSE_PATH_SEPARATOR");
        return files::from_compose_file_var(value, sep, cwd);
    }
    files::search(search_dir, warnings)
}

/// The explicit name (if any) and the final project name, which is also
/// set as `COMPOSE_PROJECT_NAME` for interpolation (compose-go
/// `projectName`).
fn name_project(
    opts: &Options,
    config_files: &[ConfigFile],
    environment: &mut Environment,
    project_dir: &Path,
    warnings: &mut Vec<Warning>,
) -> Result<(Option<String>, String), DiscoverError> {
    let explicit = explicit_name(opts, environment)?;
    let from_files = match &explicit {
        Some(_) => None,
        None => name::name_from_files(
            config_files.iter().map(|f| (&f.path, f.content.as_str())),
            opts.interpolate.then_some(&*environment),
            warnings,
        )?,
    };
    let name = project_name(explicit.as_deref(), from_files.as_deref(), project_dir)?;
    environment.set("COMPOSE_PROJECT_NAME", name.clone(), Origin::Compose);
    Ok((explicit, name))
}

/// `-f` paths are relative to the working directory; `-` stays as is.
fn flag_path(cwd: &Path, file: &Path) -> PathBuf {
    if file == Path::new(files::STDIN) {
        file.to_path_buf()
    } else {
        files::absolute(cwd, file)
    }
}

/// The directory of the first file that is not standard input.
fn first_file_dir(paths: &[PathBuf]) -> Option<PathBuf> {
    paths
        .iter()
        .find(|p| p.as_path() != Path::new(files::STDIN))
        .and_then(|p| p.parent())
        .map(Path::to_path_buf)
}

/// What the user said about env files, before a directory is known.
enum EnvFileSpec {
    Explicit(Vec<PathBuf>),
    Default,
    Disabled,
}

impl EnvFileSpec {
    fn resolve(&self, dir: &Path) -> EnvFiles {
        match self {
            EnvFileSpec::Explicit(paths) => EnvFiles::Explicit(paths.clone()),
            EnvFileSpec::Default => EnvFiles::Default {
                dir: dir.to_path_buf(),
            },
            EnvFileSpec::Disabled => EnvFiles::Disabled,
        }
    }
}

/// `--env-file`, else `COMPOSE_ENV_FILES` (comma-separated), else the
/// default `.env` unless the shell sets `COMPOSE_DISABLE_ENV_FILE`.
fn env_file_spec(opts: &Options, shell: &Environment) -> Result<EnvFileSpec, DiscoverError> {
    let cwd = &opts.working_dir;
    let mut explicit: Vec<PathBuf> = opts
        .env_files
        .iter()
        .map(|p| files::absolute(cwd, p))
        .collect();
    if explicit.is_empty() {
        if let Some(list) = shell.get("COMPOSE_ENV_FILES") {
            explicit = list
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|p| files::absolute(cwd, Path::new(p)))
                .collect();
        }
    }
    if !explicit.is_empty() {
        return Ok(EnvFileSpec::Explicit(explicit));
    }
    match shell.get("COMPOSE_DISABLE_ENV_FILE") {
        Some(v) if env_files::parse_go_bool("COMPOSE_DISABLE_ENV_FILE", v)? => {
            Ok(EnvFileSpec::Disabled)
        }
        _ => Ok(EnvFileSpec::Default),
    }
}

/// `--profile`, else `COMPOSE_PROFILES` split on commas.
fn profiles(opts: &Options, env: &Environment) -> Vec<String> {
    if !opts.profiles.is_empty() {
        return opts.profiles.clone();
    }
    env.get("COMPOSE_PROFILES")
        .map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// `-p`, else a non-empty `COMPOSE_PROJECT_NAME`; either must be valid.
fn explicit_name(opts: &Options, env: &Environment) -> Result<Option<String>, DiscoverError> {
    let given = opts
        .project_name
        .as_deref()
        .filter(|n| !n.is_empty())
        .or_else(|| env.non_empty("COMPOSE_PROJECT_NAME"));
    given.map(name::check_explicit).transpose()
}

#[cfg(test)]
mod tests;
