//! The build module's umbrella error, for the executor that drives parsing,
//! planning, context reading, config and layers and reports one type.
//! Each variant wraps a module's own error unchanged.

use super::cache::HashError;
use super::config::ConfigError;
use super::context::{ContextError, SelectError};
use super::diff::DiffError;
use super::dockerfile::ParseError;
use super::expand::GlobalArgError;
use super::plan::PlanError;

/// Any failure of the build foundations.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    GlobalArg(#[from] GlobalArgError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error(transparent)]
    Select(#[from] SelectError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Diff(#[from] DiffError),
}
