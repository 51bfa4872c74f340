//! `compose`: the Compose model (loader, graph, plan), the CLI and its UI.
//!
//! This crate does no syscalls and no network I/O beyond reading the user's
//! files; everything that touches the kernel lives in the `compose-runtime`
//! crate (`runtime/`).

pub mod cli;
pub mod graph;
pub mod loader;
pub mod model;
pub mod plan;
pub mod run_spec;
#[doc(hidden)]
pub mod testing;
pub mod ui;
pub mod watch;
