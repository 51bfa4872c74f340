//! Ctrl-C for attached commands (`up` without `-d`, `logs -f`): SIGINT and
//! SIGTERM are blocked and read from a signalfd, so the command notices
//! them between polls and stops the project cleanly, with no handler code
//! running at arbitrary points.
//!
//! The mask is inherited by threads and processes started later; a
//! container's init resets it (and every disposition) for its workload, so
//! containers started after `catch` still take SIGTERM.

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

pub struct Interrupts {
    fd: SignalFd,
}

impl Interrupts {
    /// Block SIGINT and SIGTERM in this thread (threads started later
    /// inherit it) and read them from a non-blocking signalfd.
    pub fn catch() -> std::io::Result<Interrupts> {
        let mut set = SigSet::empty();
        set.add(Signal::SIGINT);
        set.add(Signal::SIGTERM);
        set.thread_block()?;
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        Ok(Interrupts { fd })
    }

    /// Whether SIGINT or SIGTERM arrived since the last call.
    pub fn pending(&mut self) -> bool {
        matches!(self.fd.read_signal(), Ok(Some(_)))
    }
}

/// The second Ctrl-C: SIGKILL the named containers of `project` at once
/// (docker compose's `killApplication`). One already gone is what was
/// wanted anyway, so failures are not reported.
pub fn force_stop<'a>(project: &super::ProjectDir, names: impl IntoIterator<Item = &'a str>) {
    for name in names {
        let _ = super::ops::kill(project, name, Signal::SIGKILL);
    }
}
