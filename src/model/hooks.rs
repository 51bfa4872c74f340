//! Lifecycle hooks (`pre_start`, `post_start`, `pre_stop`) and `develop.watch`
//! exec actions: compose-go's `ServiceHook`.

use super::emit::markers::{is_false, keep_in_json};
use super::types::{shell_command, Extensions, MappingWithEquals};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// A command run around a container's lifecycle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceHook {
    #[serde(serialize_with = "keep_in_json", deserialize_with = "shell_command")]
    pub command: Option<Vec<String>>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(skip_serializing_if = "is_false")]
    pub privileged: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub environment: MappingWithEquals,
    #[serde(skip_serializing_if = "is_false")]
    pub per_replica: bool,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

impl ServiceHook {
    /// Go's yaml `omitempty` on a struct value: every field at its zero.
    pub fn is_empty(&self) -> bool {
        self == &ServiceHook::default()
    }
}
