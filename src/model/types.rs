//! Small value types shared across the model, each read and printed as
//! compose-go's `types` package does: text maps (`Labels`, `Mapping`,
//! `MappingWithEquals`), `ShellCommand`, `HostsList`, `StringList`,
//! `FileMode`, `DeviceCount`, `NanoCPUs`, ulimits and build ssh keys.

use indexmap::IndexMap;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value as Json;

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
    match Json::deserialize(d)? {
        Json::Null => Ok(None),
        Json::String(t) => shlex::split(&t).map(Some).ok_or_else(|| {
            de::Error::custom(format!(
                "cannot split command {t:?} into words: unbalanced quotes"
            ))
        }),
        Json::Array(items) => words(&items).map(Some),
        other => Err(de::Error::custom(format!(
            "expected a command string or a list of strings, found {}",
            json_kind(&other)
        ))),
    }
}

/// The text of a scalar, as Go's `fmt.Sprint` writes it.
fn scalar_string(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A list of scalars as strings.
fn words<E: de::Error>(items: &[Json]) -> Result<Vec<String>, E> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            scalar_string(v).ok_or_else(|| {
                E::custom(format!(
                    "item {i}: expected a string, found {}",
                    json_kind(v)
                ))
            })
        })
        .collect()
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a mapping",
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
        let mut hosts = HostsList::default();
        match Json::deserialize(d)? {
            Json::Array(items) => {
                for item in words::<D::Error>(&items)? {
                    let split = item.split_once('=').or_else(|| item.split_once(':'));
                    let Some((host, ip)) = split else {
                        return Err(de::Error::custom(format!(
                            "invalid extra host {item:?}: write it as HOST=IP"
                        )));
                    };
                    hosts.add(host, ip);
                }
            }
            Json::Object(m) => {
                for (host, v) in m {
                    match v {
                        Json::Null => hosts.add(&host, ""),
                        Json::Array(ips) => {
                            let ips = words::<D::Error>(&ips)?;
                            let entry = hosts.0.entry(host.clone()).or_default();
                            entry.extend(ips.iter().map(|ip| strip_brackets(ip)));
                        }
                        other => match scalar_string(&other) {
                            Some(ip) => hosts.add(&host, &ip),
                            None => {
                                return Err(de::Error::custom(format!(
                                    "extra host {host:?}: expected an address, found {}",
                                    json_kind(&other)
                                )))
                            }
                        },
                    }
                }
            }
            other => {
                return Err(de::Error::custom(format!(
                    "expected a list of HOST=IP or a mapping, found {}",
                    json_kind(&other)
                )))
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
        match Json::deserialize(d)? {
            Json::Number(n) if n.is_i64() => Ok(FileMode(n.as_i64().unwrap_or_default())),
            Json::String(t) => i64::from_str_radix(t.trim_start_matches("0o"), 8)
                .map(FileMode)
                .map_err(|_| {
                    de::Error::custom(format!(
                        "invalid file mode {t:?}: expected an octal number like 0440"
                    ))
                }),
            other => Err(de::Error::custom(format!(
                "expected a file mode like 0440, found {}",
                json_kind(&other)
            ))),
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
        let text = match Json::deserialize(d)? {
            Json::Number(n) if n.is_i64() => {
                return Ok(DeviceCount(n.as_i64().unwrap_or_default()))
            }
            Json::String(t) => t,
            other => {
                return Err(de::Error::custom(format!(
                    "expected 'all' or a number of devices, found {}",
                    json_kind(&other)
                )))
            }
        };
        if text.eq_ignore_ascii_case("all") {
            return Ok(DeviceCount(-1));
        }
        text.parse().map(DeviceCount).map_err(|_| {
            de::Error::custom(format!(
                "invalid device count {text:?}: expected 'all' or a number"
            ))
        })
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
        let number = |v: Option<&Json>, what: &str| -> Result<i64, D::Error> {
            match v {
                None => Ok(0),
                Some(v) => scalar_string(v)
                    .and_then(|t| t.parse().ok())
                    .ok_or_else(|| de::Error::custom(format!("{what}: expected a number"))),
            }
        };
        match Json::deserialize(d)? {
            Json::Object(m) => Ok(Ulimit::Range {
                soft: number(m.get("soft"), "soft")?,
                hard: number(m.get("hard"), "hard")?,
            }),
            v @ (Json::Number(_) | Json::String(_)) => {
                Ok(Ulimit::Single(number(Some(&v), "ulimit")?))
            }
            other => Err(de::Error::custom(format!(
                "expected a number or a mapping with soft and hard, found {}",
                json_kind(&other)
            ))),
        }
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

/// `build.ssh`: read from the canonical mapping `id: path`, or from the
/// printed list (`default`, `id: path`) so the model round-trips through
/// serde formats.
pub fn ssh_keys<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SshKey>, D::Error> {
    let key = |id: &str, path: Option<&str>| SshKey {
        id: id.to_string(),
        path: path.unwrap_or_default().trim().to_string(),
    };
    match Json::deserialize(d)? {
        Json::Object(m) => Ok(m
            .iter()
            .map(|(id, p)| key(id, scalar_string(p).as_deref()))
            .collect()),
        Json::Array(items) => Ok(words::<D::Error>(&items)?
            .iter()
            .map(|w| match w.split_once(": ").or_else(|| w.split_once('=')) {
                Some((id, p)) => key(id, Some(p)),
                None => key(w, None),
            })
            .collect()),
        other => Err(de::Error::custom(format!(
            "expected a mapping of ssh keys, found {}",
            json_kind(&other)
        ))),
    }
}

/// `healthcheck.test`: a string means `["CMD-SHELL", string]`.
pub fn health_test<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Json::deserialize(d)? {
        Json::String(t) => Ok(vec!["CMD-SHELL".to_string(), t]),
        Json::Array(items) => words(&items),
        other => Err(de::Error::custom(format!(
            "expected a command string or a list like [CMD, ...], found {}",
            json_kind(&other)
        ))),
    }
}

/// `MultiOptions` (provider options): each key has one or more values.
pub fn multi_options<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<IndexMap<String, Vec<String>>, D::Error> {
    IndexMap::<String, Vec<String>>::deserialize(d)
}
