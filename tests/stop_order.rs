//! `stop` and `down` stop dependents before their dependencies, one
//! dependency level after the other, the services of one level together
//! (docker compose's `InReverseDependencyOrder`). The containers' SIGTERM
//! traps append to a shared file, so the test reads the order the stops
//! happened in; the services of the top level each wait in their trap
//! until the other's line is there, which only happens when both got
//! their stop signal at once. Needs root.

mod up_support;

use std::path::Path;
use std::time::{Duration, Instant};
use up_support::Project;

/// `top1` and `top2` depend on `mid`, which depends on `base`.
fn yaml() -> String {
    let service = |name: &str, deps: &[&str], peer: Option<&str>| {
        // A top-level service waits in its trap for its peer's line.
        let wait = peer.map_or(String::new(), |peer| {
            format!(
                "until grep -q \"stop {peer}\" /out/order; do sleep 0.1; done; echo \"{name} saw {peer}\" >> /out/order; "
            )
        });
        let depends = if deps.is_empty() {
            String::new()
        } else {
            format!("    depends_on: [{}]\n", deps.join(", "))
        };
        format!(
            "  {name}:\n    image: IMAGE\n{depends}    volumes: [\"./out:/out\"]\n    command: [\"sh\", \"-c\", 'trap ''echo \"stop {name}\" >> /out/order; {wait}exit 0'' TERM; echo up > /out/ready-{name}; sleep 1000 & wait']\n"
        )
        .replace('$', "$$")
    };
    let mut yaml = String::from("services:\n");
    yaml += &service("base", &[], None);
    yaml += &service("mid", &["base"], None);
    yaml += &service("top1", &["mid"], Some("top2"));
    yaml += &service("top2", &["mid"], Some("top1"));
    yaml
}

const SERVICES: [&str; 4] = ["base", "mid", "top1", "top2"];

/// Wait until every service's workload has set its trap (its ready file).
fn wait_ready(out: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !SERVICES
        .iter()
        .all(|s| out.join(format!("ready-{s}")).exists())
    {
        assert!(Instant::now() < deadline, "the services never got ready");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The lines the traps wrote, checked for dependents first and the top
/// level together.
fn assert_stopped_in_reverse_order(out: &Path) {
    let order = std::fs::read_to_string(out.join("order")).unwrap();
    let at = |line: &str| {
        order
            .lines()
            .position(|l| l == line)
            .unwrap_or_else(|| panic!("no {line:?} in {order}"))
    };
    // Both top-level services saw the other's stop before exiting: they
    // got their signals at the same time.
    let top_done = at("top1 saw top2").max(at("top2 saw top1"));
    assert!(top_done < at("stop mid"), "{order}");
    assert!(at("stop mid") < at("stop base"), "{order}");
    assert_eq!(order.lines().count(), 6, "{order}");
}

fn reset(out: &Path) {
    for entry in std::fs::read_dir(out).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
}

#[test]
fn stop_and_down_go_level_by_level_dependents_first() {
    let p = Project::new("stoporder", &yaml());
    let out = p.dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    p.ok(&["up", "-d"]);
    wait_ready(&out);
    // The plan: containers in service order, each after its dependents.
    let c = |s: &str| p.container(s, 1);
    assert_eq!(
        p.ok(&["stop", "--dry-run"]),
        format!(
            "1. stop container {} after 2, 3, 4\n2. stop container {} after 3, 4\n3. stop container {}\n4. stop container {}\n",
            c("base"),
            c("mid"),
            c("top1"),
            c("top2")
        )
    );
    p.ok(&["stop", "-t", "20"]);
    assert_stopped_in_reverse_order(&out);
    assert_eq!(p.ok(&["ps", "-q"]), "");

    reset(&out);
    p.ok(&["start"]);
    wait_ready(&out);
    let names: Vec<String> = SERVICES.iter().map(|s| p.container(s, 1)).collect();
    let pids = p.init_pids();
    p.ok(&["down", "-t", "20"]);
    assert_stopped_in_reverse_order(&out);
    p.assert_nothing_left(&names, &pids);
}

#[test]
fn stopping_one_service_leaves_the_others_running() {
    let p = Project::new("stopone", &yaml());
    let out = p.dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    p.ok(&["up", "-d"]);
    wait_ready(&out);
    p.ok(&["stop", "-t", "0", "base"]);
    let running = p.ok(&["ps", "--services"]);
    assert_eq!(running, "mid\ntop1\ntop2\n");
    let names: Vec<String> = SERVICES.iter().map(|s| p.container(s, 1)).collect();
    let pids = p.init_pids();
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}
