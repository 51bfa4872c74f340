//! Lifecycle of a container: states, stop (fast, or SIGKILL after the
//! grace period), kill, adoption from the state directory, setup failures
//! reported with their cause, and a cleanup that leaves nothing behind.
//! Needs root.

mod container_support;

use compose_runtime::container::{Container, ContainerError, Mount, Status};
use container_support::{init_program, Fixture};
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

#[test]
fn stopping_a_sleeping_container_takes_milliseconds() {
    let fx = Fixture::new("stop");
    let container = fx.start(&fx.spec(&["sleep", "3600"]));
    assert_eq!(container.state().unwrap().status, Status::Running);
    assert!(container
        .wait_timeout(Duration::from_millis(100))
        .unwrap()
        .is_none());
    let started = Instant::now();
    let exit = container.stop(Duration::from_secs(10)).unwrap();
    let took = started.elapsed();
    // Milliseconds in practice; the bound leaves room for a loaded CI
    // machine while staying far below the 10 s grace period.
    assert!(took < Duration::from_millis(1500), "stop took {took:?}");
    // sleep is not PID 1, so SIGTERM's default action kills it: 128 + 15.
    assert_eq!(exit.code, 143);
    assert_eq!(exit.signal, Some(15));
    let state = container.state().unwrap();
    assert_eq!(state.status, Status::Stopped);
    assert!(state.finished_at.is_some());
    fx.cleanup(container);
}

#[test]
fn a_workload_ignoring_sigterm_is_killed_after_the_grace_period() {
    let fx = Fixture::new("sigkill");
    let script = "trap '' TERM; echo ready; while true; do sleep 1; done";
    let container = fx.start(&fx.spec(&["sh", "-c", script]));
    wait_for_log(&fx, "ready\n");
    let started = Instant::now();
    let exit = container.stop(Duration::from_millis(300)).unwrap();
    // The grace period was waited for; SIGKILL (137) then ended it.
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(exit.code, 137);
    let state = container.state().unwrap();
    assert_eq!(state.status, Status::Stopped);
    // SIGKILL ended the init itself; the host recorded the exit.
    assert!(state.error.unwrap().contains("killed"));
    fx.cleanup(container);
}

#[test]
fn signals_are_forwarded_to_the_workload() {
    let fx = Fixture::new("signal");
    let script = "trap 'echo got-usr1; exit 3' USR1; echo ready; while true; do sleep 0.05; done";
    let container = fx.start(&fx.spec(&["sh", "-c", script]));
    wait_for_log(&fx, "ready\n");
    container.kill(Signal::SIGUSR1).unwrap();
    let exit = container.wait().unwrap();
    assert_eq!(exit.code, 3);
    assert!(fx.log().iter().any(|e| e.log == "got-usr1\n"));
    // Not running any more: kill is refused with the state.
    assert!(matches!(
        container.kill(Signal::SIGTERM),
        Err(ContainerError::BadState {
            status: Status::Stopped,
            ..
        })
    ));
    fx.cleanup(container);
}

#[test]
fn a_container_is_adopted_from_its_state_directory() {
    let fx = Fixture::new("adopt");
    let container = fx.start(&fx.spec(&["sleep", "3600"]));
    let adopted = Container::load(&fx.state_dir()).unwrap();
    assert_eq!(adopted.pid(), container.pid());
    assert_eq!(adopted.cgroup(), container.cgroup());
    let exit = adopted.stop(Duration::from_secs(5)).unwrap();
    assert_eq!(exit.code, 143);
    assert_eq!(container.wait().unwrap(), exit);
    fx.cleanup(container);
}

/// A container whose state.json still says `created` (the state moves to
/// running after `create` returns) is adopted as live: a stop right after
/// `up -d` waits for it instead of taking it for exited and then failing to
/// remove a cgroup its processes still use.
#[test]
fn a_container_still_recorded_as_created_is_adopted_as_live() {
    let fx = Fixture::new("adopt-created");
    let container = fx.start(&fx.spec(&["sleep", "3600"]));
    let path = fx.state_dir().join("state.json");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    state["status"] = "created".into();
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
    let adopted = Container::load(&fx.state_dir()).unwrap();
    let exit = adopted.stop(Duration::from_secs(5)).unwrap();
    assert_eq!(
        exit.code, 143,
        "the workload got SIGTERM, not a made-up exit"
    );
    adopted.cleanup().expect("no process is left in the cgroup");
    assert_eq!(container.wait().unwrap(), exit);
    fx.cleanup(container);
}

/// While `create` runs, state.json says `created` with no pid yet. A
/// supervisor tick that loads the container then must not conclude it
/// exited: it used to save `stopped` over the `running` state PID 1 was
/// about to write, so `down` skipped the stop and left it running.
#[test]
fn a_container_loaded_before_its_pid_is_recorded_has_not_exited() {
    let fx = Fixture::new("adopt-creating");
    let container = fx.start(&fx.spec(&["sleep", "3600"]));
    let path = fx.state_dir().join("state.json");
    let running = std::fs::read_to_string(&path).unwrap();
    let mut state: serde_json::Value = serde_json::from_str(&running).unwrap();
    state["status"] = "created".into();
    state["pid"] = serde_json::Value::Null;
    let creating = serde_json::to_vec(&state).unwrap();
    std::fs::write(&path, &creating).unwrap();
    let early = Container::load(&fx.state_dir()).unwrap();
    assert_eq!(early.state().unwrap().status, Status::Created);
    assert_eq!(early.wait_timeout(Duration::ZERO).unwrap(), None);
    assert_eq!(std::fs::read(&path).unwrap(), creating, "nothing was saved");
    // PID 1 records itself: the container is adopted as running.
    std::fs::write(&path, &running).unwrap();
    let adopted = Container::load(&fx.state_dir()).unwrap();
    assert_eq!(adopted.state().unwrap().status, Status::Running);
    assert_eq!(adopted.stop(Duration::from_secs(5)).unwrap().code, 143);
    fx.cleanup(container);
}

/// A value loaded while the container was starting follows its init once
/// it recorded itself: `stop` through it signals the workload (the
/// supervisor keeps such values between ticks).
#[test]
fn a_container_loaded_while_starting_can_be_stopped_once_it_runs() {
    let fx = Fixture::new("stop-starting");
    let container = fx.start(&fx.spec(&["sleep", "3600"]));
    let path = fx.state_dir().join("state.json");
    let running = std::fs::read_to_string(&path).unwrap();
    let starting = serde_json::json!({"id": fx.id(), "status": "created"});
    std::fs::write(&path, serde_json::to_vec(&starting).unwrap()).unwrap();
    let early = Container::load(&fx.state_dir()).unwrap();
    assert_eq!(early.state().unwrap().status, Status::Created);

    std::fs::write(&path, &running).unwrap();
    let state = early.state().unwrap();
    assert_eq!(state.status, Status::Running);
    assert_eq!(state.pid, Some(container.pid().as_raw()));
    let exit = early.stop(Duration::from_secs(5)).unwrap();
    assert_eq!(exit.code, 143, "the workload got SIGTERM");
    assert_eq!(container.wait().unwrap(), exit);
    fx.cleanup(container);
}

#[test]
fn setup_failures_name_their_cause_and_leave_nothing() {
    let fx = Fixture::new("badspec");
    let mut spec = fx.spec(&["true"]);
    spec.process.user = "ghost".into();
    let err = Container::create(&spec, &fx.state_dir(), &init_program()).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("unable to find user ghost"), "{message}");
    let state = Container::load(&fx.state_dir()).unwrap().state().unwrap();
    assert_eq!(state.status, Status::Stopped);
    assert_eq!(state.exit.unwrap().code, 125);
    container_support::assert_no_mounts_under(fx.root.path());
    for controller in ["memory", "pids", "cpu"] {
        let dir = format!("/sys/fs/cgroup/{controller}/compose/{}", fx.id());
        assert!(!std::path::Path::new(&dir).exists(), "{dir} left behind");
    }
}

#[test]
fn a_missing_bind_source_is_refused_before_starting() {
    let fx = Fixture::new("nobind");
    let mut spec = fx.spec(&["true"]);
    spec.mounts.push(Mount::Bind {
        source: fx.root.path().join("nope"),
        target: "/data".into(),
        read_only: false,
    });
    let err = Container::create(&spec, &fx.state_dir(), &init_program()).unwrap_err();
    assert!(
        matches!(err, ContainerError::MissingBindSource { .. }),
        "{err}"
    );
}

#[test]
fn binds_tmpfs_and_read_only_root() {
    let fx = Fixture::new("mounts");
    let data = fx.root.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("in.txt"), "from host\n").unwrap();
    let mut spec = fx.spec(&[
        "sh",
        "-c",
        "cat /data/in.txt; echo back > /data/out.txt; echo t > /scratch/t && cat /scratch/t; \
         touch /rootfile 2>/dev/null || echo root-ro; echo x > /ro/in.txt 2>/dev/null || echo bind-ro",
    ]);
    spec.rootfs.read_only = true;
    spec.mounts = vec![
        Mount::Bind {
            source: data.clone(),
            target: "/data".into(),
            read_only: false,
        },
        Mount::Bind {
            source: data.clone(),
            target: "/ro".into(),
            read_only: true,
        },
        Mount::Tmpfs {
            target: "/scratch".into(),
            size: Some(1 << 20),
            mode: None,
        },
    ];
    let (code, out, _) = fx.run(&spec);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "from host\nt\nroot-ro\nbind-ro\n");
    assert_eq!(
        std::fs::read_to_string(data.join("out.txt")).unwrap(),
        "back\n"
    );
}

#[test]
fn the_upper_dir_keeps_the_containers_writes_and_the_layer_stays_clean() {
    let fx = Fixture::new("overlay");
    let (code, out, _) =
        fx.run(&fx.spec(&["sh", "-c", "echo new > /etc/motd; rm /bin/ls; echo done"]));
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        std::fs::read_to_string(fx.state_dir().join("upper/etc/motd")).unwrap(),
        "new\n"
    );
    assert!(
        fx.rootfs.join("bin/ls").exists(),
        "the lower layer was modified"
    );
    assert!(!fx.rootfs.join("etc/motd").exists());
}

fn wait_for_log(fx: &Fixture, line: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if fx.log().iter().any(|e| e.log == line) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{line:?} never appeared in the log");
}

#[test]
fn a_running_container_cannot_be_created_again_but_a_stopped_one_can() {
    let fx = Fixture::new("twice");
    let spec = fx.spec(&["sleep", "3600"]);
    let container = fx.start(&spec);
    let err = Container::create(&spec, &fx.state_dir(), &init_program()).unwrap_err();
    assert!(
        matches!(
            err,
            ContainerError::BadState {
                status: Status::Running,
                ..
            }
        ),
        "{err}"
    );
    container.stop(Duration::from_secs(5)).unwrap();
    fx.cleanup(container);
    let again = fx.start(&fx.spec(&["true"]));
    assert_eq!(again.wait().unwrap().code, 0);
    fx.cleanup(again);
}

#[test]
fn stop_with_uses_the_services_stop_signal() {
    let fx = Fixture::new("stopsig");
    let script = "trap 'echo got-int; exit 0' INT; echo ready; while true; do sleep 0.05; done";
    let container = fx.start(&fx.spec(&["sh", "-c", script]));
    wait_for_log(&fx, "ready\n");
    let exit = container
        .stop_with(Signal::SIGINT, Duration::from_secs(10))
        .unwrap();
    assert_eq!(exit.code, 0);
    assert!(fx.log().iter().any(|e| e.log == "got-int\n"));
    fx.cleanup(container);
}
