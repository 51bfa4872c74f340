//! `compose scale` (up and down, highest number first, other services
//! untouched, `--no-deps`, `--dry-run`) and the attached `up` flags:
//! `--abort-on-container-exit`, `--exit-code-from`, `--attach`,
//! `--no-attach`, `--timestamps`, `--no-log-prefix`. Needs root.

mod up_support;

use up_support::{stderr, Project};

/// The init pid of container `name`, from its state.json.
fn pid_of(p: &Project, name: &str) -> Option<i64> {
    let path = p.containers_dir().join(name).join("state.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["pid"].as_i64()
}

const SCALED: &str = "services:
  web:
    image: IMAGE
    command: [\"sleep\", \"1000\"]
    depends_on: [db]
  db:
    image: IMAGE
    command: [\"sleep\", \"1000\"]
  other:
    image: IMAGE
    command: [\"sleep\", \"1000\"]
";

#[test]
fn scale_adds_and_removes_replicas_highest_first_and_leaves_others_alone() {
    let p = Project::new("scale", SCALED);
    p.ok(&["up", "-d"]);
    let db = p.container("db", 1);
    let other = p.container("other", 1);
    let (db_pid, other_pid) = (pid_of(&p, &db), pid_of(&p, &other));
    assert!(db_pid.is_some() && other_pid.is_some());

    let out = p.compose(&["scale", "web=3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let web: Vec<String> = (1..=3).map(|n| p.container("web", n)).collect();
    let mut expected = vec![db.clone(), other.clone()];
    expected.extend(web.iter().cloned());
    expected.sort();
    assert_eq!(p.container_dirs(), expected);
    assert!(stderr(&out).contains(&format!("Container {}  Started", web[2])));
    assert_eq!(pid_of(&p, &db), db_pid, "db is not touched");
    assert_eq!(pid_of(&p, &other), other_pid, "other is not touched");

    // The plan says what would go, and why; nothing happens.
    let plan = p.ok(&["scale", "--dry-run", "web=1"]);
    let third = plan.find(&format!("container {} (scaled 3→1)", web[2]));
    let second = plan.find(&format!("container {} (scaled 3→1)", web[1]));
    assert!(
        matches!((third, second), (Some(a), Some(b)) if a < b),
        "web-3 goes before web-2: {plan}"
    );
    assert!(!plan.contains(&other), "{plan}");
    assert_eq!(p.container_dirs().len(), 5);

    p.ok(&["scale", "web=1"]);
    assert_eq!(
        p.container_dirs(),
        [db.clone(), other.clone(), web[0].clone()]
    );
    assert_eq!(pid_of(&p, &other), other_pid);

    p.ok(&["down", "-t", "0"]);
    assert!(p.container_dirs().is_empty());
}

#[test]
fn scale_no_deps_leaves_dependencies_down_and_bad_specifiers_are_named() {
    let p = Project::new("scalenodeps", SCALED);
    p.ok(&["scale", "--no-deps", "web=2"]);
    assert_eq!(
        p.container_dirs(),
        [p.container("web", 1), p.container("web", 2)]
    );
    let out = p.compose(&["scale", "web"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("invalid scale specifier \"web\""),
        "{}",
        stderr(&out)
    );
    let out = p.compose(&["scale", "nosuch=2"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("nosuch"), "{}", stderr(&out));
    p.ok(&["down", "-t", "0"]);
    assert!(p.container_dirs().is_empty());
}

const EXITING: &str = "services:
  quick:
    image: IMAGE
    command: [\"sh\", \"-c\", \"echo quick-says-bye; sleep 0.5; exit 3\"]
  slow:
    image: IMAGE
    command: [\"sh\", \"-c\", \"trap 'echo slow-stopped; exit 7' TERM; echo slow-up; while true; do sleep 0.1; done\"]
";

#[test]
fn abort_on_container_exit_stops_everything_with_the_first_exit_code() {
    let p = Project::new("abort", EXITING);
    let out = p.compose(&["up", "--abort-on-container-exit", "-t", "5"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("Aborting on container exit..."), "{err}");
    let logs = String::from_utf8_lossy(&out.stdout);
    assert!(logs.contains("quick-1 | quick-says-bye"), "{logs}");
    assert!(logs.contains("slow-1  | slow-up"), "{logs}");
    assert_eq!(p.ok(&["ps", "-q"]), "", "nothing runs after the abort");
    p.ok(&["down", "-t", "0"]);
    assert!(p.container_dirs().is_empty());
}

#[test]
fn exit_code_from_returns_that_services_code() {
    let p = Project::new("exitfrom", EXITING);
    let out = p.compose(&["up", "--exit-code-from", "slow", "-t", "5"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(7), "slow's trap exits 7: {err}");
    assert!(err.contains("slow-1 exited with code 7"), "{err}");
    let out = p.compose(&["up", "-d", "--exit-code-from", "slow"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--detach cannot be combined"),
        "{}",
        stderr(&out)
    );
    let out = p.compose(&["up", "--exit-code-from", "nosuch"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--exit-code-from nosuch"),
        "{}",
        stderr(&out)
    );
    p.ok(&["down", "-t", "0"]);
    assert!(p.container_dirs().is_empty());
}

const TALKERS: &str = "services:
  a:
    image: IMAGE
    command: [\"sh\", \"-c\", \"echo hello-from-a; sleep 0.3\"]
  b:
    image: IMAGE
    command: [\"sh\", \"-c\", \"echo hello-from-b; sleep 0.3\"]
";

#[test]
fn attach_chooses_whose_logs_show_and_how_they_look() {
    let p = Project::new("attach", TALKERS);
    let out = p.compose(&["up", "--attach", "a", "--no-log-prefix", "--timestamps"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let logs = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = logs
        .lines()
        .find(|l| l.ends_with(" hello-from-a"))
        .unwrap_or_else(|| panic!("{logs}"));
    // `2026-11-24T12:00:00.123456789Z hello-from-a`: a timestamp, no prefix.
    let stamp = line.strip_suffix(" hello-from-a").unwrap();
    assert!(
        stamp.len() > 20 && stamp.contains('T') && stamp.ends_with('Z'),
        "{line}"
    );
    assert!(!logs.contains("hello-from-b"), "b is not attached: {logs}");

    let out = p.compose(&["up", "--no-attach", "a"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let logs = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(logs.contains("b-1 | hello-from-b"), "{logs}");
    assert!(!logs.contains("hello-from-a"), "{logs}");
    p.ok(&["down", "-t", "0"]);
    assert!(p.container_dirs().is_empty());
}

#[test]
fn a_container_its_policy_restarts_does_not_abort_until_it_gives_up() {
    let p = Project::new(
        "abortrestart",
        "services:
  flaky:
    image: IMAGE
    restart: on-failure:1
    command: [\"sh\", \"-c\", \"echo flaky-run; sleep 0.5; exit 2\"]
  steady:
    image: IMAGE
    command: [\"sleep\", \"1000\"]
",
    );
    let out = p.compose(&["up", "--abort-on-container-exit", "-t", "0"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("flaky-1 exited with code 2 (restarting)"),
        "{err}"
    );
    assert!(err.contains("flaky-1 exited with code 2\n"), "{err}");
    let logs = String::from_utf8_lossy(&out.stdout);
    assert_eq!(logs.matches("flaky-run").count(), 2, "one restart: {logs}");
    assert_eq!(p.ok(&["ps", "-q"]), "");
    p.ok(&["down", "-t", "0"]);
    assert!(p.container_dirs().is_empty());
}
