//! Namespaces beyond the basics: orphans are reaped by our init, the host
//! network mode, and joining another container's network namespace (what
//! `network_mode: service:x` and the bridge network build on). Needs root.

mod container_support;

use compose_runtime::container::NetworkMode;
use container_support::Fixture;
use std::time::Duration;

#[test]
fn orphaned_processes_are_reaped_by_the_init() {
    let fx = Fixture::new("orphans");
    // The inner shell exits at once; its background sleeps are orphaned,
    // reparented to PID 1 and must not linger as zombies once they exit.
    let script = "sh -c 'sleep 0.1 & sleep 0.1 &'; sleep 0.5; ps -o stat | grep -c Z";
    let (code, out, _) = fx.run(&fx.spec(&["sh", "-c", script]));
    assert_eq!(out, "0\n", "zombies left: {out}");
    assert_eq!(code, 1, "grep -c found nothing");
}

#[test]
fn host_network_mode_sees_the_hosts_interfaces() {
    // The same namespace (its inode), not a copy of the interface list:
    // other tests add and remove veths meanwhile.
    use std::os::unix::fs::MetadataExt;
    let host_ns = std::fs::metadata("/proc/self/ns/net").unwrap().ino();
    let fx = Fixture::new("hostnet");
    let mut spec = fx.spec(&[
        "busybox",
        "sh",
        "-c",
        "busybox stat -L -c %i /proc/self/ns/net; ls /sys/class/net",
    ]);
    spec.network = NetworkMode::Host;
    let (code, out, _) = fx.run(&spec);
    assert_eq!(code, 0, "{out}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(host_ns.to_string().as_str()), "{out}");
    let inside: Vec<&str> = lines.collect();
    assert!(inside.contains(&"lo"), "{out}");
    // An interface of the host that no test makes or removes.
    let default_route = std::fs::read_to_string("/proc/net/route").unwrap();
    let uplink = default_route
        .lines()
        .skip(1)
        .find(|l| l.split_whitespace().nth(1) == Some("00000000"))
        .and_then(|l| l.split_whitespace().next());
    if let Some(uplink) = uplink {
        assert!(inside.contains(&uplink), "{uplink} missing: {out}");
    }
}

#[test]
fn a_container_can_join_another_containers_network_namespace() {
    let first = Fixture::new("netns-a");
    let a = first.start(&first.spec(&["sleep", "3600"]));
    let ns = format!("/proc/{}/ns/net", a.pid());
    let expected = std::fs::read_link(&ns).unwrap();

    let second = Fixture::new("netns-b");
    let mut spec = second.spec(&["readlink", "/proc/self/ns/net"]);
    spec.network = NetworkMode::Join { path: ns.into() };
    let (code, out, _) = second.run(&spec);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim_end(), expected.to_string_lossy());
    let own = std::fs::read_link("/proc/self/ns/net").unwrap();
    assert_ne!(expected, own, "the first container has its own namespace");

    a.stop(Duration::from_secs(5)).unwrap();
    first.cleanup(a);
}

#[test]
fn domainname_is_set_in_the_containers_uts_namespace() {
    let host = std::fs::read_to_string("/proc/sys/kernel/domainname").unwrap();
    let fx = Fixture::new("domain");
    let mut spec = fx.spec(&["sh", "-c", "hostname; cat /proc/sys/kernel/domainname"]);
    spec.hostname = "db".into();
    spec.domainname = "example.com".into();
    let (code, out, entries) = fx.run(&spec);
    assert_eq!(code, 0, "{entries:?}");
    assert_eq!(out, "db\nexample.com\n");
    // Only the container's namespace changed.
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/domainname").unwrap(),
        host
    );

    // Unset, it is left alone: a new UTS namespace starts as a copy of
    // the host's (runc sets it only when given, so Docker shows the same).
    let fx = Fixture::new("no-domain");
    let (code, out, _) = fx.run(&fx.spec(&["cat", "/proc/sys/kernel/domainname"]));
    assert_eq!(code, 0);
    assert_eq!(out, host);
}

#[test]
fn an_invalid_domainname_is_refused_before_anything_starts() {
    let fx = Fixture::new("bad-domain");
    let mut spec = fx.spec(&["true"]);
    spec.domainname = "a".repeat(65);
    let err = compose_runtime::container::Container::create(
        &spec,
        &fx.state_dir(),
        &container_support::init_program(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("domainname"), "{err}");
    assert!(!fx.state_dir().exists(), "a state directory was made");
}
