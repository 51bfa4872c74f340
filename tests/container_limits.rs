//! cgroup limits: the container's processes live in their own group with
//! the spec's limits, a process over the memory limit is OOM-killed, and
//! the group is removed on cleanup. Needs root.

mod container_support;

use compose_runtime::cgroups::{Cgroup, Resources};
use container_support::Fixture;

const MIB: u64 = 1024 * 1024;

#[test]
fn a_process_over_the_memory_limit_is_oom_killed() {
    let fx = Fixture::new("oom");
    let mut spec = fx.spec(&["dd", "if=/dev/zero", "of=/dev/null", "bs=128M", "count=1"]);
    spec.resources = Resources {
        memory: Some(32 * MIB),
        memory_swap: Some(32 * MIB as i64),
        ..Default::default()
    };
    let container = fx.start(&spec);
    let exit = container.wait().unwrap();
    assert_eq!(exit.code, 137, "dd should have been SIGKILLed");
    assert!(container.oom_killed(), "the cgroup recorded no OOM kill");
    fx.cleanup(container);
}

#[test]
fn limits_are_written_and_processes_are_in_the_group() {
    let fx = Fixture::new("limits");
    let mut spec = fx.spec(&["sleep", "3600"]);
    spec.resources = Resources {
        memory: Some(64 * MIB),
        cpu_quota: Some(50_000),
        cpu_period: Some(100_000),
        cpu_shares: Some(512),
        pids_limit: Some(20),
        ..Default::default()
    };
    let container = fx.start(&spec);
    let pids = container.cgroup().pids().unwrap();
    assert!(pids.contains(&container.pid().as_raw()), "{pids:?}");
    assert_eq!(pids.len(), 2, "init and sleep: {pids:?}");
    match container.cgroup() {
        Cgroup::V1 { paths } => {
            let read = |c: &str, f: &str| {
                std::fs::read_to_string(paths[c].join(f))
                    .unwrap()
                    .trim()
                    .to_string()
            };
            assert_eq!(
                read("memory", "memory.limit_in_bytes"),
                (64 * MIB).to_string()
            );
            assert_eq!(read("cpu", "cpu.cfs_quota_us"), "50000");
            assert_eq!(read("cpu", "cpu.shares"), "512");
            assert_eq!(read("pids", "pids.max"), "20");
        }
        Cgroup::V2 { path } => {
            let read = |f: &str| {
                std::fs::read_to_string(path.join(f))
                    .unwrap()
                    .trim()
                    .to_string()
            };
            assert_eq!(read("memory.max"), (64 * MIB).to_string());
            assert_eq!(read("cpu.max"), "50000 100000");
            assert_eq!(read("pids.max"), "20");
        }
    }
    container.stop(std::time::Duration::from_secs(5)).unwrap();
    fx.cleanup(container);
}

#[test]
fn the_pids_limit_stops_fork_bombs() {
    let fx = Fixture::new("pids");
    let script = "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 30 & done; echo spawned";
    let mut spec = fx.spec(&["sh", "-c", script]);
    spec.resources.pids_limit = Some(6);
    let (code, out, log) = fx.run(&spec);
    // busybox sh gives up when fork(2) fails with EAGAIN.
    assert_ne!(code, 0, "{out}");
    assert!(!out.contains("spawned"), "{out}");
    assert!(log.iter().any(|e| e.log.contains("can't fork")), "{log:?}");
}

#[test]
fn the_container_sees_its_own_cgroup_as_root() {
    let fx = Fixture::new("cgns");
    let (code, out, _) = fx.run(&fx.spec(&[
        "sh",
        "-c",
        "grep memory /proc/self/cgroup || cat /proc/self/cgroup",
    ]));
    assert_eq!(code, 0, "{out}");
    assert!(out.trim_end().ends_with(":/"), "cgroup namespace: {out}");
}

#[test]
fn pause_freezes_every_process_and_unpause_resumes() {
    let fx = Fixture::new("pause");
    let script = "i=0; while true; do i=$((i+1)); echo $i; sleep 0.02; done";
    let container = fx.start(&fx.spec(&["sh", "-c", script]));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while fx.log().len() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    container.pause().unwrap();
    assert_eq!(
        container.state().unwrap().status,
        compose_runtime::container::Status::Paused
    );
    let frozen_at = fx.log().len();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(fx.log().len(), frozen_at, "output while paused");
    assert!(container.pause().is_err(), "pausing twice is refused");
    container.unpause().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while fx.log().len() <= frozen_at && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(fx.log().len() > frozen_at, "no output after unpause");
    // Stopping a paused container thaws it after the signal.
    container.pause().unwrap();
    // 143: SIGTERM reached the thawed workload (137 would mean the grace
    // period ran out and SIGKILL did it).
    let exit = container.stop(std::time::Duration::from_secs(10)).unwrap();
    assert_eq!(exit.code, 143);
    fx.cleanup(container);
}

#[test]
fn stats_report_memory_pids_and_cpu() {
    let fx = Fixture::new("stats");
    let mut spec = fx.spec(&[
        "sh",
        "-c",
        "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 3600",
    ]);
    spec.resources.memory = Some(64 * MIB);
    let container = fx.start(&spec);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let stats = container.stats().unwrap();
    assert!(stats.memory_usage > 0, "{stats:?}");
    assert_eq!(stats.memory_limit, Some(64 * MIB));
    // The init and the workload (sh, or the sleep it execs at the end).
    assert_eq!(stats.pids, 2, "{stats:?}");
    assert!(stats.cpu_usage_ns > 0, "{stats:?}");
    container.stop(std::time::Duration::from_secs(5)).unwrap();
    fx.cleanup(container);
}

#[test]
fn oom_score_adj_applies_to_the_workload() {
    let fx = Fixture::new("oomadj");
    let mut spec = fx.spec(&["cat", "/proc/self/oom_score_adj"]);
    spec.process.oom_score_adj = Some(500);
    let (code, out, log) = fx.run(&spec);
    assert_eq!(code, 0, "{log:?}");
    assert_eq!(out, "500\n");
}
