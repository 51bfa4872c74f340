//! Merging Compose files and services (13-merge.md), `!reset`/`!override`,
//! and the unicity rules for lists keyed by a unique value.
//!
//! OWNER: loader-composition helper (skeleton only).

use super::node::{Location, Node};

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{location}: cannot merge {over} into {base}")]
    Incompatible {
        location: Location,
        base: &'static str,
        over: &'static str,
    },
}

/// Merge `over` (a later file) into `base` (what was loaded before).
pub fn merge(base: Node, over: Node) -> Result<Node, MergeError> {
    if base.as_map().is_none() || base.as_map().is_some_and(|m| m.is_empty()) {
        return Ok(over);
    }
    Ok(over)
}
