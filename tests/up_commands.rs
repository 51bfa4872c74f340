//! Attached `up`, Ctrl-C, and the lifecycle verbs `stop`, `start`,
//! `restart`, `kill`, `rm`, `ps -a`/`--format json`. Needs root.

mod up_support;

use std::process::{Command, Stdio};
use std::time::Duration;
use up_support::{stderr, Project};

#[test]
fn attached_up_prints_prefixed_logs_and_returns_when_all_exit() {
    let p = Project::new(
        "attached",
        "services:\n  one:\n    image: IMAGE\n    command: sh -c 'echo hello from one'\n  two:\n    image: IMAGE\n    command: sh -c 'echo hello from two; exit 3'\n",
    );
    let out = p.compose(&["up"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("one-1 | hello from one"), "{stdout}");
    assert!(stdout.contains("two-1 | hello from two"), "{stdout}");
    assert!(
        stderr(&out).contains("two-1 exited with code 3"),
        "{}",
        stderr(&out)
    );
    let ps = p.ok(&["ps", "-a", "--format", "json"]);
    let states: Vec<serde_json::Value> = ps
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(states.len(), 2, "{ps}");
    assert!(states.iter().all(|s| s["State"] == "exited"), "{ps}");
    assert_eq!(states[1]["ExitCode"], 3, "{ps}");
    // Without -a, exited containers are not listed.
    assert_eq!(p.ok(&["ps", "-q"]), "");
    assert_eq!(
        p.ok(&["ps", "--status", "exited", "--services"]),
        "one\ntwo\n"
    );
    assert_eq!(p.ok(&["ps", "--status", "running", "-q"]), "");
}

#[test]
fn ctrl_c_stops_an_attached_up() {
    let p = Project::new(
        "ctrlc",
        "services:\n  a:\n    image: IMAGE\n    command: sh -c 'echo ready; exec sleep 3600'\n",
    );
    let child = Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(["-p", &p.name, "up"])
        .current_dir(&p.dir)
        .env("COMPOSE_ROOT", p.root.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    p.logs_containing("ready");
    std::thread::sleep(Duration::from_millis(200));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Gracefully stopping"),
        "{}",
        stderr(&out)
    );
    assert_eq!(p.ok(&["ps", "-q"]), "", "nothing runs after Ctrl-C");
}

#[test]
fn stop_start_restart_kill_and_rm() {
    let p = Project::new(
        "verbs",
        "services:\n  a:\n    image: IMAGE\n    command: sleep 3600\n  b:\n    image: IMAGE\n    command: sleep 3600\n",
    );
    p.ok(&["up", "-d"]);
    let running = |p: &Project| p.ok(&["ps", "--services"]);
    p.ok(&["stop", "-t", "1", "a"]);
    assert_eq!(running(&p), "b\n");
    p.ok(&["start", "a"]);
    assert_eq!(running(&p), "a\nb\n");
    let before = p.init_pids();
    p.ok(&["restart", "b"]);
    let after = p.init_pids();
    assert_eq!(before[0], after[0], "a was not restarted");
    assert_ne!(before[1], after[1], "b was restarted");
    p.ok(&["pause", "a"]);
    assert!(p.ok(&["ps"]).contains("(Paused)"), "{}", p.ok(&["ps"]));
    p.ok(&["unpause", "a"]);
    assert!(!p.ok(&["ps"]).contains("(Paused)"));
    p.ok(&["kill", "-s", "SIGKILL", "b"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while running(&p) != "a\n" && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(running(&p), "a\n");
    let ps = p.ok(&["ps", "-a"]);
    assert!(ps.contains("Exited (137)"), "{ps}");
    p.ok(&["rm", "-f"]);
    assert_eq!(p.container_dirs(), [p.container("a", 1)]);
    p.ok(&["rm", "-f", "-s", "a"]);
    assert!(p.container_dirs().is_empty());
}

#[test]
fn ps_and_down_with_only_a_project_name_find_the_containers_on_disk() {
    let p = Project::new(
        "nofile",
        "services:\n  a:\n    image: IMAGE\n    command: sleep 3600\n",
    );
    p.ok(&["up", "-d"]);
    let names = p.container_dirs();
    let pids = p.init_pids();
    std::fs::remove_file(p.dir.join("compose.yaml")).unwrap();
    assert_eq!(p.ok(&["ps", "--services"]), "a\n");
    p.ok(&["down"]);
    p.assert_nothing_left(&names, &pids);
}

/// `stop --dry-run` and `rm -s --dry-run` print their steps and change
/// nothing.
#[test]
fn stop_and_rm_dry_runs_print_the_steps_and_do_nothing() {
    let p = Project::new(
        "dry",
        "services:\n  a:\n    image: IMAGE\n    command: sleep 3600\n",
    );
    p.ok(&["up", "-d"]);
    let pids = p.init_pids();
    let a = p.container("a", 1);
    assert_eq!(
        p.ok(&["stop", "--dry-run"]),
        format!("1. stop container {a}\n")
    );
    assert_eq!(
        p.ok(&["rm", "-s", "--dry-run"]),
        format!("1. stop container {a}\n1. remove container {a}\n")
    );
    assert_eq!(p.init_pids(), pids);
    assert!(up_support::alive(pids[0]));
    let names = p.container_dirs();
    p.ok(&["down", "-t", "1"]);
    p.assert_nothing_left(&names, &pids);
}
