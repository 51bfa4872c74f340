//! `compose watch` decisions, pure: which services are watched and their
//! rules (`rules`), the patterns they match with (`matcher`), batching of
//! file events (`batch`) and the actions a batch of changed paths asks for
//! (`plan`). The file events themselves and the copies into containers are
//! the runtime's (`compose_runtime::watch`); `cli/watch.rs` joins them.

pub mod batch;
pub mod matcher;
pub mod plan;
pub mod rules;
#[cfg(test)]
mod tests;

pub use batch::Debouncer;
pub use plan::{plan_batch, BatchPlan};
pub use rules::{rules_for, watched_services, Mapping, Rule};

use compose_runtime::build::context::PatternError;

/// Why a project cannot be watched.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// docker compose's message, word for word.
    #[error("none of the selected services is configured for watch, consider setting a 'develop' section")]
    NoneConfigured,
    #[error("service {service:?} is not configured for watch: add a `develop.watch` section to it, or leave it off the command line")]
    NotConfigured { service: String },
    #[error("can't watch service {service:?} with action rebuild without a build context: add a `build` section or use another action")]
    RebuildWithoutBuild { service: String },
    #[error("can't watch with action \"sync+exec\" on service {service:?} without a command: set `exec.command`")]
    ExecWithoutCommand { service: String },
    #[error("services.{service}.develop.watch[{index}]: {source}")]
    Pattern {
        service: String,
        index: usize,
        #[source]
        source: PatternError,
    },
}
