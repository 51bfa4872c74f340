//! What a running container's init (our PID 1) keeps for itself: its
//! binary's pages are the sealed memfd's, shared by every container of a
//! supervisor, so the memory one more container costs is the init's
//! anonymous memory (heap, stack, relocated data). benches/up.rs measures
//! it in a release build (0.16 MB); this guards the order of magnitude in
//! the test build. Needs root.

mod container_support;

use container_support::Fixture;
use std::time::Duration;

/// A field of /proc/PID/smaps_rollup, in KiB.
fn rollup(pid: i32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in smaps_rollup:\n{text}"))
}

/// Linked as a position-independent executable, the test build's 1.2 MB
/// of relocated read-only data alone became private to each init; so did
/// the ~300 KB of heap the setup left behind before PID 1 returned it.
const LIMIT_KIB: u64 = 600;

#[test]
fn a_running_containers_init_keeps_little_private_memory() {
    let fx = Fixture::new("memory");
    let container = fx.start(&fx.spec(&["sleep", "100"]));
    let pid = container.pid().as_raw();
    let anon = rollup(pid, "Anonymous:");
    let rss = rollup(pid, "Rss:");
    assert!(
        anon <= LIMIT_KIB,
        "the init keeps {anon} KiB of anonymous memory (RSS {rss} KiB), above {LIMIT_KIB} KiB"
    );
    container.stop(Duration::from_secs(5)).unwrap();
    fx.cleanup(container);
}
