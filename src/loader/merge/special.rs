//! The attributes that do not merge as plain mappings and sequences, after
//! compose-go's `override/merge.go` (the rules docker compose v2 applies).

use super::{incompatible, merge_entries, MergeError};
use crate::loader::node::{Location, Mapping, MergeTag, Node, NodePath, Value};

/// How one attribute merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rule {
    /// The later value wins whole: shell commands (13-merge.md "Shell
    /// commands") and each `ulimits` entry.
    Replace,
    /// Lists of `KEY=VALUE` (or plain) entries that may also be written as a
    /// mapping: environment, labels, sysctls, dns, env_file, ...
    KeyValueList,
    /// `extra_hosts`: a host may map to several addresses, so only identical
    /// entries are folded.
    ExtraHosts,
    /// `build`: a string is the short form of `{context: ...}`.
    Build,
    /// `depends_on`: a list is the short form of a mapping with defaults.
    DependsOn,
    /// Service `networks` and `models`: a list of names is a mapping of names
    /// to null.
    NameMap,
    /// `logging`: options merge only when both sides use the same driver.
    Logging,
    /// `ipam.config`: entries are matched by subnet.
    IpamConfig,
}

/// The rule for the value at `path`, when it is not the default one.
pub(super) fn rule_for(path: &NodePath) -> Option<Rule> {
    let keys = path.pattern();
    use Rule::*;
    Some(match keys.as_slice() {
        ["services", _, "command" | "entrypoint"]
        | ["services", _, "healthcheck", "test"]
        | ["services", _, "ulimits", _] => Replace,
        ["services", _, "annotations" | "dns" | "dns_opt" | "dns_search" | "env_file"]
        | ["services", _, "label_file" | "environment" | "labels" | "sysctls" | "tmpfs"]
        | ["services", _, "build", "args" | "additional_contexts" | "labels"]
        | ["services", _, "deploy", "labels"]
        | ["networks" | "volumes", _, "labels"] => KeyValueList,
        ["services", _, "extra_hosts"] | ["services", _, "build", "extra_hosts"] => ExtraHosts,
        ["services", _, "build"] => Build,
        ["services", _, "depends_on"] => DependsOn,
        ["services", _, "networks" | "models"] => NameMap,
        ["services", _, "logging"] => Logging,
        ["networks", _, "ipam", "config"] => IpamConfig,
        _ => return None,
    })
}

pub(super) fn apply(
    rule: Rule,
    base: Node,
    over: Node,
    path: &NodePath,
) -> Result<Node, MergeError> {
    if rule == Rule::Replace {
        return Ok(over);
    }
    if over.is_null() {
        return Ok(base);
    }
    if base.is_null() {
        return Ok(over);
    }
    match rule {
        Rule::Replace => Ok(over),
        Rule::KeyValueList => key_value_list(base, over, path),
        Rule::ExtraHosts => extra_hosts(base, over, path),
        Rule::Build => {
            let (base, over) = (build_map(base), build_map(over));
            mappings(base, over, path)
        }
        Rule::DependsOn => {
            let (base, over) = (depends_on_map(base), depends_on_map(over));
            mappings(base, over, path)
        }
        Rule::NameMap => {
            let (base, over) = (names_map(base), names_map(over));
            mappings(base, over, path)
        }
        Rule::Logging => logging(base, over, path),
        Rule::IpamConfig => ipam_config(base, over, path),
    }
}

/// Merge two values that must both be mappings by now.
fn mappings(base: Node, over: Node, path: &NodePath) -> Result<Node, MergeError> {
    if base.as_map().is_none() || over.as_map().is_none() {
        return Err(incompatible(&base, &over, path));
    }
    super::merge_maps(base, over, path)
}

/// KEY=VALUE lists. Two mappings merge key by key, the later entry replacing
/// the earlier one whole (so `FOO:` in a later file leaves FOO to the shell,
/// as compose-go's list conversion does). Otherwise both sides become lists
/// and are appended; unicity then keeps the last entry of each key.
fn key_value_list(base: Node, over: Node, path: &NodePath) -> Result<Node, MergeError> {
    let span = base.span.clone();
    if let (Value::Map(mut entries), Value::Map(other)) = (base.value.clone(), &over.value) {
        for (key, value) in other {
            entries.insert(key.clone(), value.clone());
        }
        return Ok(Node::with_span(Value::Map(entries), span));
    }
    let mut items = entries(&base, path)?;
    let more = entries(&over, path)?;
    // A `!reset` entry of a mapping written over a list removes that key.
    let reset: Vec<String> = more
        .iter()
        .filter(|n| n.tag == Some(MergeTag::Reset))
        .filter_map(|n| n.scalar_text())
        .collect();
    items.retain(|n| {
        !n.scalar_text()
            .is_some_and(|t| reset.contains(&entry_key(&t).to_string()))
    });
    items.extend(more);
    Ok(Node::with_span(Value::Seq(items), span))
}

/// The key of a `KEY=VALUE` entry.
pub(super) fn entry_key(text: &str) -> &str {
    text.split_once('=').map_or(text, |(k, _)| k)
}

/// A value of a KEY=VALUE attribute as list entries: mapping entries become
/// `KEY=VALUE` (`KEY` alone for null, one entry per item for a list), a
/// scalar becomes a one-entry list. Each entry keeps its value's position.
fn entries(node: &Node, path: &NodePath) -> Result<Vec<Node>, MergeError> {
    match &node.value {
        Value::Seq(items) => Ok(items.clone()),
        Value::Map(m) => {
            let mut out = Vec::new();
            for (key, value) in m {
                map_entry(key, value, &path.key(key.as_str()), &mut out)?;
            }
            Ok(out)
        }
        Value::Null => Ok(Vec::new()),
        _ => Ok(vec![node.clone()]),
    }
}

fn map_entry(
    key: &str,
    value: &Node,
    path: &NodePath,
    out: &mut Vec<Node>,
) -> Result<(), MergeError> {
    let entry = |text: String| {
        let mut n = Node::with_span(Value::String(text), value.span.clone());
        n.tag = value.tag.filter(|t| *t == MergeTag::Reset);
        n
    };
    match &value.value {
        Value::Null => out.push(entry(key.to_string())),
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let text = item.scalar_text().ok_or_else(|| MergeError::NotKeyValue {
                    location: Location::new(item.span.clone(), path.index(i)),
                    found: item.kind_name(),
                })?;
                out.push(Node::with_span(
                    Value::String(format!("{key}={text}")),
                    item.span.clone(),
                ));
            }
        }
        Value::Map(_) => {
            return Err(MergeError::NotKeyValue {
                location: Location::new(value.span.clone(), path.clone()),
                found: value.kind_name(),
            })
        }
        _ => {
            let text = value.scalar_text().unwrap_or_default();
            out.push(entry(format!("{key}={text}")));
        }
    }
    Ok(())
}

/// `extra_hosts`: both sides as lists; a later entry is added unless the very
/// same entry is already there (compose-go `mergeExtraHosts`).
fn extra_hosts(base: Node, over: Node, path: &NodePath) -> Result<Node, MergeError> {
    let span = base.span.clone();
    let mut items = entries(&base, path)?;
    for entry in entries(&over, path)? {
        if !items.contains(&entry) {
            items.push(entry);
        }
    }
    Ok(Node::with_span(Value::Seq(items), span))
}

fn build_map(node: Node) -> Node {
    match node.value {
        Value::String(_) => {
            let span = node.span.clone();
            let mut m = Mapping::new();
            m.insert("context".into(), node);
            Node::with_span(Value::Map(m), span)
        }
        _ => node,
    }
}

/// `depends_on: [a]` means `a: {condition: service_started, required: true}`.
fn depends_on_map(node: Node) -> Node {
    list_to_map(node, |item| {
        let mut m = Mapping::new();
        m.insert(
            "condition".into(),
            Node::with_span(Value::String("service_started".into()), item.span.clone()),
        );
        m.insert(
            "required".into(),
            Node::with_span(Value::Bool(true), item.span.clone()),
        );
        Node::with_span(Value::Map(m), item.span.clone())
    })
}

fn names_map(node: Node) -> Node {
    list_to_map(node, |item| Node::with_span(Value::Null, item.span.clone()))
}

/// A list of names as a mapping from each name to `value(item)`; anything
/// else is returned as it is (a type mismatch is reported by the merge).
fn list_to_map(node: Node, value: impl Fn(&Node) -> Node) -> Node {
    let span = node.span.clone();
    match &node.value {
        Value::Seq(items) => {
            let mut m = Mapping::new();
            for item in items {
                if let Some(name) = item.scalar_text() {
                    let mut v = value(item);
                    v.tag = item.tag;
                    m.insert(name, v);
                }
            }
            Node::with_span(Value::Map(m), span)
        }
        _ => node,
    }
}

fn logging(base: Node, over: Node, path: &NodePath) -> Result<Node, MergeError> {
    let driver = |n: &Node| n.get("driver").and_then(Node::scalar_text);
    match (driver(&base), driver(&over)) {
        (Some(a), Some(b)) if a != b => Ok(over),
        _ => mappings(base, over, path),
    }
}

/// `ipam.config`: an entry for a subnet already configured merges into it,
/// an entry for a new subnet is added.
fn ipam_config(base: Node, over: Node, path: &NodePath) -> Result<Node, MergeError> {
    if base.as_seq().is_none() || over.as_seq().is_none() {
        return Err(incompatible(&base, &over, path));
    }
    let span = base.span.clone();
    let (Value::Seq(mut items), Value::Seq(more)) = (base.value, over.value) else {
        unreachable!("checked above")
    };
    let subnet = |n: &Node| n.get("subnet").and_then(Node::scalar_text);
    for entry in more {
        let same = items
            .iter()
            .position(|i| subnet(i).is_some() && subnet(i) == subnet(&entry));
        match (same, entry.value) {
            (Some(i), Value::Map(other)) => {
                if let Value::Map(entries) = &mut items[i].value {
                    merge_entries(entries, other, path)?;
                }
            }
            (_, value) => items.push(Node {
                value,
                span: entry.span,
                tag: entry.tag,
            }),
        }
    }
    Ok(Node::with_span(Value::Seq(items), span))
}
