//! The main process's stdin for `compose run -i` (Docker's `OpenStdin`):
//! a FIFO in the container's state directory. The client makes it and
//! holds it open read-write *before* the container starts, so the workload
//! never sees an end of input before the client has written anything; the
//! init opens the read end as the workload's stdin; when the client
//! closes its end (its own stdin ended), no writer is left and the
//! workload reads end-of-file, as with `docker run -i` fed by a pipe.
//! Bytes written before the workload reads wait in the pipe buffer.

use crate::container::SetupError;
use nix::fcntl::{fcntl, open, FcntlArg, OFlag};
use nix::sys::stat::Mode;
use std::os::fd::OwnedFd;
use std::path::Path;

/// The FIFO's name in the state directory.
pub const STDIN_FIFO: &str = "stdin.fifo";

/// The client's end: make the FIFO (once) and open it read-write, which
/// neither blocks (no reader yet) nor lets the workload see end-of-file
/// until it is closed (fifo(7)).
pub fn open_writer(state_dir: &Path) -> std::io::Result<OwnedFd> {
    let path = state_dir.join(STDIN_FIFO);
    match nix::unistd::mkfifo(&path, Mode::from_bits_truncate(0o600)) {
        Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(open(
        &path,
        OFlag::O_RDWR | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
        Mode::empty(),
    )?)
}

/// The init's end, if a client made the FIFO. Opened without blocking
/// (there may be no writer any more, e.g. on a restart), then made
/// blocking again for the workload's reads.
pub(crate) fn open_reader(state_dir: &Path) -> Result<Option<OwnedFd>, SetupError> {
    let path = state_dir.join(STDIN_FIFO);
    let fd = match open(
        &path,
        OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        // Started without a client (`compose start` later): /dev/null.
        Err(nix::errno::Errno::ENOENT) => return Ok(None),
        Err(e) => return Err(SetupError::sys("open the stdin FIFO")(e)),
    };
    let flags = fcntl(&fd, FcntlArg::F_GETFL).map_err(SetupError::sys("read the FIFO's flags"))?;
    let blocking = OFlag::from_bits_truncate(flags) & !OFlag::O_NONBLOCK;
    fcntl(&fd, FcntlArg::F_SETFL(blocking)).map_err(SetupError::sys("make the FIFO blocking"))?;
    Ok(Some(fd))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn the_reader_sees_what_was_written_then_end_of_file_once_the_writer_closes() {
        let dir = tempfile::tempdir().unwrap();
        assert!(open_reader(dir.path()).unwrap().is_none());
        let writer = open_writer(dir.path()).unwrap();
        let mut w = std::fs::File::from(writer);
        w.write_all(b"early\n").unwrap();
        let reader = open_reader(dir.path()).unwrap().unwrap();
        w.write_all(b"late\n").unwrap();
        drop(w);
        let mut text = String::new();
        std::fs::File::from(reader)
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "early\nlate\n");
    }
}
