//! `exec`: another process in a running container sees the container's
//! namespaces, root, hostname, user database and limits, gets its exit
//! code back, and is refused once the container stopped. Needs root.

mod container_support;

use compose_runtime::container::spec::ProcessSpec;
use compose_runtime::container::{ContainerError, Status};
use container_support::{init_program, Fixture};
use std::time::Duration;

fn process(args: &[&str]) -> ProcessSpec {
    let mut spec = Fixture::new_process_spec();
    spec.args = args.iter().map(|a| a.to_string()).collect();
    spec
}

#[test]
fn exec_runs_inside_the_containers_namespaces() {
    let fx = Fixture::new("exec");
    let mut spec = fx.spec(&["sleep", "3600"]);
    spec.hostname = "exec-host".into();
    let container = fx.start(&spec);
    let mut p = process(&["sh", "-c", "hostname; id -un; pwd; echo $V; ls /proc | grep -c '^[0-9]'; cat /proc/self/status | grep CapEff"]);
    p.user = "app".into();
    p.cwd = "/tmp".into();
    p.env = vec!["V=from-exec".into()];
    let out = container
        .exec(&p, &init_program())
        .unwrap()
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // init, sleep, sh, and the grep/ls of the pipeline: a handful, not the host's.
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        &lines[..4],
        &["exec-host", "app", "/tmp", "from-exec"],
        "{stdout}"
    );
    let count: usize = lines[4].parse().unwrap();
    assert!((3..=7).contains(&count), "{count} pids visible: {stdout}");
    assert_eq!(
        lines[5], "CapEff:\t0000000000000000",
        "a non-root exec has no capabilities"
    );
    // The exec'd process was in the container's cgroup: it is gone now.
    assert_eq!(container.cgroup().pids().unwrap().len(), 2);
    container.stop(Duration::from_secs(5)).unwrap();
    fx.cleanup(container);
}

#[test]
fn exec_exit_codes_follow_docker() {
    let fx = Fixture::new("execcode");
    let container = fx.start(&fx.spec(&["sleep", "3600"]));
    let run = |args: &[&str]| {
        container
            .exec(&process(args), &init_program())
            .unwrap()
            .output()
            .unwrap()
    };
    assert_eq!(run(&["sh", "-c", "exit 7"]).status.code(), Some(7));
    let missing = run(&["nope"]);
    assert_eq!(missing.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("executable file not found"));
    container.stop(Duration::from_secs(5)).unwrap();
    let err = container
        .exec(&process(&["true"]), &init_program())
        .unwrap_err();
    assert!(
        matches!(
            err,
            ContainerError::BadState {
                status: Status::Stopped,
                ..
            }
        ),
        "{err}"
    );
    fx.cleanup(container);
}

#[test]
fn killing_the_exec_kills_the_process_inside() {
    let fx = Fixture::new("execkill");
    let container = fx.start(&fx.spec(&["sleep", "3600"]));
    let mut shim = container
        .exec(&process(&["sleep", "3600"]), &init_program())
        .unwrap()
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let exec_pid = loop {
        let child = container
            .cgroup()
            .pids()
            .unwrap()
            .into_iter()
            .find(|p| parent_of(*p) == Some(shim.id() as i32));
        if let Some(pid) = child {
            break pid;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the exec'd process never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    shim.kill().unwrap();
    shim.wait().unwrap();
    // The parent-death signal kills it; as the subreaper that inherited it,
    // we reap it (a supervisor's reaper loop does the same), or the
    // container's PID 1 could never finish exiting.
    let status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(exec_pid), None).unwrap();
    assert!(
        matches!(
            status,
            nix::sys::wait::WaitStatus::Signaled(_, nix::sys::signal::Signal::SIGKILL, _)
        ),
        "{status:?}"
    );
    assert_eq!(container.cgroup().pids().unwrap().len(), 2);
    container.stop(Duration::from_secs(5)).unwrap();
    fx.cleanup(container);
}

fn parent_of(pid: i32) -> Option<i32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .and_then(|v| v.trim().parse().ok())
}
