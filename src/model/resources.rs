//! Top-level resources: `networks`, `volumes`, `secrets`, `configs` and
//! `models` (compose-go's `NetworkConfig`, `VolumeConfig`,
//! `FileObjectConfig`, `ModelConfig`).

use super::emit::markers::{is_false, is_zero_i64};
use super::types::{text_map, Extensions, Labels};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize, Serializer};

/// A top-level network.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub driver: String,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub driver_opts: Labels,
    /// A Go struct value: omitted from YAML when empty, kept in JSON.
    #[serde(serialize_with = "super::emit::markers::keep_in_json")]
    pub ipam: IpamConfig,
    #[serde(skip_serializing_if = "is_false")]
    pub external: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub internal: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub attachable: bool,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub labels: Labels,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_ipv4: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_ipv6: Option<bool>,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// `ipam`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IpamConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub driver: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<IpamPool>,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub options: Labels,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// One `ipam.config` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IpamPool {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subnet: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gateway: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ip_range: String,
    #[serde(
        rename = "aux_addresses",
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub auxiliary_addresses: Labels,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// A top-level volume.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VolumeConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub driver: String,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub driver_opts: Labels,
    #[serde(skip_serializing_if = "is_false")]
    pub external: bool,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub labels: Labels,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// A top-level secret or config: from a file, an environment variable or
/// inline content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FileObjectConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub environment: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub content: String,
    #[serde(skip_serializing_if = "is_false")]
    pub external: bool,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub labels: Labels,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub driver: String,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub driver_opts: Labels,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub template_driver: String,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// Secrets never print their content (compose-go's `SecretConfig.MarshalYAML`).
pub fn serialize_secrets<S: Serializer>(
    m: &IndexMap<String, FileObjectConfig>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let cleared: IndexMap<&String, FileObjectConfig> = m
        .iter()
        .map(|(k, v)| {
            let mut v = v.clone();
            v.content.clear();
            (k, v)
        })
        .collect();
    cleared.serialize(s)
}

/// Configs print their source rather than content read from the environment
/// (compose-go's `ConfigObjConfig.MarshalYAML`).
pub fn serialize_configs<S: Serializer>(
    m: &IndexMap<String, FileObjectConfig>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let cleared: IndexMap<&String, FileObjectConfig> = m
        .iter()
        .map(|(k, v)| {
            let mut v = v.clone();
            if !v.environment.is_empty() {
                v.content.clear();
            }
            (k, v)
        })
        .collect();
    cleared.serialize(s)
}

/// A top-level AI model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub model: String,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub context_size: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runtime_flags: Vec<String>,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}
