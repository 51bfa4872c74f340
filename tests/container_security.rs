//! Security defaults: Docker's capability set, no_new_privs, the default
//! seccomp filter, masked and read-only /proc paths, and the init binary
//! sealed against CVE-2019-5736. Needs root.

mod container_support;

use compose_runtime::container::log::Stream;
use compose_runtime::container::spec::{DeviceMapping, SeccompMode};
use container_support::Fixture;
use std::time::Duration;

/// Docker's default set as a CapEff mask (capabilities(7) bit numbers).
const DOCKER_DEFAULT_CAPS: u64 = 0xa80425fb;
const CAP_SYS_ADMIN: u64 = 1 << 21;

fn status_field(out: &str, field: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("{field} missing in {out}"))
        .trim()
        .to_string()
}

fn cap_eff(out: &str) -> u64 {
    u64::from_str_radix(&status_field(out, "CapEff"), 16).unwrap()
}

#[test]
fn the_default_capability_set_is_dockers_without_sys_admin() {
    let fx = Fixture::new("caps");
    let (code, out, _) = fx.run(&fx.spec(&["cat", "/proc/self/status"]));
    assert_eq!(code, 0, "{out}");
    let eff = cap_eff(&out);
    assert_eq!(
        eff & CAP_SYS_ADMIN,
        0,
        "CAP_SYS_ADMIN is effective: {eff:x}"
    );
    assert_eq!(eff, DOCKER_DEFAULT_CAPS);
    assert_eq!(
        u64::from_str_radix(&status_field(&out, "CapBnd"), 16).unwrap(),
        DOCKER_DEFAULT_CAPS
    );
    assert_eq!(status_field(&out, "CapInh"), "0000000000000000");
    assert_eq!(
        status_field(&out, "Seccomp"),
        "2",
        "the default filter is loaded"
    );
    assert_eq!(status_field(&out, "NoNewPrivs"), "0");
}

#[test]
fn cap_add_cap_drop_and_no_new_privileges() {
    let fx = Fixture::new("capadd");
    let mut spec = fx.spec(&["cat", "/proc/self/status"]);
    spec.security.cap_add = vec!["SYS_ADMIN".into()];
    spec.security.cap_drop = vec!["CHOWN".into()];
    spec.process.no_new_privileges = true;
    let (code, out, _) = fx.run(&spec);
    assert_eq!(code, 0, "{out}");
    let eff = cap_eff(&out);
    assert_ne!(eff & CAP_SYS_ADMIN, 0);
    assert_eq!(eff & 1, 0, "CAP_CHOWN (bit 0) was dropped");
    assert_eq!(status_field(&out, "NoNewPrivs"), "1");
}

#[test]
fn a_non_root_user_has_no_effective_capabilities() {
    let fx = Fixture::new("capuser");
    let mut spec = fx.spec(&["cat", "/proc/self/status"]);
    spec.process.user = "1000:1000".into();
    let (code, out, _) = fx.run(&spec);
    assert_eq!(code, 0, "{out}");
    assert_eq!(cap_eff(&out), 0);
    assert_eq!(
        status_field(&out, "Uid").split_whitespace().next(),
        Some("1000")
    );
}

#[test]
fn seccomp_refuses_new_user_namespaces_unless_unconfined() {
    let fx = Fixture::new("seccomp");
    let script = "unshare -U true 2>/dev/null && echo allowed || echo refused";
    let (code, out, _) = fx.run(&fx.spec(&["sh", "-c", script]));
    assert_eq!((code, out.as_str()), (0, "refused\n"));

    let fx = Fixture::new("unconfined");
    let mut spec = fx.spec(&["sh", "-c", script]);
    spec.security.seccomp = SeccompMode::Unconfined;
    let (code, out, _) = fx.run(&spec);
    assert_eq!((code, out.as_str()), (0, "allowed\n"));
}

#[test]
fn masked_and_read_only_proc_paths() {
    let fx = Fixture::new("masked");
    // /proc/timer_list has content on the host; which of the masked
    // paths exist depends on the kernel's configuration, so count mounts.
    let script = "wc -c < /proc/timer_list; \
                  grep -cE ' /proc/(keys|acpi|timer_list) ' /proc/self/mountinfo; \
                  echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo sys-rw || echo sys-ro; \
                  touch /sys/x 2>/dev/null && echo sysfs-rw || echo sysfs-ro";
    let (code, out, _) = fx.run(&fx.spec(&["sh", "-c", script]));
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "0\n3\nsys-ro\nsysfs-ro\n");
}

#[test]
fn the_init_binary_cannot_be_overwritten_from_inside() {
    let fx = Fixture::new("cve");
    let binary = env!("CARGO_BIN_EXE_compose");
    let before = std::fs::read(binary).unwrap();
    let script = "echo pwned >> /proc/1/exe 2>/dev/null && echo WRITTEN || echo refused; \
                  while true; do sleep 0.05; done";
    let mut spec = fx.spec(&["sh", "-c", script]);
    // Even with every capability the write must fail: the seal, not the
    // capability set, is the defence.
    spec.security.privileged = true;
    let container = fx.start(&spec);
    let exe = format!("/proc/{}/exe", container.pid());
    let target = std::fs::read_link(&exe).unwrap();
    assert!(
        target.to_string_lossy().starts_with("/memfd:"),
        "{}",
        target.display()
    );
    let host_write = std::fs::OpenOptions::new().append(true).open(&exe);
    assert!(host_write.is_err(), "the sealed memfd opened for writing");
    wait_for_output(&fx);
    container.stop(Duration::from_secs(5)).unwrap();
    let log = fx.log();
    let out: Vec<&str> = log
        .iter()
        .filter(|e| e.stream == Stream::Stdout)
        .map(|e| e.log.as_str())
        .collect();
    assert_eq!(out, vec!["refused\n"], "{log:?}");
    fx.cleanup(container);
    assert!(
        std::fs::read(binary).unwrap() == before,
        "the binary changed"
    );
}

fn wait_for_output(fx: &Fixture) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while fx.log().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn device_nodes_outside_the_allow_list_cannot_be_opened() {
    // CAP_MKNOD is in Docker's default set: making the node works, the
    // devices cgroup refuses to open it (here /dev/kmsg, c 1:11).
    // Opened write-only: reading /dev/kmsg would also need CAP_SYSLOG.
    let script =
        "mknod /tmp/kmsg c 1 11 && ( (: > /tmp/kmsg) 2>/dev/null && echo opened || echo refused)";
    let fx = Fixture::new("devices");
    let (code, out, _) = fx.run(&fx.spec(&["sh", "-c", script]));
    assert_eq!((code, out.as_str()), (0, "refused\n"));

    let fx = Fixture::new("devpriv");
    let mut spec = fx.spec(&["sh", "-c", script]);
    spec.security.privileged = true;
    let (code, out, _) = fx.run(&spec);
    assert_eq!((code, out.as_str()), (0, "opened\n"));
}

#[test]
fn mapped_devices_are_created_and_allowed() {
    let fx = Fixture::new("devmap");
    let script = "(: > /dev/kmsg) && echo opened; stat -c '%t:%T' /dev/kmsg";
    let mut spec = fx.spec(&["sh", "-c", script]);
    spec.devices = vec![DeviceMapping {
        host_path: "/dev/kmsg".into(),
        container_path: "/dev/kmsg".into(),
        permissions: "rwm".into(),
    }];
    let (code, out, log) = fx.run(&spec);
    assert_eq!(code, 0, "{log:?}");
    // major 1, minor 11 (0xb), in stat's hex.
    assert_eq!(out, "opened\n1:b\n");

    let fx = Fixture::new("devbad");
    let mut spec = fx.spec(&["true"]);
    spec.devices = vec![DeviceMapping {
        host_path: "/etc/hostname".into(),
        container_path: "/dev/x".into(),
        permissions: "rw".into(),
    }];
    let err = compose_runtime::container::Container::create(
        &spec,
        &fx.state_dir(),
        &container_support::init_program(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("is not a character or block device"),
        "{err}"
    );
}

#[test]
fn pid_1_holds_no_host_directory_open() {
    // With CAP_SYS_PTRACE a container process may open /proc/1/fd/*; a
    // host directory there would lead out of the container through "..".
    let fx = Fixture::new("fdleak");
    let script =
        "n=0; for f in /proc/1/fd/*; do n=$((n+1)); test -d $f && echo DIR $(readlink $f); done; \
                  test $n -gt 2 && echo looked";
    let mut spec = fx.spec(&["sh", "-c", script]);
    spec.security.cap_add = vec!["SYS_PTRACE".into()];
    let (code, out, log) = fx.run(&spec);
    assert_eq!(code, 0, "{log:?}");
    assert_eq!(out, "looked\n");
}
