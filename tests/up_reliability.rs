//! What must hold when things go wrong around a running project: the
//! supervisor killed while 20 containers log (they keep running and
//! logging, the next command re-adopts them, nothing restarts and no log
//! line is lost), and two `up` of one project at once (one waits for the
//! other, the result is one container per service). Needs root.

mod up_support;

use std::time::Duration;
use up_support::{alive, stderr, Project};

const SERVICES: usize = 20;

/// The numbers service `s` has logged, in order (`s-1  | 17` lines).
fn counted(p: &Project, service: &str) -> Vec<u64> {
    let out = p.ok(&["logs", "--no-color", service]);
    out.lines()
        .filter_map(|l| l.split_once("| ").map(|(_, n)| n.trim()))
        .filter_map(|n| n.parse().ok())
        .collect()
}

#[test]
fn twenty_logging_containers_outlive_a_killed_supervisor_without_restarts_or_lost_lines() {
    let mut yaml = String::from("services:\n");
    for i in 0..SERVICES {
        // `restart: always`: a container wrongly taken for dead by the new
        // supervisor would be restarted, and its init pid would change.
        yaml.push_str(&format!(
            "  s{i}:\n    image: IMAGE\n    restart: always\n    command: [\"sh\", \"-c\", \"i=0; while true; do i=$$((i+1)); echo $$i; sleep 0.02; done\"]\n"
        ));
    }
    let p = Project::new("crash", &yaml);
    p.ok(&["up", "-d"]);
    let inits = p.init_pids();
    assert_eq!(inits.len(), SERVICES);
    std::thread::sleep(Duration::from_millis(500));

    let first = p.kill_supervisor();
    let before: Vec<usize> = (0..SERVICES)
        .map(|i| counted(&p, &format!("s{i}")).len())
        .collect();
    // Logging goes on with no supervisor at all.
    std::thread::sleep(Duration::from_millis(500));

    let ps = p.ok(&["ps"]);
    assert_eq!(
        ps.lines().filter(|l| l.contains(" Up ")).count(),
        SERVICES,
        "{ps}"
    );
    let second = p.supervisor_pid().expect("ps started a new supervisor");
    assert_ne!(first, second);
    // Two ticks of the new supervisor: time to (wrongly) restart anything.
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(p.init_pids(), inits, "no container was restarted");
    for pid in &inits {
        assert!(alive(*pid));
    }
    for (i, before) in before.iter().enumerate() {
        let lines = counted(&p, &format!("s{i}"));
        assert!(
            lines.len() > *before,
            "s{i} kept logging: {before} lines then {}",
            lines.len()
        );
        let expected: Vec<u64> = (1..=lines.len() as u64).collect();
        assert_eq!(lines, expected, "s{i} lost or reordered a line");
    }

    let names = p.container_dirs();
    p.ok(&["down", "-t", "1"]);
    p.assert_nothing_left(&names, &inits);
}

#[test]
fn two_ups_of_one_project_at_once_serialise_and_agree() {
    let yaml = "services:\n  a:\n    image: IMAGE\n    command: sleep 3600\n  b:\n    image: IMAGE\n    command: sleep 3600\n    depends_on: [a]\n  c:\n    image: IMAGE\n    command: sleep 3600\n";
    let p = Project::new("twice", yaml);
    let outputs = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| p.compose(&["up", "-d"])))
            .collect();
        runs.into_iter()
            .map(|r| r.join().unwrap())
            .collect::<Vec<_>>()
    });
    for out in &outputs {
        assert!(out.status.success(), "{}", stderr(out));
    }
    // Exactly one of them created the containers; the other found them.
    let created: usize = outputs
        .iter()
        .map(|o| stderr(o).matches("Created").count())
        .sum();
    let networks = outputs
        .iter()
        .map(|o| {
            let text = stderr(o);
            text.lines()
                .filter(|l| l.contains("Network") && l.ends_with("Created"))
                .count()
        })
        .sum::<usize>();
    assert_eq!(created, 4, "3 containers and 1 network, created once");
    assert_eq!(networks, 1);
    assert_eq!(
        p.container_dirs(),
        ["a", "b", "c"].map(|s| p.container("s", 1).replace("-s-", &format!("-{s}-")))
    );
    let ps = p.ok(&["ps"]);
    assert_eq!(ps.lines().filter(|l| l.contains(" Up ")).count(), 3, "{ps}");
    let names = p.container_dirs();
    let pids = p.init_pids();
    assert_eq!(pids.len(), 3);
    p.ok(&["down", "-t", "1"]);
    p.assert_nothing_left(&names, &pids);
}
