//! The typed Compose model: what a loaded project is.
//!
//! Types mirror compose-go's `types` package field for field, in the same
//! declaration order and with the same omission rules, because
//! `compose config` must print exactly what docker compose prints (yaml.v3
//! writes struct fields in declaration order and map keys sorted; see
//! [`emit`]). `x-` extensions are kept at every level the spec allows, in an
//! `extensions` field. The model is typed from the canonical document
//! ([`Project::from_node`]), whose short syntaxes `loader::canonical` has
//! already expanded.

pub mod build;
pub mod bytes;
pub mod de;
pub mod deploy;
pub mod develop;
pub mod duration;
pub mod emit;
pub mod hash;
pub mod healthcheck;
pub mod hooks;
pub mod mounts;
pub mod ports;
pub mod resources;
pub mod select;
pub mod service;
pub mod types;

pub use build::BuildConfig;
pub use bytes::UnitBytes;
pub use deploy::DeployConfig;
pub use develop::DevelopConfig;
pub use duration::Duration;
pub use healthcheck::HealthCheckConfig;
pub use mounts::ServiceVolumeConfig;
pub use ports::ServicePortConfig;
pub use resources::{FileObjectConfig, ModelConfig, NetworkConfig, VolumeConfig};
pub use service::ServiceConfig;

use crate::loader::node::{Location, Node, NodePath};
use emit::{Emit, EmitError, Format};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use types::Extensions;

/// The document does not fit the model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A value has the wrong type or form; the message says what was expected.
    #[error("{}{message}", location.as_ref().map(|l| format!("{l}: ")).unwrap_or_default())]
    Invalid {
        location: Option<Location>,
        message: String,
    },
    #[error("no such service: {name}")]
    NoSuchService { name: String },
    #[error(transparent)]
    Emit(#[from] EmitError),
}

impl From<de::DeError> for ModelError {
    fn from(e: de::DeError) -> Self {
        ModelError::Invalid {
            location: e.location,
            message: e.message,
        }
    }
}

/// A loaded project: compose-go's `types.Project`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Project {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub services: IndexMap<String, ServiceConfig>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub networks: IndexMap<String, NetworkConfig>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub volumes: IndexMap<String, VolumeConfig>,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        serialize_with = "resources::serialize_secrets"
    )]
    pub secrets: IndexMap<String, FileObjectConfig>,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        serialize_with = "resources::serialize_configs"
    )]
    pub configs: IndexMap<String, FileObjectConfig>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub models: IndexMap<String, ModelConfig>,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
    /// The project directory (compose-go's `WorkingDir`; not printed).
    #[serde(skip)]
    pub working_dir: std::path::PathBuf,
    /// The Compose files loaded, in order (not printed).
    #[serde(skip)]
    pub compose_files: Vec<std::path::PathBuf>,
    /// The enabled profiles (not printed).
    #[serde(skip)]
    pub profiles: Vec<String>,
    /// Services left out because none of their profiles is enabled; kept so
    /// that `config --profiles` and error messages can still name them.
    #[serde(skip)]
    pub disabled_services: IndexMap<String, ServiceConfig>,
}

impl Project {
    /// Type a canonical document. Errors name the path
    /// (`services.web.ports[1].target`), the file position and what was
    /// expected.
    pub fn from_node(node: &Node) -> Result<Project, ModelError> {
        let mut project: Project = de::from_node(node, NodePath::root())?;
        project.set_service_names();
        Ok(project)
    }

    /// Type services set aside by profiles (`services`-shaped mapping).
    pub fn type_services(
        services: &crate::loader::node::Mapping,
    ) -> Result<IndexMap<String, ServiceConfig>, ModelError> {
        let mut typed = IndexMap::new();
        for (name, node) in services {
            let path = NodePath::root().key("services").key(name.as_str());
            let mut service: ServiceConfig = de::from_node(node, path)?;
            service.name = name.clone();
            typed.insert(name.clone(), service);
        }
        Ok(typed)
    }

    /// Copy each service's key into its `name` (not serialised; call after
    /// reading a project back with serde).
    pub fn set_service_names(&mut self) {
        for (name, service) in self.services.iter_mut() {
            service.name = name.clone();
        }
    }

    /// Service names, sorted (compose-go's `ServiceNames`).
    pub fn service_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.services.keys().cloned().collect();
        names.sort();
        names
    }

    /// The project as `compose config` prints it in YAML.
    pub fn to_yaml(&self) -> Result<String, ModelError> {
        Ok(emit::to_yaml(&emit::to_emit(self, Format::Yaml)?))
    }

    /// The project as `compose config --format json` prints it: compose-go's
    /// `Project.MarshalJSON` has `name` and `services` always, the other
    /// sections when not empty, the top-level extensions, and no `models`.
    pub fn to_json(&self) -> Result<String, ModelError> {
        let mut tree = emit::to_emit(self, Format::Json)?;
        if let Emit::Struct { fields, .. } = &mut tree {
            fields.retain(|(k, _)| k != "models");
            if !fields.iter().any(|(k, _)| k == "name") {
                fields.insert(0, ("name".into(), Emit::Str(String::new())));
            }
        }
        Ok(emit::to_json(&tree))
    }
}

#[cfg(test)]
mod tests;
