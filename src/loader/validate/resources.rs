//! Top-level resources (compose-go validation/validation.go): secrets and
//! configs name exactly one source, external volumes carry nothing but their
//! name.

use super::{Checker, IssueKind};
use crate::loader::node::{Node, NodePath, Value};

const SECRET_SOURCES: &[&str] = &["file", "environment"];
const CONFIG_SOURCES: &[&str] = &["file", "environment", "content"];

pub(super) fn check(c: &mut Checker<'_>) {
    let file_objects = [
        ("secrets", "secret", SECRET_SOURCES),
        ("configs", "config", CONFIG_SOURCES),
    ];
    for (section, kind, sources) in file_objects {
        for (path, node) in entries(c.doc, section) {
            file_object(c, node, path, kind, sources);
        }
    }
    // compose-go checks `external` only for volumes (`checkVolume`): an
    // external network may keep `ipam: {}` (which `config --format json`
    // prints for every network) and an external config or secret its
    // `template_driver` (compose-go TestTemplateDriver).
    for (path, node) in entries(c.doc, "volumes") {
        external(c, node, path);
    }
}

fn entries<'d>(doc: &'d Node, section: &str) -> Vec<(NodePath, &'d Node)> {
    let base = NodePath::root().key(section);
    doc.get(section)
        .and_then(Node::as_map)
        .map(|m| m.iter().map(|(k, v)| (base.key(k.clone()), v)).collect())
        .unwrap_or_default()
}

fn file_object(
    c: &mut Checker<'_>,
    node: &Node,
    path: NodePath,
    kind: &'static str,
    keys: &'static [&'static str],
) {
    let Some(map) = node.as_map() else {
        return;
    };
    let count = keys.iter().filter(|k| map.contains_key(**k)).count();
    if count > 1 {
        c.report(path, IssueKind::FileObjectExclusive { keys });
    } else if count == 0 && !map.contains_key("driver") && !map.contains_key("external") {
        c.report(path, IssueKind::FileObjectMissing { kind, keys });
    }
}

/// `external: true` with anything but `name` and extensions.
fn external(c: &mut Checker<'_>, node: &Node, path: NodePath) {
    let Some(map) = node.as_map() else {
        return;
    };
    if !matches!(
        map.get("external").map(|e| &e.value),
        Some(Value::Bool(true))
    ) {
        return;
    }
    for key in map.keys() {
        if !matches!(key.as_str(), "name" | "external") && !key.starts_with("x-") {
            c.report(
                path.key(key.clone()),
                IssueKind::ExternalConflict { key: key.clone() },
            );
        }
    }
}
