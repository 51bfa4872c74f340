//! The init's main loop as PID 1 of the container: forward signals to the
//! workload, reap every zombie (orphans are reparented to us), and copy the
//! workload's stdout/stderr into the JSON-lines log, until the workload
//! exits. Like tini, signals are taken synchronously through a signalfd:
//! blocked signals are queued even for a namespace's init (signal(7),
//! pid_namespaces(7)), so nothing is lost and no handler code runs.

use crate::container::log::{LineSplitter, LogWriter, Stream};
use crate::container::state::ExitStatus;
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};

/// The signals the init takes through its signalfd: SIGCHLD for reaping,
/// the rest are forwarded to the workload. SIGKILL and SIGSTOP cannot be
/// caught; the synchronous faults (SIGSEGV, ...) must keep their defaults.
pub fn handled_signals() -> SigSet {
    let mut set = SigSet::empty();
    for sig in [
        Signal::SIGHUP,
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGALRM,
        Signal::SIGTERM,
        Signal::SIGCHLD,
        Signal::SIGCONT,
        Signal::SIGTSTP,
        Signal::SIGTTIN,
        Signal::SIGTTOU,
        Signal::SIGWINCH,
        Signal::SIGURG,
        Signal::SIGPWR,
    ] {
        set.add(sig);
    }
    set
}

/// One output pipe of the workload.
struct Output {
    fd: Option<OwnedFd>,
    stream: Stream,
    lines: LineSplitter,
    /// Log each read as it comes (an interactive terminal's prompt has no
    /// newline yet), not line by line.
    raw: bool,
}

impl Output {
    fn new(fd: OwnedFd, stream: Stream) -> Output {
        // Non-blocking, so draining after the workload exits cannot hang on
        // a pipe a grandchild still holds open.
        if let Ok(flags) = fcntl(&fd, FcntlArg::F_GETFL) {
            let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
            let _ = fcntl(&fd, FcntlArg::F_SETFL(flags));
        }
        Output {
            fd: Some(fd),
            stream,
            lines: LineSplitter::default(),
            raw: false,
        }
    }

    /// Read what is available now and log complete lines.
    fn pump<W: Write>(&mut self, log: &mut LogWriter<W>) {
        let mut buf = [0u8; 16 * 1024];
        while let Some(fd) = &self.fd {
            match nix::unistd::read(fd, &mut buf) {
                Ok(0) => self.fd = None,
                Ok(n) if self.raw => {
                    let _ = log.write(self.stream, &buf[..n]);
                }
                Ok(n) => {
                    for line in self.lines.push(&buf[..n]) {
                        let _ = log.write(self.stream, &line);
                    }
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => break, // Nothing more for now.
                // EIO: a terminal whose slave side every process closed.
                Err(_) => self.fd = None,
            }
        }
    }

    fn finish<W: Write>(&mut self, log: &mut LogWriter<W>) {
        self.pump(log);
        if let Some(rest) = self.lines.finish() {
            let _ = log.write(self.stream, &rest);
        }
    }
}

/// Run until `workload` exits; returns its status.
/// `outputs` are the read ends of the workload's pipes (none for exec).
pub fn run<W: Write>(
    workload: Pid,
    outputs: Vec<(OwnedFd, Stream)>,
    signals: &SigSet,
    log: &mut LogWriter<W>,
) -> Result<ExitStatus, Errno> {
    run_with_input(workload, outputs, None, false, signals, log)
}

/// As [`run`], also copying `input`'s first fd (the stdin FIFO) to its
/// second (a terminal's master) as bytes arrive; `raw` logs output as it
/// is read rather than by lines.
pub fn run_with_input<W: Write>(
    workload: Pid,
    outputs: Vec<(OwnedFd, Stream)>,
    input: Option<(OwnedFd, OwnedFd)>,
    raw: bool,
    signals: &SigSet,
    log: &mut LogWriter<W>,
) -> Result<ExitStatus, Errno> {
    let sigfd = SignalFd::with_flags(signals, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
    let mut outputs: Vec<Output> = outputs
        .into_iter()
        .map(|(fd, stream)| {
            let mut out = Output::new(fd, stream);
            out.raw = raw;
            out
        })
        .collect();
    let mut input = input;
    if let Some((fifo, _)) = &input {
        // Read what is there and go back to polling, never wait in read.
        if let Ok(flags) = fcntl(fifo, FcntlArg::F_GETFL) {
            let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
            let _ = fcntl(fifo, FcntlArg::F_SETFL(flags));
        }
    }
    // The workload may have exited before the signalfd existed.
    let mut exit = reap(workload);
    while exit.is_none() {
        wait_for_events(&sigfd, &outputs, input.as_ref().map(|(fifo, _)| fifo))?;
        if let Some((fifo, master)) = &input {
            if !relay_input(fifo, master) {
                input = None;
            }
        }
        while let Ok(Some(info)) = sigfd.read_signal() {
            let sig = Signal::try_from(info.ssi_signo as i32);
            match sig {
                Ok(Signal::SIGCHLD) => {}
                // ESRCH: the workload is gone already; SIGCHLD follows.
                Ok(sig) => drop(kill(workload, sig)),
                Err(_) => {}
            }
        }
        for out in outputs.iter_mut() {
            out.pump(log);
        }
        exit = reap(workload);
    }
    for out in outputs.iter_mut() {
        out.finish(log);
    }
    Ok(exit.unwrap_or(ExitStatus::exited(0)))
}

/// Copy what the FIFO holds now to the terminal; false once it is done
/// (every writer closed it, or it broke), so it is no longer polled.
fn relay_input(fifo: &OwnedFd, master: &OwnedFd) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match nix::unistd::read(fifo, &mut buf) {
            Ok(0) => return false,
            Ok(n) => {
                let mut rest = &buf[..n];
                while !rest.is_empty() {
                    match nix::unistd::write(master, rest) {
                        Ok(written) => rest = &rest[written..],
                        Err(Errno::EINTR) => {}
                        Err(_) => return false,
                    }
                }
            }
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => return true,
            Err(_) => return false,
        }
    }
}

fn wait_for_events(
    sigfd: &SignalFd,
    outputs: &[Output],
    input: Option<&OwnedFd>,
) -> Result<(), Errno> {
    let mut fds = vec![PollFd::new(sigfd.as_fd(), PollFlags::POLLIN)];
    for out in outputs {
        if let Some(fd) = &out.fd {
            fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
        }
    }
    if let Some(fd) = input {
        fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
    }
    match poll(&mut fds, PollTimeout::NONE) {
        Ok(_) | Err(Errno::EINTR) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Reap every exited child; the workload's status if it was among them.
fn reap(workload: Pid) -> Option<ExitStatus> {
    let mut found = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == workload => {
                found = Some(ExitStatus::exited(code));
            }
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == workload => {
                found = Some(ExitStatus::signaled(sig as i32));
            }
            Ok(WaitStatus::StillAlive) | Err(_) => return found,
            Ok(_) => {}
        }
    }
}
