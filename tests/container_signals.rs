//! The workload starts with the default signal state (nothing blocked,
//! nothing ignored), whatever the thread that started the container had:
//! an attached `compose up` blocks SIGINT and SIGTERM to read them from a
//! signalfd, and neither the init nor the workload may inherit that, or
//! `stop`'s SIGTERM would sit blocked for the whole grace period. Needs root.

mod container_support;

use compose_runtime::container::log::Stream;
use compose_runtime::container::ExitStatus;
use container_support::{init_program, Fixture};
use nix::sys::signal::{SigSet, Signal};
use std::time::{Duration, Instant};

/// Run `f` on a new thread whose mask blocks SIGTERM and SIGINT.
fn with_blocked_signals<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut set = SigSet::empty();
            set.add(Signal::SIGTERM);
            set.add(Signal::SIGINT);
            set.thread_block().unwrap();
            f()
        })
        .join()
        .unwrap()
    })
}

/// `SigBlk`, `SigIgn` of /proc/PID/status (hex masks).
fn masks(status: &str) -> (String, String) {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    (field("SigBlk:"), field("SigIgn:"))
}

const NONE: &str = "0000000000000000";

#[test]
fn the_workload_sees_no_blocked_or_ignored_signal() {
    let fx = Fixture::new("sigmask");
    // grep is the workload itself here, not a child of a shell.
    let spec = fx.spec(&["grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"]);
    let (code, out, entries) = with_blocked_signals(|| fx.run(&spec));
    assert_eq!(code, 0, "{entries:?}");
    assert_eq!(out, format!("SigBlk:\t{NONE}\nSigIgn:\t{NONE}\n"));
    let stderr: Vec<_> = entries
        .iter()
        .filter(|e| e.stream == Stream::Stderr)
        .collect();
    assert!(stderr.is_empty(), "{stderr:?}");
}

#[test]
fn stop_ends_a_workload_started_from_a_thread_blocking_sigterm() {
    let fx = Fixture::new("sigstop");
    let container = with_blocked_signals(|| fx.start(&fx.spec(&["sleep", "100"])));
    let init = container.pid().as_raw();
    // The workload is PID 1's only child; look at it from the host once
    // it has exec'd `sleep` (until then it is PID 1's fork, mask included).
    let children = format!("/proc/{init}/task/{init}/children");
    let deadline = Instant::now() + Duration::from_secs(20);
    let workload = loop {
        let text = std::fs::read_to_string(&children).unwrap_or_default();
        if let Some(pid) = text.split_whitespace().next() {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if comm.trim() == "sleep" {
                break pid.to_string();
            }
        }
        assert!(Instant::now() < deadline, "no `sleep` under PID 1");
        std::thread::sleep(Duration::from_millis(10));
    };
    let status = std::fs::read_to_string(format!("/proc/{workload}/status")).unwrap();
    assert_eq!(masks(&status), (NONE.to_string(), NONE.to_string()));
    // PID 1 blocks only what it reads from its signalfd, SIGTERM among them.
    let init_status = std::fs::read_to_string(format!("/proc/{init}/status")).unwrap();
    assert_ne!(masks(&init_status).0, NONE);

    // Signalled by SIGTERM, not SIGKILL after the 30 s grace period.
    let exit = container.stop(Duration::from_secs(30)).unwrap();
    assert_eq!(exit, ExitStatus::signaled(Signal::SIGTERM as i32));
    fx.cleanup(container);
}

#[test]
fn an_exec_from_a_thread_blocking_sigterm_starts_with_no_mask() {
    let fx = Fixture::new("sigexec");
    let container = fx.start(&fx.spec(&["sleep", "100"]));
    let mut process = Fixture::new_process_spec();
    process.args = ["grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"]
        .map(String::from)
        .to_vec();
    let out = with_blocked_signals(|| {
        container
            .exec(&process, &init_program())
            .unwrap()
            .output()
            .unwrap()
    });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("SigBlk:\t{NONE}\nSigIgn:\t{NONE}\n")
    );
    container.stop(Duration::from_secs(5)).unwrap();
    fx.cleanup(container);
}
