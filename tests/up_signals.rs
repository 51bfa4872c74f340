//! Ctrl-C during an attached `compose up`, as docker compose: the first
//! stops the project gracefully (stop signal, then the grace period), a
//! second one kills the containers at once and ends the command. Runs the
//! built binary as a user would and signals it. Needs root.

mod up_support;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use up_support::{alive, Project};

/// A service that ignores SIGTERM, with a grace period far longer than
/// the test may take.
const STUBBORN: &str = r#"
services:
  stubborn:
    image: IMAGE
    command: ["sh", "-c", "trap '' TERM; echo ready; sleep 100"]
    stop_grace_period: 60s
"#;

/// `compose up` attached, its stderr and stdout going to files.
fn up_attached(p: &Project) -> (Child, std::path::PathBuf) {
    let out = p.root.path().join("up.out");
    let file = std::fs::File::create(&out).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(["-p", &p.name, "up"])
        .current_dir(&p.dir)
        .env("COMPOSE_ROOT", p.root.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap();
    (child, out)
}

/// Wait until the output file contains `needle`.
fn wait_for_output(out: &std::path::Path, needle: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(out).unwrap_or_default();
        if text.contains(needle) {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("compose up ended ({status}) before printing {needle:?}:\n{text}");
        }
        assert!(
            Instant::now() < deadline,
            "no {needle:?} from compose up:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Wait at most `limit` for the child to end.
fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn a_second_ctrl_c_kills_what_the_first_is_stopping_gracefully() {
    let p = Project::new("ctrlc", STUBBORN);
    let (mut up, out) = up_attached(&p);
    // The workload's first line is printed once `up` follows the logs,
    // which is after it started taking Ctrl-C.
    wait_for_output(&out, "ready", &mut up);
    let names = vec![p.container("stubborn", 1)];
    let pids = p.init_pids();
    assert_eq!(pids.len(), 1, "{:?}", p.container_dirs());

    let compose = Pid::from_raw(up.id() as i32);
    kill(compose, Signal::SIGINT).unwrap();
    wait_for_output(&out, "Gracefully stopping", &mut up);
    // The container ignores SIGTERM: the graceful stop would wait 60 s.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        up.try_wait().unwrap().is_none(),
        "up ended on the first Ctrl-C"
    );
    kill(compose, Signal::SIGINT).unwrap();
    let status = wait_exit(&mut up, Duration::from_secs(10));
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let Some(status) = status else {
        let _ = up.kill();
        let _ = up.wait();
        panic!("compose up still runs 10 s after the second Ctrl-C:\n{text}");
    };
    assert!(
        !status.success(),
        "{status}: an interrupted up fails\n{text}"
    );
    // The container was killed, not left running.
    let deadline = Instant::now() + Duration::from_secs(20);
    while pids.iter().any(|pid| alive(*pid)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    for pid in &pids {
        assert!(!alive(*pid), "the container's init {pid} survived:\n{text}");
    }
    let ps = p.ok(&["ps", "-a", "--format", "json"]);
    assert!(ps.contains("exited") || ps.contains("Exited"), "{ps}");

    p.ok(&["down", "-t", "1"]);
    p.assert_nothing_left(&names, &pids);
}
