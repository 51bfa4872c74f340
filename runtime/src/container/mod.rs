//! Containers: one Linux container started from a root filesystem, with our
//! own init as PID 1.
//!
//! ```text
//! host (CLI / supervisor)            compose init (outer)        PID 1 (our init)         workload
//! Container::create ── spawn ──────► join cgroup, unshare ─fork─► overlay, pivot_root,
//!   (sealed memfd copy of the binary)  writes state.json:       /proc /dev /sys, mounts,
//!   reads reports on its stdout ◄───── {"event":"forked"}        masks, hostname ──fork──► user, rlimits, caps,
//!                               ◄────────────────────────────── {"event":"ready"}           seccomp, execve
//! wait / kill / stop (pidfd)                                    forwards signals, reaps,
//!                                                               logs stdout/stderr,
//!                                                               writes exit.json, exits
//! ```
//!
//! The host side: `create` (validate via `prepare`, cgroup, start via
//! `launch`, then wait/kill/stop/cleanup), `control` (pause, stats), `exec`
//! (another process in a running container). The init side, inside the new
//! namespaces: `init` (both stages), `rootfs`, `mounts`, `devices`,
//! `sysctl`, `workload` (fork to exec), `supervise` (PID 1's loop).
//! Pure pieces with unit tests: `spec`, `state`, `log`, `user`, `caps`,
//! `seccomp`.
//!
//! The state directory of one container:
//! `config.json` (spec + cgroup + resolved devices, written by the host),
//! `state.json` (lifecycle; atomic writes by the outer init and the host),
//! `exit.json` (written once by PID 1, folded into state.json by the host),
//! `log.jsonl` (the workload's output), `init.log` (the init's own stderr),
//! `hosts`, `hostname`, `resolv.conf` (bind-mounted into /etc),
//! `upper/`, `work/`, `merged/` (the overlay).

pub mod caps;
mod control;
pub mod cp;
pub mod create;
pub mod devices;
pub mod error;
pub mod exec;
pub mod init;
pub mod launch;
pub mod log;
pub mod mounts;
mod prepare;
pub mod relay;
pub mod rootfs;
pub mod seccomp;
pub mod spec;
pub mod state;
pub mod stdin;
pub mod supervise;
pub mod sysctl;
pub mod target;
pub mod top;
pub mod usage;
pub mod user;
pub mod workload;

pub use create::Container;
pub use error::{CleanupError, ContainerError, SetupError};
pub use launch::{become_subreaper, InitProgram};
pub use spec::{ContainerSpec, Mount, NetworkMode};
pub use state::{ExitStatus, State, Status};
