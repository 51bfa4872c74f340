//! Image builds from a Dockerfile: parsing ([`dockerfile`]), variable
//! expansion with ARG/ENV scoping ([`expand`]), stage resolution into a
//! [`plan::BuildPlan`], `.dockerignore` and the build context
//! ([`context`]), what config-only instructions do to the image config
//! ([`config`]), layer diffs from an overlay upper dir ([`diff`]) and the
//! cache key of a step ([`cache`]). The pieces are pure or touch only the
//! paths they are given; running RUN steps in containers is the executor's.

pub mod cache;
pub mod config;
pub mod context;
pub mod diff;
pub mod dockerfile;
pub mod error;
pub mod expand;
pub mod plan;

pub mod exec;

pub use error::BuildError;
