//! `deploy`, `blkio_config` and device requests (`gpus`, reserved devices):
//! compose-go's `DeployConfig`, `Resources`, `BlkioConfig`, `DeviceRequest`.

use super::duration::Duration;
use super::emit::markers::{is_zero_f32, is_zero_i64, is_zero_u16, is_zero_u64, keep_in_json};
use super::types::{text_map, DeviceCount, Extensions, Labels};
use super::UnitBytes;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// `deploy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeployConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i64>,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub labels: Labels,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_config: Option<UpdateConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback_config: Option<UpdateConfig>,
    /// A Go struct value: omitted from YAML when empty, kept in JSON.
    #[serde(serialize_with = "keep_in_json")]
    pub resources: Resources,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<RestartPolicy>,
    #[serde(serialize_with = "keep_in_json")]
    pub placement: Placement,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub endpoint_mode: String,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// `update_config` / `rollback_config`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpdateConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u64>,
    #[serde(skip_serializing_if = "Duration::is_zero")]
    pub delay: Duration,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub failure_action: String,
    #[serde(skip_serializing_if = "Duration::is_zero")]
    pub monitor: Duration,
    #[serde(skip_serializing_if = "is_zero_f32")]
    pub max_failure_ratio: f32,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub order: String,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// `resources`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Resources {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<Resource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservations: Option<Resource>,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// `limits` / `reservations`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Resource {
    #[serde(skip_serializing_if = "is_zero_f32")]
    pub cpus: f32,
    #[serde(skip_serializing_if = "UnitBytes::is_zero")]
    pub memory: UnitBytes,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub pids: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceRequest>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub generic_resources: Vec<GenericResource>,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// A request for devices (GPUs): `gpus` or `reservations.devices`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeviceRequest {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub driver: String,
    /// -1 means all.
    #[serde(skip_serializing_if = "DeviceCount::is_zero")]
    pub count: DeviceCount,
    #[serde(rename = "device_ids", skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub options: Labels,
}

/// `generic_resources` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GenericResource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discrete_resource_spec: Option<DiscreteGenericResource>,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// A counted resource (`SSD=3`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DiscreteGenericResource {
    pub kind: String,
    pub value: i64,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// `restart_policy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RestartPolicy {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub condition: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Duration>,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// `placement`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Placement {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub preferences: Vec<PlacementPreferences>,
    #[serde(rename = "max_replicas_per_node", skip_serializing_if = "is_zero_u64")]
    pub max_replicas: u64,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlacementPreferences {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub spread: String,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// `blkio_config`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BlkioConfig {
    #[serde(skip_serializing_if = "is_zero_u16")]
    pub weight: u16,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub weight_device: Vec<WeightDevice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_read_bps: Vec<ThrottleDevice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_read_iops: Vec<ThrottleDevice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_write_bps: Vec<ThrottleDevice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_write_iops: Vec<ThrottleDevice>,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// A device and its weight (Go prints these fields without omitempty, and
/// in JSON under their Go names).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename = "$compose::go_field_names::WeightDevice")]
pub struct WeightDevice {
    #[serde(alias = "Path")]
    pub path: String,
    #[serde(alias = "Weight")]
    pub weight: u16,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// A device and its rate limit (JSON keys: Go names, as `WeightDevice`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename = "$compose::go_field_names::ThrottleDevice")]
pub struct ThrottleDevice {
    #[serde(alias = "Path")]
    pub path: String,
    #[serde(alias = "Rate")]
    pub rate: UnitBytes,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}
