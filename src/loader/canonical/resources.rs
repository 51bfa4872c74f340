//! Top-level `volumes`, `networks`, `secrets`, `configs`: the legacy
//! `external: {name: x}` form becomes `external: true` with `name: x`
//! (compose-go's `transformMaybeExternal`), and labels lists become maps.

use super::{located, CanonicalError};
use crate::loader::node::{Node, NodePath, Value};
use crate::loader::Warning;

pub fn maybe_external(
    res: &mut Node,
    path: &NodePath,
    warnings: &mut Vec<Warning>,
) -> Result<(), CanonicalError> {
    let Some(m) = res.as_map_mut() else {
        return Ok(());
    };
    if let Some(labels) = m.get_mut("labels") {
        labels_to_map(labels);
    }
    let Some(ext) = m.get("external") else {
        return Ok(());
    };
    let Some(ext_map) = ext.as_map() else {
        return Ok(());
    };
    let ext_name = ext_map.get("name").cloned();
    let ext_span = ext.span.clone();
    m.insert(
        "external".into(),
        Node::with_span(Value::Bool(true), ext_span.clone()),
    );
    if let Some(ext_name) = ext_name {
        warnings.push(Warning {
            location: Some(located(&ext_name, &path.key("external").key("name"))),
            message: "external.name is deprecated: set `name` and `external: true` instead".into(),
        });
        match m.get("name") {
            Some(name) if name != &ext_name => {
                return Err(CanonicalError::ExternalNameConflict {
                    location: located(name, &path.key("name")),
                })
            }
            Some(_) => {}
            None => {
                m.insert("name".into(), ext_name);
            }
        }
    }
    Ok(())
}

/// `labels: [a=b, c]` becomes `{a: b, c: ""}`.
fn labels_to_map(node: &mut Node) {
    let Some(items) = node.as_seq() else {
        return;
    };
    let m = items
        .iter()
        .filter_map(|item| {
            let t = item.scalar_text()?;
            let (k, v) = t.split_once('=').unwrap_or((&t, ""));
            Some((
                k.to_string(),
                Node::with_span(Value::String(v.to_string()), item.span.clone()),
            ))
        })
        .collect();
    node.value = Value::Map(m);
}
