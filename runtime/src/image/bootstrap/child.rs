//! Running the bootstrap tools as child processes: their output streamed
//! line by line to the caller's progress, the last lines kept for the
//! error, standard output optionally consumed as data (the root
//! filesystem tarball), and Ctrl-C (SIGINT, SIGTERM) turned into a clean
//! stop: the child is told to stop, waited for, and nothing is imported.
//!
//! Each child runs in a process group of its own and an interrupt is
//! forwarded to the whole group as SIGINT, as a terminal's Ctrl-C would
//! reach it: mmdebstrap, told alone, waits for the `apt-get` it started
//! (which may wait minutes for a mirror) before cleaning up.

use super::error::BootstrapError;
use nix::sys::signal::{killpg, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::Pid;
use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// How many of a tool's last lines a failure shows.
const TAIL_LINES: usize = 15;

/// What a bootstrap reports while it runs.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A command starts (its command line).
    Running(&'a str),
    /// A line the running command printed.
    Output(&'a str),
    /// The root filesystem is complete and becomes an image.
    Importing,
}

/// Where a bootstrap's events go (called from several threads).
pub trait Progress: Sync {
    fn event(&self, event: Event<'_>);
}

/// Drops every event.
pub struct NoProgress;

impl Progress for NoProgress {
    fn event(&self, _: Event<'_>) {}
}

/// SIGINT and SIGTERM blocked in this thread and read from a signalfd
/// while the guard lives, so an interrupt stops the child and lets the
/// bootstrap clean up instead of killing this process mid-import. Threads
/// started meanwhile inherit the mask; the children do not (Rust's
/// `Command` empties the signal mask before exec). Dropping restores the
/// previous mask.
pub struct Interrupts {
    fd: Mutex<SignalFd>,
    previous: SigSet,
    fired: AtomicBool,
}

impl Interrupts {
    pub fn catch() -> Result<Interrupts, BootstrapError> {
        let mut set = SigSet::empty();
        set.add(Signal::SIGINT);
        set.add(Signal::SIGTERM);
        let previous = set
            .thread_swap_mask(nix::sys::signal::SigmaskHow::SIG_BLOCK)
            .map_err(BootstrapError::Signals)?;
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .map_err(BootstrapError::Signals)?;
        Ok(Interrupts {
            fd: Mutex::new(fd),
            previous,
            fired: AtomicBool::new(false),
        })
    }

    /// Whether SIGINT or SIGTERM has arrived (it stays arrived).
    pub fn fired(&self) -> bool {
        if !self.fired.load(Ordering::SeqCst) {
            let got = self
                .fd
                .lock()
                .map(|fd| matches!(fd.read_signal(), Ok(Some(_))))
                .unwrap_or(false);
            if got {
                self.fired.store(true, Ordering::SeqCst);
            }
        }
        self.fired.load(Ordering::SeqCst)
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        let _ = self.previous.thread_set_mask();
    }
}

/// What every run needs.
pub struct Ctx<'a> {
    pub progress: &'a dyn Progress,
    pub interrupts: &'a Interrupts,
}

/// Run `cmd` with both output streams shown as progress; fails unless it
/// exits 0.
pub fn run_logged(ctx: &Ctx<'_>, cmd: Command) -> Result<(), BootstrapError> {
    run(
        ctx,
        cmd,
        None::<fn(&mut dyn Read) -> Result<(), BootstrapError>>,
    )
    .map(|_| ())
}

/// Run `cmd`, giving its standard output to `consume` as a reader that
/// fails (instead of ending) when the command exits non-zero, so nothing
/// built from a truncated stream is kept; standard error is progress.
pub fn run_piped<T>(
    ctx: &Ctx<'_>,
    cmd: Command,
    consume: impl FnOnce(&mut dyn Read) -> Result<T, BootstrapError>,
) -> Result<T, BootstrapError> {
    Ok(run(ctx, cmd, Some(consume))?.expect("a consumer's value"))
}

fn run<T>(
    ctx: &Ctx<'_>,
    mut cmd: Command,
    consume: Option<impl FnOnce(&mut dyn Read) -> Result<T, BootstrapError>>,
) -> Result<Option<T>, BootstrapError> {
    let shown = command_line(&cmd);
    ctx.progress.event(Event::Running(&shown));
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|source| BootstrapError::Spawn {
        program: cmd.get_program().to_string_lossy().into_owned(),
        source,
    })?;
    let pid = Pid::from_raw(child.id() as i32);
    let tail = Mutex::new(VecDeque::new());
    let stderr = child.stderr.take().expect("piped stderr");
    let stdout = child.stdout.take().expect("piped stdout");
    // Whether the child may still be signalled by pid: cleared, under the
    // lock, before anything reaps it, so a signal never reaches a reused pid.
    let unreaped = Mutex::new(true);
    let (value, status) = std::thread::scope(|s| {
        s.spawn(|| pump(stderr, ctx.progress, &tail));
        let Some(consume) = consume else {
            s.spawn(|| pump(stdout, ctx.progress, &tail));
            return (None, wait(&mut child, &shown, ctx.interrupts));
        };
        // The data is read on this thread; another one forwards an
        // interrupt meanwhile.
        s.spawn(|| loop {
            {
                let unreaped = unreaped.lock().unwrap_or_else(|e| e.into_inner());
                if !*unreaped {
                    return;
                }
                if ctx.interrupts.fired() {
                    let _ = killpg(pid, Signal::SIGINT);
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        });
        let mut data = Data {
            out: stdout,
            child: &mut child,
            command: &shown,
            interrupts: ctx.interrupts,
            unreaped: &unreaped,
            status: None,
        };
        let value = consume(&mut data);
        let status = data.status.take();
        *unreaped.lock().unwrap_or_else(|e| e.into_inner()) = false;
        let status = match status {
            Some(status) => Ok(status),
            // The consumer stopped early (a store error): stop the tool.
            None => {
                let _ = killpg(pid, Signal::SIGINT);
                wait(&mut child, &shown, ctx.interrupts)
            }
        };
        (Some(value), status)
    });
    let status = status?;
    if ctx.interrupts.fired() {
        return Err(BootstrapError::Interrupted);
    }
    if !status.success() {
        use std::os::unix::process::ExitStatusExt;
        return Err(BootstrapError::ToolFailed {
            command: shown,
            code: status.code(),
            signal: status.signal(),
            tail: tail.into_inner().unwrap_or_default().into(),
        });
    }
    value.transpose()
}

/// Wait for `child`, forwarding an interrupt to its group.
fn wait(
    child: &mut Child,
    command: &str,
    interrupts: &Interrupts,
) -> Result<ExitStatus, BootstrapError> {
    let mut forwarded = false;
    loop {
        let failed = |source| BootstrapError::Wait {
            command: command.to_string(),
            source,
        };
        if let Some(status) = child.try_wait().map_err(failed)? {
            return Ok(status);
        }
        if !forwarded && interrupts.fired() {
            let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGINT);
            forwarded = true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A child's standard output that reports the child's failure at its end.
struct Data<'a> {
    out: ChildStdout,
    child: &'a mut Child,
    command: &'a str,
    interrupts: &'a Interrupts,
    unreaped: &'a Mutex<bool>,
    status: Option<ExitStatus>,
}

impl Read for Data<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.out.read(buf)?;
        if n > 0 || buf.is_empty() {
            return Ok(n);
        }
        let status = match self.status {
            Some(s) => s,
            None => {
                *self.unreaped.lock().unwrap_or_else(|e| e.into_inner()) = false;
                let s =
                    wait(self.child, self.command, self.interrupts).map_err(io::Error::other)?;
                self.status = Some(s);
                s
            }
        };
        if status.success() && !self.interrupts.fired() {
            Ok(0)
        } else {
            Err(io::Error::other("the bootstrap tool failed"))
        }
    }
}

/// Each line of `stream` to `progress` and into the last-lines buffer.
fn pump(stream: impl Read, progress: &dyn Progress, tail: &Mutex<VecDeque<String>>) {
    for line in BufReader::new(stream).split(b'\n') {
        let Ok(line) = line else { return };
        let text = String::from_utf8_lossy(&line);
        // A progress bar redraws with `\r`: its last state is the line.
        let text = text
            .rsplit('\r')
            .find(|s| !s.is_empty())
            .unwrap_or("")
            .trim_end();
        progress.event(Event::Output(text));
        if let Ok(mut tail) = tail.lock() {
            if tail.len() == TAIL_LINES {
                tail.pop_front();
            }
            tail.push_back(text.to_string());
        }
    }
}

/// The command as a shell would show it (arguments with spaces quoted).
pub fn command_line(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| {
            let a = a.to_string_lossy();
            if a.is_empty() || a.contains([' ', '"', '\'', '$']) {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Lines(Mutex<Vec<String>>);

    impl Progress for Lines {
        fn event(&self, event: Event<'_>) {
            if let Event::Output(l) = event {
                self.0.lock().unwrap().push(l.to_string());
            }
        }
    }

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    #[test]
    fn output_is_streamed_and_a_failure_shows_its_code_and_last_lines() {
        let interrupts = Interrupts::catch().unwrap();
        let lines = Lines(Mutex::new(Vec::new()));
        let ctx = Ctx {
            progress: &lines,
            interrupts: &interrupts,
        };
        run_logged(&ctx, sh("echo one; echo two >&2")).unwrap();
        let mut got = lines.0.lock().unwrap().clone();
        got.sort();
        assert_eq!(got, ["one", "two"]);
        let e = run_logged(
            &ctx,
            sh("for i in $(seq 1 30); do echo line$i; done; exit 3"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("failed with exit code 3"), "{e}");
        assert!(e.contains("line30") && !e.contains("line15\n"), "{e}");
    }

    #[test]
    fn data_from_a_failing_command_is_an_error_not_a_short_stream() {
        let interrupts = Interrupts::catch().unwrap();
        let ctx = Ctx {
            progress: &NoProgress,
            interrupts: &interrupts,
        };
        let read_all = |r: &mut dyn Read| {
            let mut v = Vec::new();
            let res = r.read_to_end(&mut v);
            Ok((v, res.is_ok()))
        };
        let (data, ok) = run_piped(&ctx, sh("printf abc"), read_all).unwrap();
        assert_eq!((data.as_slice(), ok), (&b"abc"[..], true));
        let e = run_piped(&ctx, sh("printf abc; echo broken >&2; exit 2"), |r| {
            let mut v = Vec::new();
            assert!(
                r.read_to_end(&mut v).is_err(),
                "the reader reports the failure"
            );
            Ok(())
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("exit code 2") && e.contains("broken"), "{e}");
    }
}
