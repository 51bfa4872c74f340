//! Process primitives `nix` does not wrap safely: fork in a process that is
//! provably single-threaded, `_exit`, and pidfds (pidfd_open(2),
//! pidfd_send_signal(2)).

use nix::errno::Errno;
use nix::libc;
use nix::sys::signal::Signal;
use nix::unistd::{ForkResult, Pid};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// How many threads the calling process has (from /proc/self/task).
fn thread_count() -> io::Result<usize> {
    Ok(std::fs::read_dir("/proc/self/task")?.count())
}

/// Proof that the process was single-threaded when checked. A process
/// that never starts threads (our init and exec shim) can check once, then
/// fork after /proc stopped describing it (after setns into another pid
/// namespace's mounts, /proc/self does not resolve).
#[derive(Debug)]
pub struct SingleThreaded(());

impl SingleThreaded {
    pub fn check() -> io::Result<SingleThreaded> {
        let threads = thread_count()?;
        if threads != 1 {
            return Err(io::Error::other(format!(
                "refusing to fork a process with {threads} threads"
            )));
        }
        Ok(SingleThreaded(()))
    }

    /// fork(2). After fork only the calling thread exists, so a lock held
    /// by another thread (the allocator's, stdio's) would stay locked
    /// forever in the child: hence the proof of a single thread.
    pub fn fork(&self) -> io::Result<ForkResult> {
        // SAFETY: `self` proves the process had one thread, and the callers
        // (init, exec shim) never start one, so no other thread can hold a
        // lock the child would inherit in a locked state.
        Ok(unsafe { nix::unistd::fork() }?)
    }
}

/// fork(2), refused unless the caller is single-threaded right now.
pub fn fork_single_threaded() -> io::Result<ForkResult> {
    SingleThreaded::check()?.fork()
}

/// Leave at once with `code`, without running atexit handlers or flushing
/// stdio buffers inherited from the parent (used in forked children).
pub fn exit_immediately(code: i32) -> ! {
    // SAFETY: _exit(2) has no preconditions and never returns.
    unsafe { libc::_exit(code) }
}

/// pidfd_open(2): a descriptor that names `pid` for as long as it is open,
/// immune to pid reuse; it polls readable when the process exits.
pub fn pidfd_open(pid: Pid) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and a flags word and returns a new fd or
    // -1; no memory is passed.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// pidfd_send_signal(2): signal exactly the process `pidfd` names.
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, signal: Signal) -> io::Result<()> {
    // SAFETY: a valid pidfd, a signal number, a NULL siginfo (the kernel then
    // fills it as kill(2) would) and zero flags.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal as libc::c_int,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Whether the error means "this process has already exited".
pub fn is_gone(err: &io::Error) -> bool {
    err.raw_os_error() == Some(Errno::ESRCH as i32)
}

/// Reset every catchable signal, real-time ones included, to its default
/// action. Dispositions set to "ignore" survive execve(2) (Rust's runtime
/// ignores SIGPIPE, and a parent may have ignored anything), so a forked
/// child resets them before it execs a workload. The raw system call is
/// used because glibc refuses the two real-time signals it reserves (32
/// and 33), which a parent can still have left ignored.
pub fn reset_signal_dispositions() {
    /// The kernel's `struct sigaction` (x86_64 and aarch64 layout).
    #[repr(C)]
    struct KernelSigaction {
        handler: usize,
        flags: u64,
        restorer: usize,
        mask: u64,
    }
    let default = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // Linux numbers signals 1 to 64 (_NSIG).
    for sig in 1..=64 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: rt_sigaction reads a valid, initialised kernel sigaction
        // of the size given (the 8-byte signal set) and writes nothing (the
        // old action pointer is NULL). SIG_DFL installs no handler code, so
        // no handler can run with broken invariants; errors (none expected)
        // are ignored.
        let _ = unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                &default as *const KernelSigaction,
                std::ptr::null_mut::<KernelSigaction>(),
                8usize,
            )
        };
    }
}

/// Every catchable signal to its default action and an empty signal mask:
/// the state a container's processes start in, whatever the process that
/// started the runtime had (both survive fork and execve(2); an attached
/// `compose up` blocks SIGINT and SIGTERM to read them from a signalfd).
pub fn default_signal_state() -> nix::Result<()> {
    reset_signal_dispositions();
    nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&nix::sys::signal::SigSet::empty()),
        None,
    )
}

/// Mark every descriptor from `first` up close-on-exec (close_range(2)
/// with CLOSE_RANGE_CLOEXEC), so nothing the host leaked into the init
/// reaches the workload, while the caller can still use them until exec.
pub fn cloexec_from(first: u32) -> io::Result<()> {
    // SAFETY: close_range takes two integers and a flags word; with
    // CLOSE_RANGE_CLOEXEC it only sets flags, no descriptor is closed
    // behind an owner's back.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
