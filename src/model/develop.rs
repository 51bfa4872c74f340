//! `develop` (compose watch): compose-go's `DevelopConfig` and `Trigger`.

use super::emit::markers::{is_false, keep_in_json};
use super::hooks::ServiceHook;
use super::types::Extensions;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DevelopConfig {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub watch: Vec<Trigger>,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// What to do when files under `path` change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum WatchAction {
    #[default]
    #[serde(rename = "sync")]
    Sync,
    #[serde(rename = "rebuild")]
    Rebuild,
    #[serde(rename = "restart")]
    Restart,
    #[serde(rename = "sync+restart")]
    SyncRestart,
    #[serde(rename = "sync+exec")]
    SyncExec,
}

/// One `develop.watch` rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Trigger {
    pub path: String,
    pub action: WatchAction,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
    /// Printed in YAML only when set; always in JSON (a Go struct value).
    #[serde(serialize_with = "keep_in_json")]
    pub exec: ServiceHook,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub initial_sync: bool,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}
