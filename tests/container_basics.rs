//! A container runs its workload under our init as PID 1, in its own
//! namespaces, with the spec's hostname, env, cwd and user, and its output
//! and exit code recorded. Needs root.

mod container_support;

use compose_runtime::container::log::Stream;
use container_support::Fixture;

#[test]
fn init_is_pid_1_and_the_workload_is_its_child() {
    let fx = Fixture::new("pid1");
    let script = "echo $$; tr '\\0' ' ' < /proc/1/cmdline; echo; ps -o pid > /tmp/ps; sed 1d /tmp/ps | wc -l";
    let (code, out, _) = fx.run(&fx.spec(&["sh", "-c", script]));
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "2", "the workload is PID 1's first child: {out}");
    assert!(
        lines[1].starts_with("compose init "),
        "PID 1 is our init: {out}"
    );
    // init, sh and ps: none of the host's processes.
    assert_eq!(lines[2].trim(), "3", "{out}");
}

#[test]
fn hostname_proc_and_etc_files_are_the_containers() {
    let fx = Fixture::new("host");
    let mut spec = fx.spec(&["sh", "-c", "hostname; cat /etc/hostname; grep -c localhost /etc/hosts; test -r /proc/self/status && echo proc-ok; ls /sys/class/net"]);
    spec.hostname = "web-1".into();
    let (code, out, _) = fx.run(&spec);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "web-1\nweb-1\n2\nproc-ok\nlo\n");
}

#[test]
fn env_and_cwd_come_from_the_spec() {
    let fx = Fixture::new("env");
    let mut spec = fx.spec(&["sh", "-c", "pwd; echo $GREETING; echo $HOME; echo $PATH"]);
    spec.process.env = vec!["GREETING=hello world".into()];
    spec.process.cwd = "/srv/app".into();
    let (code, out, _) = fx.run(&spec);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out,
        "/srv/app\nhello world\n/root\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
    );
}

#[test]
fn user_is_resolved_from_the_images_passwd() {
    let fx = Fixture::new("user");
    let mut spec = fx.spec(&["sh", "-c", "id -u; id -g; id -G; echo $HOME"]);
    spec.process.user = "app".into();
    let (code, out, _) = fx.run(&spec);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "1000\n1000\n1000 50\n/home/app\n");
}

#[test]
fn exit_code_is_passed_through() {
    let fx = Fixture::new("exit");
    let (code, _, _) = fx.run(&fx.spec(&["sh", "-c", "exit 42"]));
    assert_eq!(code, 42);
}

#[test]
fn command_not_found_exits_127_with_a_message_in_the_log() {
    let fx = Fixture::new("notfound");
    let (code, _, log) = fx.run(&fx.spec(&["no-such-command", "x"]));
    assert_eq!(code, 127);
    let errors: Vec<&str> = log
        .iter()
        .filter(|e| e.stream == Stream::Stderr)
        .map(|e| e.log.as_str())
        .collect();
    assert_eq!(
        errors,
        vec!["compose: exec \"no-such-command\": executable file not found in $PATH\n"]
    );
}

#[test]
fn log_lines_carry_stream_and_rfc3339_timestamps() {
    let fx = Fixture::new("log");
    let (code, _, log) =
        fx.run(&fx.spec(&["sh", "-c", "echo out1; echo err1 >&2; printf 'no newline'"]));
    assert_eq!(code, 0);
    let mut lines: Vec<(Stream, &str)> = log.iter().map(|e| (e.stream, e.log.as_str())).collect();
    lines.sort_by_key(|(s, l)| (*s == Stream::Stderr, l.to_string()));
    assert_eq!(
        lines,
        vec![
            (Stream::Stdout, "no newline"),
            (Stream::Stdout, "out1\n"),
            (Stream::Stderr, "err1\n")
        ]
    );
    for entry in &log {
        let t = humantime::parse_rfc3339(&entry.time);
        assert!(t.is_ok(), "bad time {:?}", entry.time);
        assert_eq!(
            entry.time.split('.').nth(1).map(str::len),
            Some(10),
            "{}",
            entry.time
        );
    }
}

#[test]
fn ulimits_and_shm_size_apply() {
    let fx = Fixture::new("ulimit");
    let mut spec = fx.spec(&[
        "sh",
        "-c",
        "ulimit -n; ulimit -Hn; grep ' /dev/shm ' /proc/mounts | grep -o 'size=[0-9]*k'",
    ]);
    spec.process.rlimits = vec![compose_runtime::container::spec::Rlimit {
        name: "nofile".into(),
        soft: 100,
        hard: 200,
    }];
    spec.shm_size = 8 * 1024 * 1024;
    let (code, out, _) = fx.run(&spec);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "100\n200\nsize=8192k\n");
}

#[test]
fn the_workload_inherits_only_stdio() {
    let fx = Fixture::new("fds");
    // busybox ls holds fd 3 open on the directory it lists.
    let (code, out, _) = fx.run(&fx.spec(&["ls", "/proc/self/fd"]));
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "0\n1\n2\n3\n");
}

#[test]
fn tty_true_gives_the_workload_a_terminal() {
    let fx = Fixture::new("tty");
    let mut spec = fx.spec(&[
        "sh",
        "-c",
        "test -t 0 && test -t 1 && echo is-a-tty; tty; echo oops >&2",
    ]);
    spec.process.tty = true;
    let (code, out, log) = fx.run(&spec);
    assert_eq!(code, 0, "{out}");
    // A terminal turns "\n" into "\r\n" and merges stderr into stdout.
    assert_eq!(out, "is-a-tty\r\n/dev/pts/0\r\noops\r\n");
    assert!(log.iter().all(|e| e.stream == Stream::Stdout));
}

#[test]
fn namespaced_sysctls_are_set_and_host_wide_ones_refused() {
    let fx = Fixture::new("sysctl");
    let mut spec = fx.spec(&["sh", "-c", "cat /proc/sys/net/core/somaxconn; echo 5 > /proc/sys/net/core/somaxconn 2>/dev/null || echo ro"]);
    spec.sysctls
        .insert("net.core.somaxconn".into(), "1234".into());
    let (code, out, _) = fx.run(&spec);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "1234\nro\n");

    let mut spec = fx.spec(&["true"]);
    spec.sysctls.insert("vm.swappiness".into(), "0".into());
    let err = compose_runtime::container::Container::create(
        &spec,
        &fx.state_dir(),
        &container_support::init_program(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("sysctl vm.swappiness is not allowed"),
        "{err}"
    );
}
