//! The bundled container runtime of `compose`: the only crate that touches
//! the kernel or mutable on-disk state. It knows nothing of YAML: it takes
//! plain Rust specs and returns typed state.

pub mod image;
#[doc(hidden)]
pub mod testing;
