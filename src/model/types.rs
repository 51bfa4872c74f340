//! Small value types shared across the model, each read and printed as
//! compose-go's `types` package does: text maps (`Labels`, `Mapping`,
//! `MappingWithEquals`), `ShellCommand`, `HostsList`, `StringList`,
//! `FileMode`, `DeviceCount`, `NanoCPUs`, ulimits and build ssh keys.

use indexmap::IndexMap;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

/// `x-` keys of a mapping, printed inline after its fields.
pub type Extensions = IndexMap<String, serde_json::Value>;

/// `Labels`, `Mapping`, `Options`: text to text (a null value is `""`).
pub type Labels = IndexMap<String, String>;

/// `MappingWithEquals` (`environment`, `build.args`): a bare `KEY` has no value.
pub type MappingWithEquals = IndexMap<String, Option<String>>;

/// Read a text map where a null value means the empty string, as
/// compose-go's `Mapping`/`Labels`/`Options` decoders do.
pub fn text_map<'de, D: Deserializer<'de>>(d: D) -> Result<Labels, D::Error> {
    let m: IndexMap<String, Option<String>> = IndexMap::deserialize(d)?;
    Ok(m.into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect())
}

/// `ShellCommand`: a list of words; a string is split as a POSIX shell would
/// (go-shellwords in compose-go). `None` (not set) differs from `[]` (clear).
pub fn shell_command<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Words(Vec<String>),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Words(w)) => Ok(Some(w)),
        Some(Raw::Text(t)) => shlex::split(&t).map(Some).ok_or_else(|| {
            de::Error::custom(format!(
                "cannot split command {t:?} into words: unbalanced quotes"
            ))
        }),
    }
}

/// `extra_hosts`: host → addresses; read from `host=ip`/`host:ip` items or a
/// mapping, printed as a sorted list of `host=ip` (compose-go's HostsList).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostsList(pub IndexMap<String, Vec<String>>);

impl HostsList {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries as `host<sep>ip` strings, sorted.
    pub fn as_list(&self, sep: &str) -> Vec<String> {
        let mut l: Vec<String> = self
            .0
            .iter()
            .flat_map(|(h, ips)| ips.iter().map(move |ip| format!("{h}{sep}{ip}")))
            .collect();
        l.sort();
        l
    }

    fn add(&mut self, host: &str, ips: &str) {
        let list = self.0.entry(host.to_string()).or_default();
        list.extend(ips.split(',').map(strip_brackets));
    }
}

fn strip_brackets(ip: &str) -> String {
    if ip.len() > 2 && ip.starts_with('[') && ip.ends_with(']') {
        ip[1..ip.len() - 1].to_string()
    } else {
        ip.to_string()
    }
}

impl Serialize for HostsList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_list("=").serialize(s)
    }
}

impl<'de> Deserialize<'de> for HostsList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            List(Vec<String>),
            Map(IndexMap<String, Option<OneOrMany>>),
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        let mut hosts = HostsList::default();
        match Raw::deserialize(d)? {
            Raw::List(items) => {
                for item in items {
                    let split = item.split_once('=').or_else(|| item.split_once(':'));
                    let Some((host, ip)) = split else {
                        return Err(de::Error::custom(format!(
                            "invalid extra host {item:?}: write it as HOST=IP"
                        )));
                    };
                    hosts.add(host, ip);
                }
            }
            Raw::Map(m) => {
                for (host, v) in m {
                    match v {
                        None => hosts.add(&host, ""),
                        Some(OneOrMany::One(ip)) => hosts.add(&host, &ip),
                        Some(OneOrMany::Many(ips)) => {
                            let entry = hosts.0.entry(host.clone()).or_default();
                            entry.extend(ips.iter().map(|ip| strip_brackets(ip)));
                        }
                    }
                }
            }
        }
        for host in hosts.0.keys() {
            if host.is_empty() || host.contains([':', '=']) {
                return Err(de::Error::custom(format!("bad extra host name {host:?}")));
            }
        }
        Ok(hosts)
    }
}

/// `FileMode`: an octal permission, printed as `"0444"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileMode(pub i64);

impl Serialize for FileMode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0{:o}", self.0))
    }
}

impl<'de> Deserialize<'de> for FileMode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(i) => Ok(FileMode(i)),
            Raw::Text(t) => i64::from_str_radix(t.trim_start_matches("0o"), 8)
                .map(FileMode)
                .map_err(|_| {
                    de::Error::custom(format!(
                        "invalid file mode {t:?}: expected an octal number like 0440"
                    ))
                }),
        }
    }
}

/// `DeviceCount`: a number of devices, `all` being -1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeviceCount(pub i64);

impl DeviceCount {
    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }
}

impl<'de> Deserialize<'de> for DeviceCount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(i) => Ok(DeviceCount(i)),
            Raw::Text(t) if t.eq_ignore_ascii_case("all") => Ok(DeviceCount(-1)),
            Raw::Text(t) => t.parse().map(DeviceCount).map_err(|_| {
                de::Error::custom(format!(
                    "invalid device count {t:?}: expected 'all' or a number"
                ))
            }),
        }
    }
}

/// A ulimit: one value for soft and hard, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ulimit {
    Single(i64),
    Range { soft: i64, hard: i64 },
}

impl Serialize for Ulimit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        match self {
            Ulimit::Single(v) if *v != 0 => s.serialize_i64(*v),
            Ulimit::Single(_) => s.serialize_struct("Ulimit", 0)?.end(),
            Ulimit::Range { soft, hard } => {
                let mut st = s.serialize_struct("Ulimit", 2)?;
                st.serialize_field("soft", soft)?;
                st.serialize_field("hard", hard)?;
                st.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Ulimit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Single(i64),
            Range {
                #[serde(default)]
                soft: i64,
                #[serde(default)]
                hard: i64,
            },
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Single(v) => Ulimit::Single(v),
            Raw::Range { soft, hard } => Ulimit::Range { soft, hard },
        })
    }
}

/// A build ssh key (`default`, or `id: path`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshKey {
    pub id: String,
    pub path: String,
}

impl Serialize for SshKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.path.is_empty() {
            s.serialize_str(&self.id)
        } else {
            s.serialize_str(&format!("{}: {}", self.id, self.path))
        }
    }
}

/// `build.ssh`: read from the canonical mapping `id: path`.
pub fn ssh_keys<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SshKey>, D::Error> {
    let m: IndexMap<String, Option<String>> = IndexMap::deserialize(d)?;
    Ok(m.into_iter()
        .map(|(id, path)| SshKey {
            id,
            path: path.unwrap_or_default(),
        })
        .collect())
}

/// `healthcheck.test`: a string means `["CMD-SHELL", string]`.
pub fn health_test<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Words(Vec<String>),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::Text(t) => vec!["CMD-SHELL".to_string(), t],
        Raw::Words(w) => w,
    })
}

/// `MultiOptions` (provider options): each key has one or more values.
pub fn multi_options<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<IndexMap<String, Vec<String>>, D::Error> {
    IndexMap::<String, Vec<String>>::deserialize(d)
}
