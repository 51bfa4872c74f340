//! `logs -f` follows a project as it changes: a restarted container's new
//! lines keep coming, a recreated one's too, with no line twice; new
//! replicas are picked up as they appear; and 20 services writing as fast
//! as they can lose no line and keep each container's lines in order.
//! Needs root.

mod up_support;

mod logs_support;

use logs_support::{damage, numbered_services, numbers_by_container, Damage, Follower};
use up_support::Project;

/// Each run prints `begin-<RUN>` and three ticks, then sleeps.
const YAML: &str = "services:
  web:
    image: IMAGE
    environment:
      RUN: first
    command: [\"sh\", \"-c\", \"echo begin-$$RUN; for i in 1 2 3; do echo tick-$$i; done; exec sleep 1000\"]
";

fn count(lines: &[String], text: &str) -> usize {
    lines.iter().filter(|l| l.ends_with(text)).count()
}

#[test]
fn logs_follow_goes_on_across_a_restart_and_a_recreate_without_duplicates() {
    let p = Project::new("logsrestart", YAML);
    p.ok(&["up", "-d"]);
    let follower = Follower::start(&p, &[]);
    assert!(
        follower.wait_for(10, |l| count(l, "tick-3") == 1),
        "{}",
        follower.text()
    );
    p.ok(&["restart", "-t", "0"]);
    assert!(
        follower.wait_for(10, |l| count(l, "tick-3") == 2),
        "after restart: {}",
        follower.text()
    );
    // A changed environment recreates the container: a new log file
    // under the same name.
    p.write(&YAML.replace("RUN: first", "RUN: second"));
    p.ok(&["up", "-d", "-t", "0"]);
    assert!(
        follower.wait_for(10, |l| count(l, "begin-second") == 1
            && count(l, "tick-3") == 3),
        "after recreate: {}",
        follower.text()
    );
    p.ok(&["down", "-t", "0"]);
    let (ended, lines) = follower.finish(10);
    assert!(ended, "logs -f ends once nothing runs: {lines:?}");
    assert_eq!(count(&lines, "begin-first"), 2, "{lines:?}");
    assert_eq!(count(&lines, "begin-second"), 1, "{lines:?}");
    for tick in ["tick-1", "tick-2", "tick-3"] {
        assert_eq!(count(&lines, tick), 3, "each run's lines once: {lines:?}");
    }
    assert!(lines.iter().all(|l| l.starts_with("web-1 | ")), "{lines:?}");
    assert!(p.container_dirs().is_empty());
}

#[test]
fn logs_follow_picks_up_new_replicas() {
    let p = Project::new("logsscale", YAML);
    p.ok(&["up", "-d"]);
    let follower = Follower::start(&p, &["web"]);
    assert!(
        follower.wait_for(10, |l| count(l, "tick-3") == 1),
        "{}",
        follower.text()
    );
    p.ok(&["up", "-d", "--scale", "web=3"]);
    let replica = |l: &[String], n: u32| {
        l.iter()
            .any(|x| x.starts_with(&format!("web-{n}")) && x.ends_with("tick-3"))
    };
    assert!(
        follower.wait_for(10, |l| replica(l, 2) && replica(l, 3)),
        "web-2 and web-3 appear: {}",
        follower.text()
    );
    p.ok(&["down", "-t", "0"]);
    let (ended, lines) = follower.finish(10);
    assert!(ended, "{lines:?}");
    assert_eq!(count(&lines, "tick-3"), 3, "once per replica: {lines:?}");
    assert!(p.container_dirs().is_empty());
}

#[test]
fn twenty_fast_writers_lose_no_line_and_keep_their_order() {
    const SERVICES: usize = 20;
    const BURSTS: u64 = 20;
    const BURST: u64 = 200;
    const LINES: u64 = BURSTS * BURST;
    // Bursts as fast as `seq` writes, 0.1 s apart: the writers are still
    // at it for about two seconds while `logs -f` follows.
    let script = format!(
        "b=0; while [ $$b -lt {BURSTS} ]; do busybox seq $$((b*{BURST}+1)) $$((b*{BURST}+{BURST})); b=$$((b+1)); sleep 0.1; done"
    );
    let p = Project::new("logsload", &numbered_services(SERVICES, &script));
    p.ok(&["up", "-d"]);
    // Following while they write; each ends after its last number, and
    // `logs -f` once none runs.
    let follower = Follower::start(&p, &[]);
    let (ended, lines) = follower.finish(120);
    assert!(ended, "logs -f ends when every writer has exited");
    let by = numbers_by_container(&lines);
    assert_eq!(by.len(), SERVICES, "{:?}", by.keys().collect::<Vec<_>>());
    for (container, numbers) in &by {
        assert_eq!(damage(numbers, LINES), Damage::default(), "{container}");
    }
    p.ok(&["down", "-t", "0"]);
    assert!(p.container_dirs().is_empty());
}

#[test]
fn logs_follow_waits_for_a_container_its_policy_restarts() {
    let p = Project::new(
        "logsalways",
        "services:
  blink:
    image: IMAGE
    restart: always
    command: [\"echo\", \"blink\"]
",
    );
    p.ok(&["up", "-d"]);
    let follower = Follower::start(&p, &[]);
    // The back-off doubles from 100 ms: the fifth run comes after a
    // pause longer than `logs -f`'s idle second.
    assert!(
        follower.wait_for(20, |l| count(l, "blink") >= 6),
        "{}",
        follower.text()
    );
    p.ok(&["down", "-t", "0"]);
    let (ended, lines) = follower.finish(10);
    assert!(ended, "{lines:?}");
    assert!(lines.iter().all(|l| l == "blink-1 | blink"), "{lines:?}");
    assert!(p.container_dirs().is_empty());
}
