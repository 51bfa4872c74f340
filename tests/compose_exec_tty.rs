//! `compose exec` with a terminal: allocated by default when stdin is a
//! terminal, the container's own pseudo-terminal as the process's
//! controlling terminal, our size passed on (and on SIGWINCH), our
//! terminal back in its mode afterwards; `-T` without, `-d` in the
//! background. Needs root.

mod up_support;

use nix::pty::{openpty, Winsize};
use nix::sys::termios::{tcgetattr, Termios};
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use up_support::Project;

fn size(rows: u16, cols: u16) -> Winsize {
    Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

/// `compose ARGS` with a terminal (the slave of a fresh pair) as its
/// stdin, stdout and stderr, in a process group of its own. Returns the
/// child and the master.
fn spawn_on_terminal(
    p: &Project,
    args: &[&str],
    rows: u16,
    cols: u16,
) -> (Child, OwnedFd, OwnedFd) {
    let pty = openpty(&size(rows, cols), None).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(["-p", &p.name])
        .args(args)
        .current_dir(&p.dir)
        .env("COMPOSE_ROOT", p.root.path())
        .stdin(Stdio::from(pty.slave.try_clone().unwrap()))
        .stdout(Stdio::from(pty.slave.try_clone().unwrap()))
        .stderr(Stdio::from(pty.slave.try_clone().unwrap()))
        .process_group(0)
        .spawn()
        .unwrap();
    (child, pty.master, pty.slave)
}

/// Everything the terminal shows until `child` exits, and the
/// terminal's settings then.
fn read_until_exit(mut child: Child, master: OwnedFd, slave: OwnedFd) -> (i32, String, Termios) {
    let reader = std::thread::spawn(move || {
        let mut file = std::fs::File::from(master);
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        // EIO once the last slave descriptor is closed.
        while let Ok(n) = file.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&out).into_owned()
    });
    let status = child.wait().unwrap();
    let termios = tcgetattr(slave.as_fd()).unwrap();
    drop(slave);
    (status.code().unwrap_or(-1), reader.join().unwrap(), termios)
}

#[test]
fn exec_allocates_a_terminal_when_stdin_is_one() {
    let p = Project::new(
        "exectty",
        "services:\n  web:\n    image: IMAGE\n    command: sleep 3600\n",
    );
    p.ok(&["up", "-d"]);
    let names = p.container_dirs();
    let pids = p.init_pids();

    let (child, master, slave) = spawn_on_terminal(
        &p,
        &[
            "exec",
            "web",
            "sh",
            "-c",
            "busybox tty; busybox stty size; exit 7",
        ],
        33,
        101,
    );
    let before = tcgetattr(slave.as_fd()).unwrap();
    let (code, out, after) = read_until_exit(child, master, slave);
    assert_eq!(code, 7, "{out}");
    // The container's own devpts: its first terminal.
    assert!(out.contains("/dev/pts/0\r\n"), "{out:?}");
    assert!(out.contains("33 101\r\n"), "{out:?}");
    // Our terminal's settings came back.
    assert_eq!(before.local_flags, after.local_flags);
    assert_eq!(before.input_flags, after.input_flags);
    assert_eq!(before.output_flags, after.output_flags);

    // -T: no terminal inside even though stdin is one.
    let (child, master, slave) =
        spawn_on_terminal(&p, &["exec", "-T", "web", "busybox", "tty"], 24, 80);
    let (code, out, _) = read_until_exit(child, master, slave);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not a tty"), "{out:?}");

    // Keys typed on our terminal reach the process; the size follows a
    // SIGWINCH.
    let (child, master, slave) = spawn_on_terminal(
        &p,
        &[
            "exec",
            "web",
            "sh",
            "-c",
            "read line; echo got:$line; sleep 0.5; busybox stty size",
        ],
        24,
        80,
    );
    let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
    std::thread::sleep(Duration::from_millis(700));
    nix::unistd::write(&master, b"typed\r").unwrap();
    set_size(&slave, 50, 132);
    nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGWINCH).unwrap();
    let (code, out, _) = read_until_exit(child, master, slave);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("got:typed"), "{out:?}");
    assert!(out.contains("50 132\r\n"), "{out:?}");

    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}

fn set_size(fd: &OwnedFd, rows: u16, cols: u16) {
    // The test's own TIOCSWINSZ through stty on the terminal.
    let status = Command::new("stty")
        .args(["rows", &rows.to_string(), "cols", &cols.to_string()])
        .stdin(Stdio::from(fd.try_clone().unwrap()))
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn exec_detached_runs_in_the_background() {
    let p = Project::new(
        "execd",
        "services:\n  web:\n    image: IMAGE\n    command: sleep 3600\n",
    );
    p.ok(&["up", "-d"]);
    let names = p.container_dirs();
    let pids = p.init_pids();
    // The detached command waits for /tmp/go, which only this test makes
    // after `exec -d` has returned: had exec waited, it would never return.
    let out = p.ok(&[
        "exec",
        "-d",
        "web",
        "sh",
        "-c",
        "while [ ! -f /tmp/go ]; do sleep 0.05; done; echo done > /tmp/flag",
    ]);
    assert_eq!(out, "");
    let flag = p.compose(&["exec", "web", "cat", "/tmp/flag"]);
    assert!(!flag.status.success(), "ran before it was let go");
    p.ok(&["exec", "web", "sh", "-c", ": > /tmp/go"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = p.compose(&["exec", "web", "cat", "/tmp/flag"]);
        if out.status.success() {
            assert_eq!(String::from_utf8_lossy(&out.stdout), "done\n");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the detached command never finished"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}
