//! The bundled container runtime of `compose`: the only crate that touches
//! the kernel or mutable on-disk state. It knows nothing of YAML: it takes
//! plain Rust specs and returns typed state.

pub mod build;
pub mod cgroups;
pub mod container;
pub mod image;
pub mod network;
pub mod project;
pub mod scope;
pub mod supervisor;
pub mod sys;
#[doc(hidden)]
pub mod testing;
pub mod watch;
