//! What the config-only instructions do to the image being built
//! (Dockerfile reference, each instruction's section; BuildKit
//! `dockerfile2llb/convert.go` `dispatch*`): ENV, ARG, LABEL, WORKDIR,
//! USER, EXPOSE, VOLUME, CMD, ENTRYPOINT, SHELL, STOPSIGNAL, HEALTHCHECK,
//! MAINTAINER and ONBUILD change the `config` of the image, never its
//! files. RUN, COPY and ADD are the executor's: [`Stage::apply`] tells it
//! so, with the variables already applied.

mod ports;

use super::dockerfile::{Command, CommandLine, Healthcheck, Instruction, Location};
use super::expand::{BuildInputs, ExpandError, GlobalScope, StageScope};
use crate::image::oci::RunConfig;
use serde_json::json;
use std::path::{Component, Path, PathBuf};

pub use ports::expose_ports;

/// A config instruction that cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{at}: {source}")]
    Expand { at: Location, source: ExpandError },
    #[error("{at}: EXPOSE `{port}` is not a port, a port range or PORT/PROTOCOL (tcp, udp, sctp)")]
    BadPort { at: Location, port: String },
    #[error("{at}: VOLUME needs a non-empty path")]
    EmptyVolume { at: Location },
    #[error("{at}: {instruction} expands to an empty value")]
    Empty {
        at: Location,
        instruction: &'static str,
    },
}

/// What the executor must do after [`Stage::apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The config changed (or an ARG was declared); no files change.
    ConfigOnly,
    /// RUN, COPY or ADD: the executor runs it against the filesystem.
    Execute,
    /// `MAINTAINER name`: the image's `author` field.
    Author(String),
    /// `ONBUILD ...`: a trigger to record in the image's `OnBuild` list.
    Trigger(String),
}

/// The config of the stage being built and its variables.
#[derive(Debug, Clone)]
pub struct Stage<'g> {
    pub config: RunConfig,
    pub scope: StageScope<'g>,
    file: String,
    /// CMD was set in this stage (an inherited CMD is reset by ENTRYPOINT).
    cmd_set_here: bool,
}

impl<'g> Stage<'g> {
    /// Start from the base image's config; `scope` must have been created
    /// with the base config's environment.
    pub fn new(file: &str, config: RunConfig, scope: StageScope<'g>) -> Stage<'g> {
        Stage {
            config,
            scope,
            file: file.to_string(),
            cmd_set_here: false,
        }
    }

    /// Start from the base image's config, its `Env` (`KEY=VALUE`
    /// strings) seeding the stage's variables.
    pub fn from_base(
        file: &str,
        config: RunConfig,
        global: &'g GlobalScope,
        inputs: &'g BuildInputs,
    ) -> Stage<'g> {
        let env = config
            .env
            .iter()
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (kv.clone(), String::new()),
            })
            .collect();
        let scope = StageScope::new(global, inputs, env);
        Stage::new(file, config, scope)
    }

    /// Apply one instruction of the stage.
    pub fn apply(&mut self, ins: &Instruction) -> Result<Outcome, ConfigError> {
        let at = Location {
            file: self.file.clone(),
            line: ins.line,
        };
        let ex = |source| ConfigError::Expand {
            at: at.clone(),
            source,
        };
        match &ins.command {
            Command::Run(_) | Command::Copy(_) | Command::Add(_) | Command::From(_) => {
                return Ok(Outcome::Execute)
            }
            Command::Arg(decls) => self.scope.declare_args(decls).map_err(ex)?,
            Command::Env(pairs) => {
                self.scope.set_env(pairs).map_err(ex)?;
                self.config.env = self
                    .scope
                    .env()
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
            }
            Command::Label(pairs) => {
                for (k, v) in self.scope.expand_pairs(pairs).map_err(ex)? {
                    self.config.labels.insert(k, v);
                }
            }
            Command::Workdir(dir) => {
                let dir = self.non_empty(&at, "WORKDIR", dir)?;
                let base = self
                    .config
                    .working_dir
                    .clone()
                    .unwrap_or_else(|| "/".into());
                self.config.working_dir = Some(join_workdir(&base, &dir));
            }
            Command::User(user) => self.config.user = Some(self.non_empty(&at, "USER", user)?),
            Command::StopSignal(sig) => {
                self.config.stop_signal = Some(self.non_empty(&at, "STOPSIGNAL", sig)?)
            }
            Command::Expose(words) => {
                for word in words {
                    for port in self.scope.expand_words(word).map_err(ex)? {
                        for p in expose_ports(&port).ok_or_else(|| ConfigError::BadPort {
                            at: at.clone(),
                            port: port.clone(),
                        })? {
                            self.config.exposed_ports.insert(p, json!({}));
                        }
                    }
                }
            }
            Command::Volume(paths) => {
                for path in paths {
                    let path = self.scope.expand(path).map_err(ex)?;
                    if path.trim().is_empty() {
                        return Err(ConfigError::EmptyVolume { at });
                    }
                    self.config.volumes.insert(path, json!({}));
                }
            }
            Command::Cmd(line) => {
                self.config.cmd = Some(self.argv(line));
                self.cmd_set_here = true;
            }
            Command::Entrypoint(line) => {
                let argv = self.argv(line);
                self.config.entrypoint = (!argv.is_empty()).then_some(argv);
                // Dockerfile reference, ENTRYPOINT: "If CMD is defined from
                // the base image, setting ENTRYPOINT will reset CMD".
                if !self.cmd_set_here {
                    self.config.cmd = None;
                }
            }
            Command::Shell(argv) => self.config.shell = Some(argv.clone()),
            Command::Healthcheck(h) => self.config.healthcheck = Some(healthcheck_json(h)),
            Command::Maintainer(name) => return Ok(Outcome::Author(name.clone())),
            Command::Onbuild(inner) => {
                return Ok(Outcome::Trigger(super::dockerfile::trigger_text(inner)))
            }
        }
        Ok(Outcome::ConfigOnly)
    }

    fn non_empty(
        &self,
        at: &Location,
        instruction: &'static str,
        word: &str,
    ) -> Result<String, ConfigError> {
        let value = self
            .scope
            .expand(word)
            .map_err(|source| ConfigError::Expand {
                at: at.clone(),
                source,
            })?;
        if value.is_empty() {
            return Err(ConfigError::Empty {
                at: at.clone(),
                instruction,
            });
        }
        Ok(value)
    }

    /// The shell of shell-form commands: SHELL, else `/bin/sh -c`.
    pub fn shell(&self) -> Vec<String> {
        self.config
            .shell
            .clone()
            .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()])
    }

    /// The argv of a command line: exec form as is, shell form through
    /// the stage's SHELL.
    pub fn argv(&self, line: &CommandLine) -> Vec<String> {
        match line {
            CommandLine::Exec(v) => v.clone(),
            CommandLine::Shell(s) => {
                let mut v = self.shell();
                v.push(s.clone());
                v
            }
        }
    }
}

/// A relative WORKDIR is relative to the previous one; the result is a
/// clean absolute path.
pub fn join_workdir(base: &str, dir: &str) -> String {
    let joined = if dir.starts_with('/') {
        PathBuf::from(dir)
    } else {
        Path::new(base).join(dir)
    };
    let mut parts: Vec<String> = Vec::new();
    for c in joined.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    format!("/{}", parts.join("/"))
}

/// The `Healthcheck` object of the Docker image config: `Test` is
/// `["NONE"]`, `["CMD", ...]` or `["CMD-SHELL", cmd]`; durations are in
/// nanoseconds; unset options are left out (the runtime's defaults apply).
fn healthcheck_json(h: &Healthcheck) -> serde_json::Value {
    match h {
        Healthcheck::None => json!({ "Test": ["NONE"] }),
        Healthcheck::Check {
            test,
            interval,
            timeout,
            start_period,
            start_interval,
            retries,
        } => {
            let test: Vec<String> = match test {
                CommandLine::Exec(v) => std::iter::once("CMD".to_string())
                    .chain(v.iter().cloned())
                    .collect(),
                CommandLine::Shell(s) => vec!["CMD-SHELL".into(), s.clone()],
            };
            let mut o = serde_json::Map::new();
            o.insert("Test".into(), json!(test));
            for (name, d) in [
                ("Interval", interval),
                ("Timeout", timeout),
                ("StartPeriod", start_period),
                ("StartInterval", start_interval),
            ] {
                if let Some(d) = d {
                    o.insert(name.into(), json!(d.as_nanos() as u64));
                }
            }
            if let Some(r) = retries {
                o.insert("Retries".into(), json!(r));
            }
            serde_json::Value::Object(o)
        }
    }
}

#[cfg(test)]
mod tests;
