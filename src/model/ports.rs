//! `ports` in long form: compose-go's `ServicePortConfig`. The short syntax
//! is expanded by the canonical transform (`loader::canonical::ports`).

use super::emit::markers::is_zero_u32;
use super::types::Extensions;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// One published or exposed port.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServicePortConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mode: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host_ip: String,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub target: u32,
    /// A port or a range (`8000-8010`), kept as text as compose-go does.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub published: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub protocol: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub app_protocol: String,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}
