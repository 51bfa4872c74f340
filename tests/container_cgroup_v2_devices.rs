//! The cgroup v2 device filter (a BPF program) on the real kernel: a
//! process in the group can use /dev/null but not a /dev/kmsg node it made.
//! Runs on the host's cgroup2 mount (pure v2, or a hybrid host's
//! `unified`). Needs root.

mod container_support;

use compose_runtime::cgroups::{Cgroup, DevicePolicy};
use std::path::PathBuf;
use std::process::Command;

fn cgroup2_mount() -> PathBuf {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    mountinfo
        .lines()
        .find_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let mount_point = before.split(' ').nth(4)?;
            (after.split(' ').next() == Some("cgroup2")).then(|| PathBuf::from(mount_point))
        })
        .expect("no cgroup2 mount on this host")
}

#[test]
fn the_bpf_device_filter_allows_the_default_nodes_only() {
    container_support::require_root();
    let dir = cgroup2_mount().join(format!("compose-devtest-{}", std::process::id()));
    std::fs::create_dir(&dir).unwrap();
    let cgroup = Cgroup::V2 { path: dir.clone() };
    cgroup
        .restrict_devices(&DevicePolicy::Restricted { extra: vec![] })
        .unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let node = tmp.path().join("kmsg");
    let made = Command::new("/bin/busybox")
        .args(["mknod", &node.to_string_lossy(), "c", "1", "11"])
        .status()
        .unwrap();
    assert!(made.success());
    let script = |join: bool| {
        let procs = dir.join("cgroup.procs");
        let enter = if join {
            format!("echo $$ > {};", procs.display())
        } else {
            String::new()
        };
        format!(
            "{enter} /bin/busybox head -c 1 {node} >/dev/null 2>&1 && echo opened || echo refused; \
             cat /dev/null && echo null-ok",
            node = node.display()
        )
    };
    let run = |join| {
        let out = Command::new("/bin/busybox")
            .args(["sh", "-c", &script(join)])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // Control: outside the group the node opens.
    assert_eq!(run(false), "opened\nnull-ok\n");
    let inside = run(true);
    let errors = cgroup.remove(std::time::Duration::from_secs(2));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(inside, "refused\nnull-ok\n");
}
