//! `logs -f` under load: 20 services each printing 10,000 numbered lines a
//! second for 10 s while `compose logs -f` follows them. Prints the lines
//! per second followed, and per container any line lost, duplicated or out
//! of order. Needs root. Run: `cargo bench --bench logs`.

#[path = "../tests/up_support/mod.rs"]
mod up_support;

#[path = "../tests/logs_support/mod.rs"]
mod logs_support;

use logs_support::{damage, numbered_services, numbers_by_container, Follower};
use std::time::Instant;
use up_support::Project;

const SERVICES: usize = 20;
const PER_SECOND: u64 = 10_000;
const SECONDS: u64 = 10;

fn main() {
    // One burst of PER_SECOND numbers, then a pause, SECONDS times.
    let script = format!(
        "i=0; while [ $$i -lt {SECONDS} ]; do busybox seq $$((i*{PER_SECOND}+1)) $$((i*{PER_SECOND}+{PER_SECOND})); i=$$((i+1)); sleep 1; done"
    );
    let p = Project::new("logbench", &numbered_services(SERVICES, &script));
    let started = Instant::now();
    p.ok(&["up", "-d"]);
    let follower = Follower::start(&p, &[]);
    let (ended, lines) = follower.finish(SECONDS * 6 + 30);
    let secs = started.elapsed().as_secs_f64();
    let by = numbers_by_container(&lines);
    let expected = PER_SECOND * SECONDS;
    let total: usize = by.values().map(Vec::len).sum();
    println!(
        "logs -f: {total} lines of {} in {secs:.1} s: {:.0} lines/s followed{}",
        expected * SERVICES as u64,
        total as f64 / secs,
        if ended {
            ""
        } else {
            " (did not end by itself)"
        }
    );
    let mut clean = by.len() == SERVICES;
    for (container, numbers) in &by {
        let d = damage(numbers, expected);
        if d != logs_support::Damage::default() {
            clean = false;
            println!("  {container}: {d:?}");
        }
    }
    println!(
        "{}",
        if clean {
            "no line lost, duplicated or out of order".to_string()
        } else {
            format!("containers seen: {} of {SERVICES}", by.len())
        }
    );
    p.ok(&["down", "-t", "0"]);
}
