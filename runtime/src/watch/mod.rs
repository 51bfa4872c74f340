//! `compose watch` on the kernel's side: file events from inotify
//! ([`FileWatcher`], through the `notify` crate), the tar of changed files
//! and its delivery into a container ([`sync`]) through the copy shim of
//! `docker compose cp` (`container::cp`), so every path resolves inside
//! the container, and the walk of a watched directory for `initial_sync`
//! ([`files_under`]). What to do with the changes (rules, patterns,
//! batching) is decided in the `compose` crate (`src/watch/`).

mod archive;
mod events;
mod lock;
pub mod sync;
mod walk;

pub use archive::{write_sync_archive, SyncEntry};
pub use events::{FileWatcher, WatchError};
pub use lock::{WatchLock, WatchLockError};
pub use sync::{sync_container, SyncError};
pub use walk::files_under;

/// Block SIGINT and SIGTERM in the calling thread (and the threads it
/// starts, such as the file watcher's), so a watch running beside an
/// attached `up` leaves Ctrl-C to the thread that reads it from its
/// signalfd (`project::interrupt`).
pub fn block_interrupts() -> nix::Result<()> {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.thread_block()
}
