//! `compose run` from a terminal: the one-off container gets one of its
//! own, keys reach it as typed and its output (a prompt without a newline
//! included) reaches us as it comes; its exit code is ours. Needs root.

mod up_support;

use nix::pty::openpty;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use up_support::Project;

#[test]
fn run_from_a_terminal_gets_an_interactive_terminal() {
    let p = Project::new(
        "runtty",
        "services:\n  box:\n    image: IMAGE\n    command: sleep 3600\n",
    );
    let pty = openpty(None, None).unwrap();
    let slave = |fd: &std::os::fd::OwnedFd| Stdio::from(fd.try_clone().unwrap());
    let mut child = Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(["-p", &p.name, "run", "--rm", "box", "sh"])
        .current_dir(&p.dir)
        .env("COMPOSE_ROOT", p.compose_root())
        .env("NO_COLOR", "1")
        .stdin(slave(&pty.slave))
        .stdout(slave(&pty.slave))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(pty.slave);
    let mut master = std::fs::File::from(pty.master);
    let mut reader = master.try_clone().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    });
    let mut seen = String::new();
    let wait_for = |needle: &str, seen: &mut String| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !seen.contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(text) => seen.push_str(&text),
                Err(_) => panic!("no {needle:?} on the terminal: {seen:?}"),
            }
        }
    };
    // busybox sh prompts only on a terminal, and without a newline.
    wait_for("# ", &mut seen);
    master.write_all(b"tty; echo sum-$((40+2))\r").unwrap();
    wait_for("sum-42", &mut seen);
    assert!(
        seen.contains("/dev/pts/"),
        "the shell's stdin is a terminal: {seen:?}"
    );
    master.write_all(b"exit 3\r").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "run did not end: {seen:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(3), "{seen:?}");
    assert!(p.container_dirs().is_empty(), "--rm removed it");
}
