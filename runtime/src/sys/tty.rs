//! Terminal ioctls nix does not wrap (tty_ioctl(4)): TIOCSCTTY, the window
//! size; and raw mode for an interactive exec.

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

nix::ioctl_read_bad!(tiocgwinsz, libc::TIOCGWINSZ, libc::winsize);
nix::ioctl_write_ptr_bad!(tiocswinsz, libc::TIOCSWINSZ, libc::winsize);

/// The window size of the terminal `tty` (TIOCGWINSZ).
pub fn window_size(tty: BorrowedFd<'_>) -> io::Result<libc::winsize> {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` through the pointer, which
    // points at a live, properly aligned local.
    unsafe { tiocgwinsz(tty.as_raw_fd(), &mut size) }?;
    Ok(size)
}

/// Set the window size of `tty` (TIOCSWINSZ); the kernel sends SIGWINCH
/// to its foreground process group.
pub fn set_window_size(tty: BorrowedFd<'_>, size: &libc::winsize) -> io::Result<()> {
    // SAFETY: TIOCSWINSZ reads one `winsize` through the pointer, which
    // points at a live value for the duration of the call.
    unsafe { tiocswinsz(tty.as_raw_fd(), size) }?;
    Ok(())
}

/// A terminal in raw mode (cfmakeraw(3)) until dropped, when its previous
/// settings come back: `compose exec -t` hands every key, Ctrl-C
/// included, to the container's terminal.
pub struct RawMode {
    fd: std::os::fd::OwnedFd,
    saved: nix::sys::termios::Termios,
}

impl RawMode {
    /// Put the terminal behind `tty` in raw mode.
    pub fn enable(tty: BorrowedFd<'_>) -> io::Result<RawMode> {
        use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
        let fd = tty.try_clone_to_owned()?;
        let saved = tcgetattr(&fd)?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        tcsetattr(&fd, SetArg::TCSANOW, &raw)?;
        Ok(RawMode { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        use nix::sys::termios::{tcsetattr, SetArg};
        // TCSADRAIN: output still queued was written in raw mode.
        let _ = tcsetattr(&self.fd, SetArg::TCSADRAIN, &self.saved);
    }
}
