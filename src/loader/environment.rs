//! The variables a project is loaded with, and where each one came from.
//!
//! OWNER: loader-front helper. Precedence (compose-go): the shell's
//! environment wins over `--env-file`/`.env` files; later env files win over
//! earlier ones.

use super::node::Span;
use indexmap::IndexMap;
use std::path::PathBuf;

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

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(|v| v.value.as_str())
    }

    pub fn var(&self, name: &str) -> Option<&EnvVar> {
        self.vars.get(name)
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
