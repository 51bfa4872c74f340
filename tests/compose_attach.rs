//! `compose attach`: a running container's output from the moment of
//! attaching, Ctrl-C passed on as SIGINT, its exit code ours. Needs root.

mod up_support;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use up_support::{stderr, Project};

const YAML: &str = "
services:
  talker:
    image: IMAGE
    command: [\"sh\", \"-c\", \"trap 'echo got INT; exit 3' INT; echo before; while true; do echo tick; sleep 0.2; done\"]
";

/// Lines the child prints, until one contains `needle` (or 30 s pass).
fn until(lines: &mpsc::Receiver<String>, seen: &mut Vec<String>, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !seen.iter().any(|l| l.contains(needle)) {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("no {needle:?} from attach: {seen:?}"),
        }
    }
}

#[test]
fn attach_follows_new_output_and_passes_ctrl_c_on() {
    let p = Project::new("attach", YAML);
    p.ok(&["up", "-d"]);
    p.logs_containing("before");

    let mut child = Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(["-p", &p.name, "attach", "--no-stdin", "talker"])
        .current_dir(&p.dir)
        .env("COMPOSE_ROOT", p.compose_root())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // New output reaches us; what was printed before attaching is history
    // (that is `logs`).
    let mut seen = Vec::new();
    until(&lines, &mut seen, "tick");
    assert!(!seen.iter().any(|l| l.contains("before")), "{seen:?}");

    // The detach keys (docker's default ctrl-p,ctrl-q, or ours) end the
    // attach and leave the container running.
    for (keys, extra) in [(&b"\x10\x11"[..], None), (&b"x\x01"[..], Some("ctrl-a"))] {
        let mut args = vec!["-p", &p.name, "attach"];
        if let Some(k) = extra {
            args.extend(["--detach-keys", k]);
        }
        args.push("talker");
        let mut detach = Command::new(env!("CARGO_BIN_EXE_compose"))
            .args(&args)
            .current_dir(&p.dir)
            .env("COMPOSE_ROOT", p.compose_root())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = detach.stdin.take().unwrap();
        input.write_all(keys).unwrap();
        // Input stays open: only the keys can end the attach.
        let out = detach.wait_with_output().unwrap();
        drop(input);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("read escape sequence"));
        assert_eq!(p.ok(&["ps", "-q"]).lines().count(), 1, "still running");
    }
    let out = p.compose(&["attach", "--detach-keys", "ctrl-pp", "talker"]);
    assert!(
        stderr(&out).contains("not a control key"),
        "{}",
        stderr(&out)
    );

    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    until(&lines, &mut seen, "got INT");
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(3),
        "the container's exit code: {seen:?}"
    );

    // A stopped container cannot be attached to; names are checked.
    let out = p.compose(&["attach", "talker"]);
    assert!(stderr(&out).contains("is not running"), "{}", stderr(&out));
    let out = p.compose(&["attach", "--index", "2", "talker"]);
    assert!(
        stderr(&out).contains("no container with index 2"),
        "{}",
        stderr(&out)
    );
    let out = p.compose(&["attach", "nope"]);
    assert!(
        stderr(&out).contains("no such service: nope"),
        "{}",
        stderr(&out)
    );

    let (names, pids) = (p.container_dirs(), p.init_pids());
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}
