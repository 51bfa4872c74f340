//! Merging Compose documents and services (13-merge.md): a later file over an
//! earlier one, an extending service over the service it extends, and an
//! including file over the resources it imports.
//!
//! Mappings merge key by key, scalars are replaced, sequences are appended;
//! a few attributes follow their own rule ([`special`], after compose-go's
//! `override/merge.go`). `!reset` and `!override` on a value of the overriding
//! side replace the inherited value outright; a `!reset` value is then dropped
//! by [`strip_tags`]. After a merge, [`enforce_unicity`] folds entries of the
//! lists whose entries are keyed (ports, volumes by target, ...).

mod special;
mod unicity;

#[cfg(test)]
mod tests;

pub use unicity::enforce_unicity;

use super::node::{Location, Mapping, MergeTag, Node, NodePath, Span, Value};

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{location}: cannot merge {over} into {base}{}; mark the new value `!override` to replace it", defined_at(.base_span))]
    Incompatible {
        location: Location,
        base: &'static str,
        over: &'static str,
        base_span: Option<Span>,
    },
    #[error("{location}: {found} cannot be written as a `KEY=VALUE` entry")]
    NotKeyValue {
        location: Location,
        found: &'static str,
    },
    #[error("{location}: expected {expected}, found {found}")]
    UnexpectedEntry {
        location: Location,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{location}: {what} has no `{field}`; add it so that entries can be told apart")]
    MissingField {
        location: Location,
        what: &'static str,
        field: &'static str,
    },
}

fn defined_at(span: &Option<Span>) -> String {
    match span {
        Some(s) => format!(" defined at {s}"),
        None => String::new(),
    }
}

/// Merge a later Compose document `over` onto what was loaded before it.
///
/// The result carries no merge tags: `!reset` values are gone and `!override`
/// values are plain values again, ready for the next file.
pub fn merge(base: Node, over: Node) -> Result<Node, MergeError> {
    let mut merged = merge_at(strip_tags(base), over, &NodePath::root())?;
    strip_in_place(&mut merged);
    Ok(merged)
}

/// Merge one resource (`kind` is `services`, `networks`, ...) over another of
/// the same name, with the rules that apply at `kind.name`. Used by `extends`
/// and by `include`, which run before the document is merged over the earlier
/// files: the tags of `over` are kept so that that later merge still honours
/// them, as compose-go applies a file's `!reset` paths to everything it merges.
pub fn merge_resource(kind: &str, name: &str, base: Node, over: Node) -> Result<Node, MergeError> {
    merge_at(
        strip_tags(base),
        over,
        &NodePath::root().key(kind).key(name),
    )
}

/// A node without merge tags: `!reset` entries removed, `!override` cleared.
pub fn strip_tags(mut node: Node) -> Node {
    strip_in_place(&mut node);
    node
}

fn strip_in_place(node: &mut Node) {
    node.tag = None;
    match &mut node.value {
        Value::Map(m) => {
            m.retain(|_, v| v.tag != Some(MergeTag::Reset));
            m.values_mut().for_each(strip_in_place);
        }
        Value::Seq(items) => {
            items.retain(|v| v.tag != Some(MergeTag::Reset));
            items.iter_mut().for_each(strip_in_place);
        }
        _ => {}
    }
}

/// Merge `over` onto `base` at `path` (which decides the special rules).
fn merge_at(base: Node, over: Node, path: &NodePath) -> Result<Node, MergeError> {
    // `!reset` and `!override` bypass every rule: the new value replaces the
    // old (13-merge.md "Reset value", "Replace value").
    if over.tag.is_some() {
        return Ok(over);
    }
    if let Some(rule) = special::rule_for(path) {
        return special::apply(rule, base, over, path);
    }
    // A null in a later file does not unset anything (that is what `!reset`
    // is for): compose-go keeps the earlier value.
    if over.is_null() {
        return Ok(base);
    }
    match (&base.value, &over.value) {
        (Value::Map(_), Value::Map(_)) => merge_maps(base, over, path),
        (Value::Seq(_), Value::Seq(_)) => Ok(append(base, over)),
        (Value::Map(_) | Value::Seq(_), _) => Err(incompatible(&base, &over, path)),
        _ => Ok(over),
    }
}

/// Mapping merge: entries only in `over` are added, shared ones merged.
/// The merged mapping keeps the position where it was first written.
fn merge_maps(base: Node, over: Node, path: &NodePath) -> Result<Node, MergeError> {
    let span = base.span.clone();
    let (Value::Map(mut entries), Value::Map(other)) = (base.value, over.value) else {
        unreachable!("merge_maps is only called with two mappings")
    };
    merge_entries(&mut entries, other, path)?;
    Ok(Node::with_span(Value::Map(entries), span))
}

fn merge_entries(entries: &mut Mapping, other: Mapping, path: &NodePath) -> Result<(), MergeError> {
    for (key, value) in other {
        match entries.get_mut(&key) {
            Some(slot) => {
                let old = std::mem::replace(slot, Node::null());
                *slot = merge_at(old, value, &path.key(key.as_str()))?;
            }
            None => {
                entries.insert(key, value);
            }
        }
    }
    Ok(())
}

/// Sequence merge: the later entries follow the earlier ones (13-merge.md
/// "Sequence"); [`enforce_unicity`] later folds keyed duplicates.
fn append(base: Node, over: Node) -> Node {
    let span = base.span.clone();
    let (Value::Seq(mut items), Value::Seq(more)) = (base.value, over.value) else {
        unreachable!("append is only called with two sequences")
    };
    items.extend(more);
    Node::with_span(Value::Seq(items), span)
}

fn incompatible(base: &Node, over: &Node, path: &NodePath) -> MergeError {
    MergeError::Incompatible {
        location: Location::new(over.span.clone(), path.clone()),
        base: base.kind_name(),
        over: over.kind_name(),
        base_span: base.span.clone(),
    }
}
