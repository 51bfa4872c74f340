//! The variables a project is loaded with, and where each one came from.
//!
//! Precedence (compose-go `cli/options.go`, as docker compose applies it):
//! the shell's environment wins over env files (`.env`, `--env-file`,
//! `.env.NAME`); among env files read together, later ones win; a second
//! round of env files (the project directory's `.env`, read once the Compose
//! files are known) only fills variables that are still unset. Each value
//! keeps its [`Origin`] so `compose env` can explain it.

use super::node::Span;
use indexmap::IndexMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Where a variable's value came from; `compose env` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The environment of the `compose` process.
    Shell,
    /// A dotenv file (`.env`, `--env-file`, `.env.NAME`, a service `env_file`).
    EnvFile { path: PathBuf, line: usize },
    /// A value written in a Compose file (`environment:`).
    ComposeFile { span: Option<Span> },
    /// Set by compose itself (e.g. `COMPOSE_PROJECT_NAME`).
    Compose,
}

impl Origin {
    /// A short description for users: `shell`, `.env:3`,
    /// `compose.yaml:12`; file paths are shown relative to `base` when they
    /// are inside it.
    pub fn describe(&self, base: &Path) -> String {
        match self {
            Origin::Shell => "shell".to_string(),
            Origin::Compose => "compose".to_string(),
            Origin::EnvFile { path, line } => format!("{}:{line}", relative(path, base)),
            Origin::ComposeFile { span: Some(span) } => {
                format!("{}:{}", relative(&span.file, base), span.line)
            }
            Origin::ComposeFile { span: None } => "compose file".to_string(),
        }
    }
}

fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(Path::new("")))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub value: String,
    pub origin: Origin,
}

/// An ordered set of variables with their origins.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: IndexMap<String, EnvVar>,
}

impl Environment {
    pub fn new() -> Self {
        Self::default()
    }

    /// The process environment, every variable marked [`Origin::Shell`].
    pub fn from_shell<'a>(vars: impl IntoIterator<Item = (&'a String, &'a String)>) -> Self {
        let mut env = Environment::new();
        for (k, v) in vars {
            env.set(k.as_str(), v.as_str(), Origin::Shell);
        }
        env
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(|v| v.value.as_str())
    }

    pub fn var(&self, name: &str) -> Option<&EnvVar> {
        self.vars.get(name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.vars.contains_key(name)
    }

    /// Set a variable, replacing any earlier value.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>, origin: Origin) {
        self.vars.insert(
            name.into(),
            EnvVar {
                value: value.into(),
                origin,
            },
        );
    }

    /// Set a variable only when it is not set yet.
    pub fn set_default(
        &mut self,
        name: impl Into<String>,
        value: impl Into<String>,
        origin: Origin,
    ) {
        self.vars.entry(name.into()).or_insert(EnvVar {
            value: value.into(),
            origin,
        });
    }

    /// The value of `name` as an owned string, for lookups.
    pub fn lookup(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_string)
    }

    /// A variable that is set and not empty (compose-go treats an empty
    /// `COMPOSE_FILE` or `COMPOSE_PROJECT_NAME` as unset).
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Plain name → value pairs, in order.
    pub fn to_map(&self) -> IndexMap<String, String> {
        self.vars
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &EnvVar)> {
        self.vars.iter()
    }

    pub fn len(&self) -> usize {
        self.vars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn set_default_keeps_the_first_value() {
        let mut env = Environment::new();
        env.set("A", "shell", Origin::Shell);
        env.set_default(
            "A",
            "file",
            Origin::EnvFile {
                path: ".env".into(),
                line: 1,
            },
        );
        env.set_default("B", "", Origin::Compose);
        assert_eq!(env.get("A"), Some("shell"));
        assert_eq!(env.var("A").unwrap().origin, Origin::Shell);
        assert_eq!(env.get("B"), Some(""));
        assert_eq!(env.non_empty("B"), None);
    }

    #[test]
    fn origins_describe_themselves_relative_to_the_project() {
        let base = Path::new("/p");
        let env_file = Origin::EnvFile {
            path: "/p/.env".into(),
            line: 3,
        };
        assert_eq!(env_file.describe(base), ".env:3");
        let outside = Origin::EnvFile {
            path: "/etc/x.env".into(),
            line: 1,
        };
        assert_eq!(outside.describe(base), "/etc/x.env:1");
        let span = Span {
            file: Arc::from(Path::new("/p/compose.yaml")),
            line: 12,
            column: 9,
        };
        let compose = Origin::ComposeFile { span: Some(span) };
        assert_eq!(compose.describe(base), "compose.yaml:12");
        assert_eq!(Origin::Shell.describe(base), "shell");
    }
}
