//! Unicity of keyed list entries (compose-go `override/uncity.go`): when two
//! entries of `ports`, `volumes`, `environment`, ... share their key, the
//! later one takes the place of the earlier (13-merge.md "Unique resources").

use super::special::entry_key;
use super::MergeError;
use crate::loader::node::{Location, Node, NodePath, Segment, Value};
use std::collections::HashMap;

/// What makes two entries of a list the same entry.
#[derive(Debug, Clone, Copy)]
enum Indexer {
    /// `KEY=VALUE` (or a plain value): the part before `=`.
    KeyValue,
    /// Volumes: the mount target.
    Volume,
    /// Devices: the path in the container.
    Device,
    /// Expose: the port as written.
    Expose,
    /// Secrets and configs: the target, defaulting to `<dir>/<source>`.
    Mount(&'static str),
    /// Ports: host IP, published port, target port and protocol.
    Port,
    /// `env_file`: the file path.
    EnvFile,
}

fn indexer_for(path: &NodePath) -> Option<Indexer> {
    let keys = path.pattern();
    use Indexer::*;
    Some(match keys.as_slice() {
        ["networks", _, "labels"]
        | ["networks", _, "ipam", "options"]
        | ["services", _, "annotations" | "cap_add" | "cap_drop" | "dns" | "dns_opt"]
        | ["services", _, "dns_search" | "environment" | "labels" | "links" | "profiles"]
        | ["services", _, "sysctls" | "tmpfs"]
        | ["services", _, "build", "args" | "additional_contexts" | "platforms" | "tags"]
        | ["services", _, "build", "labels"]
        | ["services", _, "deploy", "labels"]
        | ["services", _, "networks", _, "aliases" | "link_local_ips"] => KeyValue,
        ["services", _, "devices"] => Device,
        ["services", _, "volumes"] => Volume,
        ["services", _, "configs"] => Mount(""),
        ["services", _, "secrets"] => Mount("/run/secrets"),
        ["services", _, "expose"] => Expose,
        ["services", _, "ports"] => Port,
        ["services", _, "env_file"] => EnvFile,
        _ => return None,
    })
}

/// Fold the duplicate entries of every keyed list in the document.
pub fn enforce_unicity(doc: &mut Node) -> Result<(), MergeError> {
    walk(doc, &mut NodePath::root())
}

fn walk(node: &mut Node, path: &mut NodePath) -> Result<(), MergeError> {
    match &mut node.value {
        Value::Map(m) => {
            for (key, value) in m.iter_mut() {
                path.0.push(Segment::Key(key.clone()));
                let done = walk(value, path);
                path.0.pop();
                done?;
            }
        }
        Value::Seq(items) => {
            if let Some(indexer) = indexer_for(path) {
                let taken = std::mem::take(items);
                *items = dedup(taken, indexer, path)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn dedup(items: Vec<Node>, indexer: Indexer, path: &NodePath) -> Result<Vec<Node>, MergeError> {
    let mut out: Vec<Node> = Vec::with_capacity(items.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, item) in items.into_iter().enumerate() {
        let key = key_of(&item, indexer, &path.index(i))?;
        match seen.get(&key) {
            Some(&j) => out[j] = item,
            None => {
                seen.insert(key, out.len());
                out.push(item);
            }
        }
    }
    Ok(out)
}

fn key_of(item: &Node, indexer: Indexer, path: &NodePath) -> Result<String, MergeError> {
    let location = || Location::new(item.span.clone(), path.clone());
    let unexpected = |expected| MergeError::UnexpectedEntry {
        location: location(),
        expected,
        found: item.kind_name(),
    };
    let field = |name: &'static str, what: &'static str| {
        item.get(name)
            .and_then(Node::scalar_text)
            .ok_or_else(|| MergeError::MissingField {
                location: location(),
                what,
                field: name,
            })
    };
    match indexer {
        Indexer::KeyValue => item
            .scalar_text()
            .map(|t| entry_key(&t).to_string())
            .ok_or_else(|| unexpected("a string")),
        Indexer::Expose => item
            .scalar_text()
            .ok_or_else(|| unexpected("a port or port range")),
        Indexer::Volume | Indexer::Device => match &item.value {
            Value::Map(_) => field("target", "this mount"),
            // `[SOURCE:]TARGET[:MODE]`: the target is the only part for a
            // one-part volume and the second part otherwise.
            Value::String(s) => Ok(s.split(':').nth(1).unwrap_or(s).to_string()),
            _ => Ok(String::new()),
        },
        Indexer::Mount(dir) => match &item.value {
            Value::String(s) => Ok(format!("{dir}/{s}")),
            Value::Map(_) => match item.get("target").and_then(Node::scalar_text) {
                Some(t) => Ok(t),
                None => Ok(format!("{dir}/{}", field("source", "this entry")?)),
            },
            _ => Err(unexpected("a name or a mapping")),
        },
        Indexer::Port => match &item.value {
            Value::Map(_) => {
                let target = field("target", "this port")?;
                let text = |k: &str, default: &str| {
                    item.get(k)
                        .and_then(Node::scalar_text)
                        .unwrap_or_else(|| default.to_string())
                };
                Ok(format!(
                    "{}:{}:{target}/{}",
                    text("host_ip", "0.0.0.0"),
                    text("published", ""),
                    text("protocol", "tcp")
                ))
            }
            _ => item
                .scalar_text()
                .ok_or_else(|| unexpected("a port or a mapping")),
        },
        Indexer::EnvFile => match &item.value {
            Value::Map(_) => field("path", "this env_file entry"),
            _ => item.scalar_text().ok_or_else(|| unexpected("a file path")),
        },
    }
}
