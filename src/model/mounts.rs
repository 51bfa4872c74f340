//! `volumes` of a service in long form: compose-go's `ServiceVolumeConfig`
//! and its `bind`/`volume`/`tmpfs`/`image` options. The short syntax is
//! parsed by the canonical transform (`loader::canonical::volumes`).

use super::emit::markers::{is_false, is_true, is_zero_u32};
use super::types::{text_map, Extensions, Labels};
use super::UnitBytes;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// One mount of a service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceVolumeConfig {
    /// `bind`, `volume`, `tmpfs`, `npipe`, `cluster` or `image`.
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
    #[serde(skip_serializing_if = "is_false")]
    pub read_only: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub consistency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<ServiceVolumeBind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<ServiceVolumeVolume>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<ServiceVolumeTmpfs>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ServiceVolumeImage>,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// `bind:` options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceVolumeBind {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub selinux: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub propagation: String,
    /// Go's `OptOut`: defaults to true and is printed only when false.
    #[serde(skip_serializing_if = "is_true")]
    pub create_host_path: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub recursive: String,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

impl Default for ServiceVolumeBind {
    fn default() -> Self {
        ServiceVolumeBind {
            selinux: String::new(),
            propagation: String::new(),
            create_host_path: true,
            recursive: String::new(),
            extensions: Extensions::new(),
        }
    }
}

/// `volume:` options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceVolumeVolume {
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub labels: Labels,
    #[serde(skip_serializing_if = "is_false")]
    pub nocopy: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subpath: String,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// `tmpfs:` options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceVolumeTmpfs {
    #[serde(skip_serializing_if = "UnitBytes::is_zero")]
    pub size: UnitBytes,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub mode: u32,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// `image:` options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceVolumeImage {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subpath: String,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}
