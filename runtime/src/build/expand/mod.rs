//! Variable expansion in Dockerfile instructions: the shell-word
//! processor ([`Shell`]) and the ARG/ENV scopes it reads
//! ([`GlobalScope`] for FROM lines, [`StageScope`] inside a stage).

mod scope;
mod shell;

pub use scope::{
    unconsumed_build_args, BuildInputs, GlobalArgError, GlobalScope, Platform, StageScope,
    PROXY_ARGS,
};
pub use shell::{ExpandError, Shell};

#[cfg(test)]
mod tests;
