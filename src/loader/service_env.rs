//! A service's final environment, with where each value came from, as
//! docker compose computes it (compose-go `Project.WithServicesEnvironmentResolved`):
//! 1. `environment:` (a mapping or a `K=V` list); a key written without a
//!    value takes the project environment's value (shell, then `.env`) when
//!    there is one, and stays unset otherwise;
//! 2. each `env_file:` in order (short string, list, or long form
//!    `{path, required, format}`); a missing file is an error unless
//!    `required: false`; `${VAR}` in its values sees the project environment
//!    first, then the service's `environment:`; later files win; `format:
//!    raw` reads `docker run --env-file` lines verbatim (docker compose
//!    registers that format);
//! 3. `environment:` entries then override the env files, including keys
//!    left unset in step 1 (compose-go's `OverrideBy` keeps them unset).
//!
//! `compose config` shows the result as each service's `environment` and
//! drops `env_file` (docker compose `config` loads with `WithDiscardEnvFile`).

use super::dotenv::{self, EnvFileError};
use super::environment::{Environment, Origin};
use super::node::{Location, Node, NodePath, Span, Value};
use indexmap::IndexMap;
use std::path::{Path, PathBuf};

/// One variable of a service's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceVar {
    /// `None` for a key written without a value that nothing set: the
    /// container does not get it.
    pub value: Option<String>,
    pub origin: Origin,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceEnvError {
    #[error("{location}: env file {} not found; create it or mark it `required: false`", .path.display())]
    EnvFileMissing { location: Location, path: PathBuf },
    #[error("{location}: {source}")]
    EnvFile {
        location: Location,
        source: Box<EnvFileError>,
    },
    #[error("{location}: unsupported env_file format {format:?}: use `raw`, or omit `format` for the dotenv syntax")]
    UnsupportedFormat { location: Location, format: String },
    #[error(
        "{location}: `environment` must be a mapping or a list of KEY=VALUE strings, found {found}"
    )]
    InvalidEnvironment {
        location: Location,
        found: &'static str,
    },
    #[error(
        "{location}: `env_file` entries must be a path or a mapping with `path`, found {found}"
    )]
    InvalidEnvFile {
        location: Location,
        found: &'static str,
    },
}

/// The final environment of one service, keys sorted (as docker compose
/// prints them). Errors locate paths under the service (`environment[1]`).
pub fn resolve_service_env(
    service: &Node,
    env: &Environment,
    project_dir: &Path,
) -> Result<IndexMap<String, ServiceVar>, ServiceEnvError> {
    resolve_service_env_at(service, &NodePath::root(), env, project_dir)
}

/// [`resolve_service_env`] for the service at `path`
/// (`services.web`), so errors name the full path.
pub fn resolve_service_env_at(
    service: &Node,
    path: &NodePath,
    env: &Environment,
    project_dir: &Path,
) -> Result<IndexMap<String, ServiceVar>, ServiceEnvError> {
    let declared = declared_environment(service, path, env)?;
    // compose-go parses env files into a copy of the declared values, so
    // `${VAR}` in an env file can see them and earlier lines.
    let mut vars: IndexMap<String, String> = declared
        .iter()
        .filter_map(|(k, v)| v.value.clone().map(|v| (k.clone(), v)))
        .collect();
    let mut result: IndexMap<String, ServiceVar> = IndexMap::new();
    for file in env_files(service, path)? {
        read_env_file(&file, env, &declared, &mut vars, &mut result, project_dir)?;
    }
    for (key, var) in declared {
        result.insert(key, var);
    }
    result.sort_keys();
    Ok(result)
}

/// Write every service's resolved environment into its `environment`
/// mapping, and drop `env_file` when `discard_env_files` (what `config`
/// prints). The written values keep the span of the Compose-file entry they
/// came from; values from env files or the shell have none, so resolve
/// provenance (`compose env`) on the document *before* applying this.
pub fn apply_resolved_env(
    doc: &mut Node,
    env: &Environment,
    project_dir: &Path,
    discard_env_files: bool,
) -> Result<(), ServiceEnvError> {
    let Some(services) = doc.get_mut("services").and_then(Node::as_map_mut) else {
        return Ok(());
    };
    for (name, service) in services.iter_mut() {
        let path = NodePath::root().key("services").key(name.as_str());
        let resolved = resolve_service_env_at(service, &path, env, project_dir)?;
        let Some(map) = service.as_map_mut() else {
            continue;
        };
        let span = map.get("environment").and_then(|n| n.span.clone());
        if resolved.is_empty() {
            map.shift_remove("environment");
        } else {
            let entries = resolved.into_iter().map(|(k, v)| (k, to_node(v))).collect();
            map.insert(
                "environment".into(),
                Node::with_span(Value::Map(entries), span),
            );
        }
        if discard_env_files {
            map.shift_remove("env_file");
        }
    }
    Ok(())
}

fn to_node(var: ServiceVar) -> Node {
    let span = match var.origin {
        Origin::ComposeFile { span } => span,
        _ => None,
    };
    let value = var.value.map_or(Value::Null, Value::String);
    Node::with_span(value, span)
}

/// `environment:` with keys written without a value resolved from the
/// project environment.
fn declared_environment(
    service: &Node,
    path: &NodePath,
    env: &Environment,
) -> Result<IndexMap<String, ServiceVar>, ServiceEnvError> {
    let mut out = IndexMap::new();
    let Some(node) = service.get("environment") else {
        return Ok(out);
    };
    let path = path.key("environment");
    let mut add = |key: String, value: Option<String>, span: Option<Span>| {
        let var = match value {
            Some(value) => ServiceVar {
                value: Some(value),
                origin: Origin::ComposeFile { span },
            },
            None => match env.var(&key) {
                Some(v) => ServiceVar {
                    value: Some(v.value.clone()),
                    origin: v.origin.clone(),
                },
                None => ServiceVar {
                    value: None,
                    origin: Origin::ComposeFile { span },
                },
            },
        };
        out.insert(key, var);
    };
    match &node.value {
        Value::Null => {}
        Value::Map(map) => {
            for (key, value) in map {
                if matches!(value.value, Value::Seq(_) | Value::Map(_)) {
                    return Err(ServiceEnvError::InvalidEnvironment {
                        location: Location::new(value.span.clone(), path.key(key.as_str())),
                        found: value.kind_name(),
                    });
                }
                add(key.clone(), value.scalar_text(), value.span.clone());
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let Some(text) = item.scalar_text() else {
                    return Err(ServiceEnvError::InvalidEnvironment {
                        location: Location::new(item.span.clone(), path.index(i)),
                        found: item.kind_name(),
                    });
                };
                let (key, value) = match text.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (text, None),
                };
                add(key, value, item.span.clone());
            }
        }
        _ => {
            return Err(ServiceEnvError::InvalidEnvironment {
                location: Location::new(node.span.clone(), path),
                found: node.kind_name(),
            })
        }
    }
    Ok(out)
}

/// One `env_file` entry in long form.
struct EnvFileRef {
    path: String,
    required: bool,
    format: Option<String>,
    location: Location,
}

fn env_files(service: &Node, path: &NodePath) -> Result<Vec<EnvFileRef>, ServiceEnvError> {
    let Some(node) = service.get("env_file") else {
        return Ok(Vec::new());
    };
    let path = path.key("env_file");
    match &node.value {
        Value::Null => Ok(Vec::new()),
        Value::String(_) => Ok(vec![env_file_ref(node, path)?]),
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| env_file_ref(item, path.index(i)))
            .collect(),
        _ => Err(ServiceEnvError::InvalidEnvFile {
            location: Location::new(node.span.clone(), path),
            found: node.kind_name(),
        }),
    }
}

fn env_file_ref(node: &Node, path: NodePath) -> Result<EnvFileRef, ServiceEnvError> {
    let location = Location::new(node.span.clone(), path);
    let invalid = |found| ServiceEnvError::InvalidEnvFile {
        location: location.clone(),
        found,
    };
    if let Some(text) = node.as_str() {
        return Ok(EnvFileRef {
            path: text.to_string(),
            required: true,
            format: None,
            location,
        });
    }
    let Some(map) = node.as_map() else {
        return Err(invalid(node.kind_name()));
    };
    let file = map
        .get("path")
        .ok_or_else(|| invalid("a mapping without `path`"))?;
    let path = file.as_str().ok_or_else(|| invalid(file.kind_name()))?;
    let required = match map.get("required").map(|n| &n.value) {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !matches!(s.as_str(), "false" | "False" | "FALSE"),
        Some(_) => return Err(invalid("a non-boolean `required`")),
    };
    let format = map.get("format").and_then(Node::scalar_text);
    Ok(EnvFileRef {
        path: path.to_string(),
        required,
        format,
        location,
    })
}

fn read_env_file(
    file: &EnvFileRef,
    env: &Environment,
    declared: &IndexMap<String, ServiceVar>,
    vars: &mut IndexMap<String, String>,
    result: &mut IndexMap<String, ServiceVar>,
    project_dir: &Path,
) -> Result<(), ServiceEnvError> {
    let format = dotenv::Format::from_name(file.format.as_deref()).ok_or_else(|| {
        ServiceEnvError::UnsupportedFormat {
            location: file.location.clone(),
            format: file.format.clone().unwrap_or_default(),
        }
    })?;
    let path = project_dir.join(&file.path);
    if !path.exists() {
        if file.required {
            return Err(ServiceEnvError::EnvFileMissing {
                location: file.location.clone(),
                path,
            });
        }
        return Ok(());
    }
    // Project environment first, then the service's declared values.
    let lookup = |name: &str| {
        env.lookup(name)
            .or_else(|| declared.get(name).and_then(|v| v.value.clone()))
    };
    let entries = dotenv::read_env_file_as(&path, format, &lookup, vars).map_err(|source| {
        ServiceEnvError::EnvFile {
            location: file.location.clone(),
            source: Box::new(source),
        }
    })?;
    for entry in entries {
        if let Some(value) = entry.value {
            let origin = Origin::EnvFile {
                path: path.clone(),
                line: entry.line,
            };
            result.insert(
                entry.key,
                ServiceVar {
                    value: Some(value),
                    origin,
                },
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
