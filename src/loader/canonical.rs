//! The canonical long form docker compose prints: every short syntax of the
//! Compose file rewritten into its long form, and the defaults compose-go
//! fills in (its `transform` package: `Canonical` and `SetDefaultValues`,
//! plus the list-to-map conversions its decoders do).
//!
//! Runs on the merged [`Node`] tree, in place, and is idempotent: a document
//! already in long form is left as it is, so the loader may run it after each
//! merge. Nodes made here keep the span of the value they came from, so later
//! errors still point at what the user wrote.

pub mod ports;
mod resources;
mod service;
mod volumes;

pub use volumes::clean_path;

use super::node::{Location, Mapping, Node, NodePath, Value};
use super::Warning;

/// A short syntax that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum CanonicalError {
    #[error("{location}: invalid port {spec:?}: {reason}")]
    Port {
        location: Location,
        spec: String,
        reason: String,
    },
    #[error("{location}: invalid volume {spec:?}: {reason}")]
    Volume {
        location: Location,
        spec: String,
        reason: &'static str,
    },
    #[error("{location}: confusing device mapping {spec:?}: use the long syntax (source, target, permissions)")]
    Device { location: Location, spec: String },
    #[error("{location}: expected {expected}, found {found}")]
    Type {
        location: Location,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{location}: environment variable {key:?} is declared with a trailing space: remove the space before `=`")]
    TrailingSpace { location: Location, key: String },
    #[error("{location}: invalid value {entry:?}: expected KEY=VALUE")]
    KeyValue { location: Location, entry: String },
    #[error("{location}: invalid ssh key {entry:?}: expected `default` or ID=PATH")]
    SshKey { location: Location, entry: String },
    #[error(
        "{location}: `name` and `external.name` conflict: only use `name` (and `external: true`)"
    )]
    ExternalNameConflict { location: Location },
}

/// Rewrite short syntaxes into their long form and fill in defaults, in place.
pub fn canonical(doc: &mut Node, warnings: &mut Vec<Warning>) -> Result<(), CanonicalError> {
    transform(doc, warnings, false)
}

/// [`canonical`] for a document that is not interpolated (`config
/// --no-interpolate`): `ports`, `volumes` and `devices` entries whose short
/// syntax cannot be parsed (`${PORT:-8080}:80`) are left as written.
pub fn canonical_lenient(
    doc: &mut Node,
    warnings: &mut Vec<Warning>,
) -> Result<(), CanonicalError> {
    transform(doc, warnings, true)
}

fn transform(
    doc: &mut Node,
    warnings: &mut Vec<Warning>,
    lenient: bool,
) -> Result<(), CanonicalError> {
    let root = NodePath::root();
    let Some(top) = doc.as_map_mut() else {
        return Ok(());
    };
    if let Some(services) = top.get_mut("services").and_then(Node::as_map_mut) {
        let path = root.key("services");
        for (name, svc) in services.iter_mut() {
            service::transform(svc, &path.key(name), lenient)?;
        }
    }
    for kind in ["volumes", "networks", "secrets", "configs"] {
        if let Some(section) = top.get_mut(kind).and_then(Node::as_map_mut) {
            let path = root.key(kind);
            for (name, res) in section.iter_mut() {
                resources::maybe_external(res, &path.key(name), warnings)?;
            }
        }
    }
    if let Some(includes) = top.get_mut("include").and_then(Node::as_seq_mut) {
        for inc in includes.iter_mut() {
            if let Value::String(_) = inc.value {
                let span = inc.span.clone();
                let path = std::mem::replace(inc, Node::null());
                *inc = map_node([("path", path)], span);
            }
        }
    }
    Ok(())
}

/// A mapping node built from pairs, carrying `span`.
fn map_node<const N: usize>(pairs: [(&str, Node); N], span: Option<super::node::Span>) -> Node {
    let m: Mapping = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    Node::with_span(Value::Map(m), span)
}

fn located(node: &Node, path: &NodePath) -> Location {
    Location::new(node.span.clone(), path.clone())
}

fn type_error(node: &Node, path: &NodePath, expected: &'static str) -> CanonicalError {
    CanonicalError::Type {
        location: located(node, path),
        expected,
        found: node.kind_name(),
    }
}

/// Set `key` to `value` in a mapping unless it is already there.
fn set_default(m: &mut Mapping, key: &str, value: Node) {
    if !m.contains_key(key) {
        m.insert(key.to_string(), value);
    }
}

/// A scalar's text as compose-go's `fmt.Sprint` writes it.
fn text(node: &Node) -> Option<String> {
    node.scalar_text()
}

#[cfg(test)]
mod tests;
