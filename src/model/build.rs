//! `services.<name>.build`: compose-go's `BuildConfig`.

use super::emit::markers::is_false;
use super::service::ServiceFileReference;
use super::types::{
    ssh_keys, text_map, Extensions, HostsList, Labels, MappingWithEquals, SshKey, Ulimit,
};
use super::UnitBytes;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// How to build a service's image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BuildConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub context: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dockerfile: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dockerfile_inline: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entitlements: Vec<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub args: MappingWithEquals,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub provenance: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sbom: String,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "ssh_keys")]
    pub ssh: Vec<SshKey>,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub labels: Labels,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cache_from: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cache_to: Vec<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub no_cache: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub no_cache_filter: Vec<String>,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub additional_contexts: Labels,
    #[serde(skip_serializing_if = "is_false")]
    pub pull: bool,
    #[serde(skip_serializing_if = "HostsList::is_empty")]
    pub extra_hosts: HostsList,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub isolation: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub network: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<ServiceFileReference>,
    #[serde(skip_serializing_if = "UnitBytes::is_zero")]
    pub shm_size: UnitBytes,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub ulimits: IndexMap<String, Ulimit>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub privileged: bool,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}
