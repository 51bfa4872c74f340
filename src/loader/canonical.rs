//! The canonical long form docker compose prints: ports, volumes, environment,
//! depends_on, build, networks, healthcheck durations, sizes, ...
//!
//! OWNER: model helper (skeleton only: does nothing yet).

use super::node::{Location, Node};
use super::Warning;

#[derive(Debug, thiserror::Error)]
pub enum CanonicalError {
    #[error("{location}: {message}")]
    Invalid { location: Location, message: String },
}

/// Rewrite short syntaxes into their long form, in place.
pub fn canonical(_doc: &mut Node, _warnings: &mut Vec<Warning>) -> Result<(), CanonicalError> {
    Ok(())
}
