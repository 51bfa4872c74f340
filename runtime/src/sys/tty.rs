//! Terminal ioctls nix does not wrap: TIOCSCTTY (tty_ioctl(4)).

use nix::libc;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Make `tty` the controlling terminal of the calling session leader.
pub fn set_controlling_terminal(tty: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: TIOCSCTTY takes an int argument (0: do not steal) and
    // touches no memory of ours.
    let rc = unsafe { libc::ioctl(tty.as_raw_fd(), libc::TIOCSCTTY, 0) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
