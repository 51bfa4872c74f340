//! The project supervisor: started by the first command, parent (as
//! subreaper) of the containers' inits, killed with SIGKILL without taking
//! the containers along, restarted by the next command, which sees them
//! still running; gone after `down`. Needs root.

mod up_support;

use std::time::{Duration, Instant};
use up_support::{alive, Project};

fn parent_of(pid: i32) -> i32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let (_, rest) = stat.rsplit_once(") ").unwrap();
    rest.split(' ').nth(1).unwrap().parse().unwrap()
}

#[test]
fn containers_survive_a_killed_supervisor_and_are_re_adopted() {
    let p = Project::new(
        "sup",
        "services:\n  a:\n    image: IMAGE\n    command: sleep 3600\n  b:\n    image: IMAGE\n    command: sleep 3600\n",
    );
    p.ok(&["up", "-d"]);
    let first = p.supervisor_pid().expect("a supervisor runs after up");
    let inits = p.init_pids();
    assert_eq!(inits.len(), 2);
    for pid in &inits {
        assert_eq!(parent_of(*pid), first, "the supervisor reaps the inits");
    }

    assert_eq!(p.kill_supervisor(), first);
    for pid in &inits {
        assert!(alive(*pid), "container init {pid} died with the supervisor");
    }

    let ps = p.ok(&["ps"]);
    assert_eq!(ps.lines().filter(|l| l.contains(" Up ")).count(), 2, "{ps}");
    let second = p.supervisor_pid().expect("ps started a new supervisor");
    assert_ne!(first, second);
    assert!(alive(second));

    let names = p.container_dirs();
    p.ok(&["down"]);
    p.assert_nothing_left(&names, &inits);
    let deadline = Instant::now() + Duration::from_secs(20);
    while alive(second) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !alive(second),
        "the supervisor exits when the project is empty"
    );
    assert!(
        !p.root.path().join("projects").join(&p.name).exists(),
        "down leaves no project directory"
    );
}

#[test]
fn events_stream_container_lifecycle_from_the_supervisor() {
    use std::io::BufRead;
    let p = Project::new(
        "events",
        "services:\n  a:\n    image: IMAGE\n    command: sh -c 'sleep 0.3; exit 4'\n",
    );
    p.ok(&["up", "-d", "--no-start"]);
    let mut watcher = std::process::Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(["-p", &p.name, "events", "--json"])
        .current_dir(&p.dir)
        .env("COMPOSE_ROOT", p.root.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    p.ok(&["start"]);
    // Never hang the test run: the watcher is killed after 10 s.
    let pid = nix::unistd::Pid::from_raw(watcher.id() as i32);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(10));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    });
    let mut lines = std::io::BufReader::new(watcher.stdout.take().unwrap()).lines();
    let mut actions = Vec::new();
    while actions.len() < 2 {
        let line = lines.next().expect("an event").unwrap();
        let event: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(event["id"], p.container("a", 1), "{line}");
        actions.push(event["action"].as_str().unwrap().to_string());
        if event["action"] == "die" {
            assert_eq!(event["attributes"]["exitCode"], "4", "{line}");
        }
    }
    assert_eq!(actions, ["start", "die"]);
    watcher.kill().unwrap();
    watcher.wait().unwrap();
    p.ok(&["down"]);
}

#[test]
fn restart_policies_are_applied_by_the_supervisor() {
    let p = Project::new(
        "restart",
        "services:\n  flaky:\n    image: IMAGE\n    command: sh -c 'echo run; exit 1'\n    restart: on-failure:2\n  once:\n    image: IMAGE\n    command: sh -c 'exit 0'\n    restart: on-failure\n",
    );
    p.ok(&["up", "-d"]);
    // One run plus two restarts, then it stays down.
    let deadline = Instant::now() + Duration::from_secs(10);
    let runs = |p: &Project| p.ok(&["logs", "flaky"]).matches("run").count();
    while runs(&p) < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(runs(&p), 3, "{}", p.ok(&["logs", "flaky"]));
    let ps = p.ok(&["ps", "-a"]);
    assert!(
        ps.contains("Exited (1)") && ps.contains("Exited (0)"),
        "{ps}"
    );
    // `start` runs an exited container again.
    p.ok(&["start", "once"]);
    p.ok(&["down"]);
}
