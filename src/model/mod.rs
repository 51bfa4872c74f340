//! The typed Compose model: what a loaded project is.
//!
//! OWNER: model helper (skeleton only). Field order and omission rules follow
//! compose-go's `types` package so that `compose config` prints what docker
//! compose prints.

use crate::loader::node::Node;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Project {
    pub name: String,
    #[serde(default)]
    pub services: IndexMap<String, serde_json::Value>,
}

impl Project {
    pub fn from_node(node: &Node) -> Result<Project, ModelError> {
        serde_json::from_value(node.to_json()).map_err(|e| ModelError::Invalid {
            path: String::new(),
            message: e.to_string(),
        })
    }
}
