//! The project's env files: which ones are read, in which order, and how
//! their variables join the environment.
//!
//! docker compose (`cmd/compose/compose.go`, `toProjectOptions`) reads env
//! files twice: once before the Compose files are known (from
//! `--project-directory`, the first `-f` file's directory, or the working
//! directory), and once more from the project directory they imply. Files
//! read together form a group in which later files win; a group only adds
//! variables that are still unset, so the shell always wins and the first
//! group wins over the second (docker/compose `TestNestedDotEnv`).

use super::DiscoverError;
use crate::loader::dotenv::{self, EnvFileError};
use crate::loader::environment::{Environment, Origin};
use indexmap::IndexMap;
use std::path::{Path, PathBuf};

/// Which env files a group reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvFiles {
    /// `--env-file` (or `COMPOSE_ENV_FILES`): each must exist.
    Explicit(Vec<PathBuf>),
    /// The default `.env` of a directory, read when it is a file.
    Default { dir: PathBuf },
    /// `COMPOSE_DISABLE_ENV_FILE` is true: no default `.env`.
    Disabled,
}

/// What a group read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupRead {
    /// The files actually read, in order.
    pub files: Vec<PathBuf>,
}

/// Read one group of env files, then `.env.NAME` when an environment is
/// selected (`environment` here, or `COMPOSE_ENVIRONMENT` set by the shell
/// or by the group itself), and add what they set to `env` where unset.
/// Returns the files read and the environment name in effect.
pub fn read_group(
    env: &mut Environment,
    files: &EnvFiles,
    environment_dir: &Path,
    environment: Option<&str>,
) -> Result<(GroupRead, Option<String>), DiscoverError> {
    let mut group = Group::default();
    match files {
        EnvFiles::Explicit(paths) => {
            for path in paths {
                if !path.exists() {
                    return Err(DiscoverError::EnvFileNotFound { path: path.clone() });
                }
                group.read(env, path)?;
            }
        }
        EnvFiles::Default { dir } => {
            let path = dir.join(".env");
            if path.is_file() {
                group.read(env, &path)?;
            }
        }
        EnvFiles::Disabled => {}
    }
    let name = environment
        .map(str::to_string)
        .or_else(|| env.non_empty("COMPOSE_ENVIRONMENT").map(str::to_string))
        .or_else(|| group.vars.get("COMPOSE_ENVIRONMENT").cloned())
        .filter(|n| !n.is_empty());
    if let Some(name) = &name {
        super::files::check_environment_name(name)?;
        let path = environment_dir.join(format!(".env.{name}"));
        if path.is_file() {
            group.read(env, &path)?;
        }
    }
    let read = GroupRead {
        files: group.files.clone(),
    };
    group.apply(env);
    Ok((read, name))
}

#[derive(Default)]
struct Group {
    vars: IndexMap<String, String>,
    origins: IndexMap<String, Origin>,
    files: Vec<PathBuf>,
}

impl Group {
    /// Read one file: expansion sees the environment first, then what the
    /// group set so far (compose-go `GetEnvFromFile`).
    fn read(&mut self, env: &Environment, path: &Path) -> Result<(), DiscoverError> {
        let lookup = |name: &str| env.lookup(name);
        let entries =
            dotenv::read_env_file(path, &lookup, &mut self.vars).map_err(|e| match e {
                EnvFileError::NotFound { path } => DiscoverError::EnvFileNotFound { path },
                other => DiscoverError::EnvFile(other),
            })?;
        for entry in entries.into_iter().filter(|e| e.value.is_some()) {
            let origin = Origin::EnvFile {
                path: path.to_path_buf(),
                line: entry.line,
            };
            self.origins.insert(entry.key, origin);
        }
        self.files.push(path.to_path_buf());
        Ok(())
    }

    fn apply(self, env: &mut Environment) {
        for (key, value) in self.vars {
            let origin = self.origins.get(&key).cloned().unwrap_or(Origin::Compose);
            env.set_default(key, value, origin);
        }
    }
}

/// Go's `strconv.ParseBool`, for `COMPOSE_DISABLE_ENV_FILE`.
pub fn parse_go_bool(name: &str, value: &str) -> Result<bool, DiscoverError> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(DiscoverError::InvalidBoolean {
            name: name.to_string(),
            value: value.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn later_files_win_within_a_group_and_shell_wins_over_all() {
        let d = tempfile::tempdir().unwrap();
        let a = write(d.path(), "a.env", "X=a\nY=a\nZ=a\n");
        let b = write(d.path(), "b.env", "Y=b\nZ=b\n");
        let mut env = Environment::new();
        env.set("Z", "shell", Origin::Shell);
        let files = EnvFiles::Explicit(vec![a.clone(), b.clone()]);
        let (read, name) = read_group(&mut env, &files, d.path(), None).unwrap();
        assert_eq!(read.files, [a.clone(), b.clone()]);
        assert_eq!(name, None);
        assert_eq!(env.get("X"), Some("a"));
        assert_eq!(env.get("Y"), Some("b"));
        assert_eq!(env.get("Z"), Some("shell"));
        assert_eq!(
            env.var("Y").unwrap().origin,
            Origin::EnvFile { path: b, line: 1 }
        );
        assert_eq!(env.var("Z").unwrap().origin, Origin::Shell);
    }

    #[test]
    fn a_second_group_only_fills_unset_variables() {
        let d = tempfile::tempdir().unwrap();
        let sub = d.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        write(d.path(), ".env", "ROOT=root\nWIN=root\n");
        write(&sub, ".env", "SUB=sub\nWIN=sub\n");
        let mut env = Environment::new();
        read_group(
            &mut env,
            &EnvFiles::Default { dir: sub.clone() },
            &sub,
            None,
        )
        .unwrap();
        let root = d.path().to_path_buf();
        read_group(
            &mut env,
            &EnvFiles::Default { dir: root.clone() },
            &root,
            None,
        )
        .unwrap();
        assert_eq!(env.get("ROOT"), Some("root"));
        assert_eq!(env.get("SUB"), Some("sub"));
        assert_eq!(env.get("WIN"), Some("sub"));
    }

    #[test]
    fn missing_explicit_file_is_an_error_naming_it() {
        let d = tempfile::tempdir().unwrap();
        let missing = d.path().join("nope.env");
        let err = read_group(
            &mut Environment::new(),
            &EnvFiles::Explicit(vec![missing.clone()]),
            d.path(),
            None,
        )
        .unwrap_err();
        assert!(matches!(err, DiscoverError::EnvFileNotFound { ref path } if *path == missing));
        assert!(err.to_string().contains("nope.env"), "{err}");
    }

    #[test]
    fn missing_default_env_file_is_fine() {
        let d = tempfile::tempdir().unwrap();
        let (read, _) = read_group(
            &mut Environment::new(),
            &EnvFiles::Default {
                dir: d.path().into(),
            },
            d.path(),
            None,
        )
        .unwrap();
        assert!(read.files.is_empty());
    }

    #[test]
    fn environment_env_file_layers_over_dot_env() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            ".env",
            "A=base\nB=base\nCOMPOSE_ENVIRONMENT=prod\n",
        );
        let prod = write(d.path(), ".env.prod", "B=prod\n");
        let mut env = Environment::new();
        let files = EnvFiles::Default {
            dir: d.path().into(),
        };
        // The name comes from `.env` itself here.
        let (read, name) = read_group(&mut env, &files, d.path(), None).unwrap();
        assert_eq!(name.as_deref(), Some("prod"));
        assert_eq!(read.files.last(), Some(&prod));
        assert_eq!(env.get("A"), Some("base"));
        assert_eq!(env.get("B"), Some("prod"));
    }

    #[test]
    fn bad_environment_names_are_rejected() {
        let d = tempfile::tempdir().unwrap();
        let err = read_group(
            &mut Environment::new(),
            &EnvFiles::Disabled,
            d.path(),
            Some("../x"),
        )
        .unwrap_err();
        assert!(matches!(err, DiscoverError::InvalidEnvironmentName { .. }));
    }

    #[test]
    fn go_booleans() {
        assert!(parse_go_bool("X", "True").unwrap());
        assert!(!parse_go_bool("X", "0").unwrap());
        assert!(parse_go_bool("X", "yes").is_err());
    }
}
