//! The exec shim's terminal for `compose exec -t`: a pseudo-terminal from
//! the container's own devpts (opened after entering its mount namespace,
//! so `tty` inside names a device that exists there, as runc does), whose
//! slave becomes the process's controlling terminal, and a relay between
//! the shim's stdio (the user's terminal) and the master: keys in, output
//! out, SIGWINCH carried over as the new window size, other signals
//! forwarded, until the process exits.

use crate::container::error::SetupError;
use crate::container::state::ExitStatus;
use crate::sys::tty::{set_window_size, window_size};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::{openpty, OpenptyResult, Winsize};
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// Docker's size when the client's is unknown.
const DEFAULT_SIZE: Winsize = Winsize {
    ws_row: 24,
    ws_col: 80,
    ws_xpixel: 0,
    ws_ypixel: 0,
};

/// Open a terminal pair sized like our stdin's terminal (or 24x80).
pub fn open() -> Result<OpenptyResult, SetupError> {
    let size = window_size(std::io::stdin().as_fd()).unwrap_or(DEFAULT_SIZE);
    openpty(&size, None).map_err(SetupError::sys("open a pseudo-terminal"))
}

/// Relay between our stdio and `master` until `child` exits; its status.
/// `signals` are blocked already (the shim blocks them before forking).
pub fn run(child: Pid, master: OwnedFd, signals: &SigSet) -> Result<ExitStatus, Errno> {
    let sigfd = SignalFd::with_flags(signals, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut input_open = true;
    let mut output_open = true;
    loop {
        if let Some(exit) = reap(child) {
            drain(&master, stdout.as_fd());
            return Ok(exit);
        }
        let mut fds = vec![PollFd::new(sigfd.as_fd(), PollFlags::POLLIN)];
        if output_open {
            fds.push(PollFd::new(master.as_fd(), PollFlags::POLLIN));
        }
        if input_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
        let ready = |i: usize| {
            fds.get(i)
                .and_then(|f| f.revents())
                .is_some_and(|r| !r.is_empty())
        };
        let (master_ready, stdin_ready) = match (output_open, input_open) {
            (true, true) => (ready(1), ready(2)),
            (true, false) => (ready(1), false),
            (false, true) => (false, ready(1)),
            (false, false) => (false, false),
        };
        while let Ok(Some(info)) = sigfd.read_signal() {
            match Signal::try_from(info.ssi_signo as i32) {
                Ok(Signal::SIGCHLD) | Err(_) => {}
                Ok(Signal::SIGWINCH) => {
                    if let Ok(size) = window_size(stdin.as_fd()) {
                        let _ = set_window_size(master.as_fd(), &size);
                    }
                }
                // ESRCH: it is gone already; SIGCHLD follows.
                Ok(sig) => drop(kill(child, sig)),
            }
        }
        if master_ready && !copy(master.as_fd(), stdout.as_fd()) {
            output_open = false;
        }
        if stdin_ready && !copy(stdin.as_fd(), master.as_fd()) {
            input_open = false;
        }
    }
}

/// Copy what `from` has now to `to`; false once `from` is finished (end
/// of file, or EIO: a terminal whose other side every process closed).
fn copy(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> bool {
    let mut buf = [0u8; 16 * 1024];
    match nix::unistd::read(from, &mut buf) {
        Ok(0) => false,
        Ok(n) => {
            write_all(to, &buf[..n]);
            true
        }
        Err(Errno::EINTR | Errno::EAGAIN) => true,
        Err(_) => false,
    }
}

fn write_all(to: BorrowedFd<'_>, mut data: &[u8]) {
    while !data.is_empty() {
        match nix::unistd::write(to, data) {
            Ok(n) => data = &data[n..],
            Err(Errno::EINTR) => {}
            Err(_) => return,
        }
    }
}

/// After the process exited: what it wrote last, without waiting for
/// descendants that may keep the terminal open.
fn drain(master: &OwnedFd, out: BorrowedFd<'_>) {
    if let Ok(flags) = fcntl(master, FcntlArg::F_GETFL) {
        let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
        let _ = fcntl(master, FcntlArg::F_SETFL(flags));
    }
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n) = nix::unistd::read(master, &mut buf) {
        if n == 0 {
            break;
        }
        write_all(out, &buf[..n]);
    }
}

/// Reap exited children; the process's status if it was among them.
fn reap(child: Pid) -> Option<ExitStatus> {
    let mut found = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == child => {
                found = Some(ExitStatus::exited(code));
            }
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == child => {
                found = Some(ExitStatus::signaled(sig as i32));
            }
            Ok(WaitStatus::StillAlive) | Err(_) => return found,
            Ok(_) => {}
        }
    }
}
