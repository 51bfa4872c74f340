//! The one syscall seam of the runtime: every `unsafe` block of the crate
//! lives under this module, each with a `// SAFETY:` note. Everything else
//! calls the safe wrappers of `nix` or the ones here.

pub mod bpf;
pub mod memfd;
pub mod memory;
pub mod mount;
pub mod net;
pub mod process;
pub mod seccomp;
pub mod time;
pub mod tty;
pub mod uts;
