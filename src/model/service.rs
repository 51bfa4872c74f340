//! `services.<name>`: compose-go's `ServiceConfig`, field for field and in
//! the same order, so that `compose config` prints keys as docker compose does.

use super::build::BuildConfig;
use super::deploy::{BlkioConfig, DeployConfig, DeviceRequest};
use super::develop::DevelopConfig;
use super::duration::Duration;
use super::emit::markers::{is_false, is_zero_f32, is_zero_i64, keep_in_json};
use super::healthcheck::HealthCheckConfig;
use super::hooks::ServiceHook;
use super::mounts::ServiceVolumeConfig;
use super::ports::ServicePortConfig;
use super::types::{
    shell_command, text_map, Extensions, HostsList, Labels, MappingWithEquals, Ulimit,
};
use super::UnitBytes;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// One service, as compose-go's `types.ServiceConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceConfig {
    /// The service's key in `services` (not printed).
    #[serde(skip)]
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub annotations: Labels,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub develop: Option<DevelopConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blkio_config: Option<BlkioConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cgroup_parent: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cgroup: String,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub cpu_count: i64,
    #[serde(skip_serializing_if = "is_zero_f32")]
    pub cpu_percent: f32,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub cpu_period: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub cpu_quota: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub cpu_rt_period: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub cpu_rt_runtime: i64,
    #[serde(skip_serializing_if = "is_zero_f32")]
    pub cpus: f32,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cpuset: String,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub cpu_shares: i64,
    /// `None`: the image's command; `Some([])`: cleared.
    #[serde(serialize_with = "keep_in_json", deserialize_with = "shell_command")]
    pub command: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<ServiceFileReference>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub container_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_spec: Option<CredentialSpecConfig>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub depends_on: IndexMap<String, ServiceDependency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy: Option<DeployConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_cgroup_rules: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceMapping>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_opt: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_search: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dockerfile: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub domainname: String,
    #[serde(serialize_with = "keep_in_json", deserialize_with = "shell_command")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<ServiceProviderConfig>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub environment: MappingWithEquals,
    #[serde(rename = "env_file", skip_serializing_if = "Vec::is_empty")]
    pub env_files: Vec<EnvFile>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expose: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extends: Option<ExtendsConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_links: Vec<String>,
    #[serde(skip_serializing_if = "HostsList::is_empty")]
    pub extra_hosts: HostsList,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_add: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gpus: Vec<DeviceRequest>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub hostname: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthCheckConfig>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ipc: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub isolation: String,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub labels: Labels,
    #[serde(rename = "label_file", skip_serializing_if = "Vec::is_empty")]
    pub label_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging: Option<LoggingConfig>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub log_driver: String,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub log_opt: Labels,
    #[serde(skip_serializing_if = "UnitBytes::is_zero")]
    pub mem_limit: UnitBytes,
    #[serde(skip_serializing_if = "UnitBytes::is_zero")]
    pub mem_reservation: UnitBytes,
    #[serde(skip_serializing_if = "UnitBytes::is_zero")]
    pub memswap_limit: UnitBytes,
    #[serde(skip_serializing_if = "UnitBytes::is_zero")]
    pub mem_swappiness: UnitBytes,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mac_address: String,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub models: IndexMap<String, Option<ServiceModelConfig>>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub net: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub network_mode: String,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub networks: IndexMap<String, Option<ServiceNetworkConfig>>,
    #[serde(skip_serializing_if = "is_false")]
    pub oom_kill_disable: bool,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub oom_score_adj: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pid: String,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub pids_limit: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub platform: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ServicePortConfig>,
    #[serde(skip_serializing_if = "is_false")]
    pub privileged: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pull_policy: String,
    #[serde(skip_serializing_if = "is_false")]
    pub read_only: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub restart: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub runtime: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<ServiceFileReference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_opt: Vec<String>,
    #[serde(skip_serializing_if = "UnitBytes::is_zero")]
    pub shm_size: UnitBytes,
    #[serde(skip_serializing_if = "is_false")]
    pub stdin_open: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_grace_period: Option<Duration>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub storage_opt: Labels,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub sysctls: Labels,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tmpfs: Vec<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub tty: bool,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub ulimits: IndexMap<String, Ulimit>,
    #[serde(skip_serializing_if = "is_false")]
    pub use_api_socket: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub userns_mode: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub uts: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub volume_driver: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<ServiceVolumeConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes_from: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pre_start: Vec<ServiceHook>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_start: Vec<ServiceHook>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pre_stop: Vec<ServiceHook>,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

impl ServiceConfig {
    /// How many containers to run: `scale`, else `deploy.replicas`, else 1.
    pub fn replicas(&self) -> i64 {
        // `deploy.mode: global` is one container per node: one here.
        if self.deploy.as_ref().is_some_and(|d| d.mode == "global") {
            return 1;
        }
        self.scale
            .or_else(|| self.deploy.as_ref().and_then(|d| d.replicas))
            .unwrap_or(1)
    }

    /// The image the service runs: `image`, else the one compose builds for
    /// it, `<project>-<service>` (docker compose's `GetImageNameOrDefault`).
    pub fn image_or_default(&self, project: &str) -> String {
        if self.image.is_empty() {
            format!("{project}-{}", self.name)
        } else {
            self.image.clone()
        }
    }

    /// Network names, highest `priority` first, then by name (compose-go's
    /// `NetworksByPriority`): the order containers are attached in.
    pub fn networks_by_priority(&self) -> Vec<String> {
        let mut nets: Vec<(&String, i64)> = self
            .networks
            .iter()
            .map(|(k, v)| (k, v.as_ref().map_or(0, |n| n.priority)))
            .collect();
        nets.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        nets.into_iter().map(|(k, _)| k.clone()).collect()
    }

    /// The services this one depends on, in declaration order.
    pub fn dependencies(&self) -> impl Iterator<Item = &str> {
        self.depends_on.keys().map(String::as_str)
    }
}

/// `provider`: a service implemented by a plugin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceProviderConfig {
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "super::types::multi_options"
    )]
    pub options: IndexMap<String, Vec<String>>,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// A service's `secrets`/`configs` entry (`FileReferenceConfig`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceFileReference {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub uid: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<super::types::FileMode>,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// `credential_spec` (Windows).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CredentialSpecConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub config: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub registry: String,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// One `depends_on` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceDependency {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub condition: String,
    #[serde(skip_serializing_if = "is_false")]
    pub restart: bool,
    pub required: bool,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

impl Default for ServiceDependency {
    fn default() -> Self {
        ServiceDependency {
            condition: "service_started".into(),
            restart: false,
            required: true,
            extensions: Extensions::new(),
        }
    }
}

/// A `devices` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeviceMapping {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub permissions: String,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// An `env_file` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EnvFile {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Go's `OptOut`: printed only when false.
    #[serde(skip_serializing_if = "super::emit::markers::is_true")]
    pub required: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub format: String,
}

impl Default for EnvFile {
    fn default() -> Self {
        EnvFile {
            path: String::new(),
            required: true,
            format: String::new(),
        }
    }
}

/// `extends`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExtendsConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub service: String,
}

/// `logging`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoggingConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub driver: String,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub options: Labels,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// A service's `models` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceModelConfig {
    #[serde(rename = "endpoint_var", skip_serializing_if = "String::is_empty")]
    pub endpoint_variable: String,
    #[serde(rename = "model_var", skip_serializing_if = "String::is_empty")]
    pub model_variable: String,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// A service's `networks` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceNetworkConfig {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub driver_opts: Labels,
    #[serde(rename = "gw_priority", skip_serializing_if = "is_zero_i64")]
    pub gateway_priority: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub interface_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ipv4_address: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ipv6_address: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub link_local_ips: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mac_address: String,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub priority: i64,
    #[serde(rename = "#extensions", skip_serializing_if = "IndexMap::is_empty")]
    pub extensions: Extensions,
}

/// When to pull a service's image (`pull_policy`), as compose-go's
/// `GetPullPolicy` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    Never,
    /// Pull when missing (`missing`, `if_not_present`, or not set).
    Missing,
    Build,
    /// Pull again when the local image is older than this (`daily`,
    /// `weekly`, `every_<duration>`).
    Refresh(Duration),
}

impl ServiceConfig {
    /// The service's pull policy; an unreadable `every_` duration is an error
    /// naming the text.
    pub fn pull_policy(&self) -> Result<PullPolicy, super::duration::DurationError> {
        const DAY: i64 = 24 * 3600;
        Ok(match self.pull_policy.as_str() {
            "always" => PullPolicy::Always,
            "never" => PullPolicy::Never,
            "build" => PullPolicy::Build,
            "daily" => PullPolicy::Refresh(Duration::from_secs(DAY)),
            "weekly" => PullPolicy::Refresh(Duration::from_secs(7 * DAY)),
            p => match p.strip_prefix("every_") {
                Some(d) => PullPolicy::Refresh(Duration::parse(d)?),
                None => PullPolicy::Missing,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policies_read_like_compose_go() {
        let policy = |p: &str| {
            ServiceConfig {
                pull_policy: p.into(),
                ..Default::default()
            }
            .pull_policy()
        };
        assert_eq!(policy("always"), Ok(PullPolicy::Always));
        assert_eq!(policy(""), Ok(PullPolicy::Missing));
        assert_eq!(policy("if_not_present"), Ok(PullPolicy::Missing));
        assert_eq!(
            policy("daily"),
            Ok(PullPolicy::Refresh(Duration::from_secs(86400)))
        );
        assert_eq!(
            policy("every_2h"),
            Ok(PullPolicy::Refresh(Duration::from_secs(7200)))
        );
        assert!(policy("every_soon").is_err());
    }

    #[test]
    fn networks_order_by_priority_then_name() {
        let mut s = ServiceConfig::default();
        s.networks.insert("b".into(), None);
        s.networks.insert(
            "z".into(),
            Some(ServiceNetworkConfig {
                priority: 10,
                ..Default::default()
            }),
        );
        s.networks.insert("a".into(), None);
        assert_eq!(s.networks_by_priority(), ["z", "a", "b"]);
        s.name = "web".into();
        assert_eq!(s.image_or_default("proj"), "proj-web");
    }
}
