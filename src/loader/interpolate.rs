//! `${VAR}` interpolation over a document (12-interpolation.md).
//!
//! OWNER: loader-front helper (skeleton only: does nothing yet).

use super::environment::Environment;
use super::node::{Location, Node};
use super::Warning;

#[derive(Debug, thiserror::Error)]
pub enum InterpolationError {
    #[error("{location}: invalid interpolation format for {value:?}: {message}")]
    InvalidFormat {
        location: Location,
        value: String,
        message: String,
    },
}

/// Replace every variable reference in the document's strings.
pub fn interpolate(
    _doc: &mut Node,
    _env: &Environment,
    _warnings: &mut Vec<Warning>,
) -> Result<(), InterpolationError> {
    Ok(())
}
