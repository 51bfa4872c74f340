//! Shared fixture of the container tests: a busybox root filesystem built
//! in a temp dir that also serves as the test's COMPOSE_ROOT, a container
//! started through the real `compose init`, and the post-cleanup checks
//! (no mount left, no cgroup left, no process left).
#![allow(dead_code)]

use compose_runtime::container::log::{parse_log, LogEntry};
use compose_runtime::container::{become_subreaper, Container, ContainerSpec, InitProgram};
use std::path::{Path, PathBuf};

/// Busybox applets the tests use, linked into /bin.
const APPLETS: [&str; 32] = [
    "sh", "sleep", "cat", "id", "hostname", "ls", "mount", "echo", "env", "pwd", "dd", "grep",
    "head", "wc", "true", "false", "test", "printf", "ps", "kill", "touch", "stat", "readlink",
    "sed", "tr", "whoami", "unshare", "rm", "mkdir", "cut", "mknod", "ip",
];

/// Privileged tests fail (never skip) without root.
pub fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the container tests need root (namespaces, mounts, cgroups); run them as root"
    );
}

pub struct Fixture {
    pub root: tempfile::TempDir,
    pub rootfs: PathBuf,
    name: String,
}

impl Fixture {
    /// A fresh COMPOSE_ROOT with a busybox rootfs; `name` makes ids unique.
    pub fn new(name: &str) -> Fixture {
        require_root();
        become_subreaper().expect("PR_SET_CHILD_SUBREAPER");
        let root = tempfile::Builder::new()
            .prefix("compose-ct-")
            .tempdir()
            .unwrap();
        let rootfs = root.path().join("images/layers/busybox");
        build_busybox_rootfs(&rootfs);
        Fixture {
            root,
            rootfs,
            name: format!("t{}-{name}", std::process::id()),
        }
    }

    /// A process spec with the spec defaults (for exec).
    pub fn new_process_spec() -> compose_runtime::container::spec::ProcessSpec {
        ContainerSpec::new("x", vec![], vec![]).process
    }

    pub fn id(&self) -> &str {
        &self.name
    }

    pub fn state_dir(&self) -> PathBuf {
        self.root
            .path()
            .join("projects/test/containers")
            .join(&self.name)
    }

    /// A spec running `args` on the busybox rootfs.
    pub fn spec(&self, args: &[&str]) -> ContainerSpec {
        ContainerSpec::new(
            &self.name,
            vec![self.rootfs.clone()],
            args.iter().map(|a| a.to_string()).collect(),
        )
    }

    pub fn start(&self, spec: &ContainerSpec) -> Container {
        Container::create(spec, &self.state_dir(), &init_program())
            .unwrap_or_else(|e| panic!("create failed: {e}\ninit.log: {}", self.init_log()))
    }

    pub fn init_log(&self) -> String {
        std::fs::read_to_string(self.state_dir().join("init.log")).unwrap_or_default()
    }

    /// Run `args` to completion; (exit code, stdout text, all log entries).
    pub fn run(&self, spec: &ContainerSpec) -> (i32, String, Vec<LogEntry>) {
        let container = self.start(spec);
        let exit = container.wait().expect("wait");
        let entries = self.log();
        self.cleanup(container);
        let stdout = entries
            .iter()
            .filter(|e| e.stream == compose_runtime::container::log::Stream::Stdout)
            .map(|e| e.log.as_str())
            .collect();
        (exit.code, stdout, entries)
    }

    pub fn log(&self) -> Vec<LogEntry> {
        let text = std::fs::read_to_string(self.state_dir().join("log.jsonl")).unwrap_or_default();
        parse_log(&text).expect("log.jsonl is JSON lines")
    }

    /// Clean up and check that nothing of the container is left behind.
    pub fn cleanup(&self, container: Container) {
        let pid = container.pid();
        let cgroup_dirs: Vec<PathBuf> = container.cgroup().dirs().cloned().collect();
        container.cleanup().expect("cleanup");
        assert_no_mounts_under(self.root.path());
        for dir in cgroup_dirs {
            assert!(!dir.exists(), "cgroup {} left behind", dir.display());
        }
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "the init (pid {pid}) is still there"
        );
    }
}

pub fn init_program() -> InitProgram {
    InitProgram::at(env!("CARGO_BIN_EXE_compose"))
}

pub fn assert_no_mounts_under(dir: &Path) {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let dir = dir.to_string_lossy();
    let left: Vec<&str> = mountinfo.lines().filter(|l| l.contains(&*dir)).collect();
    assert!(left.is_empty(), "mounts left under {dir}: {left:#?}");
}

fn build_busybox_rootfs(rootfs: &Path) {
    let busybox = Path::new("/bin/busybox");
    assert!(
        busybox.exists(),
        "/bin/busybox is missing: apt-get install busybox-static"
    );
    for dir in [
        "bin", "etc", "proc", "sys", "dev", "tmp", "root", "home/app",
    ] {
        std::fs::create_dir_all(rootfs.join(dir)).unwrap();
    }
    std::fs::copy(busybox, rootfs.join("bin/busybox")).unwrap();
    for applet in APPLETS {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
    }
    std::fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:App:/home/app:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(
        rootfs.join("etc/group"),
        "root:x:0:\napp:x:1000:\nstaff:x:50:app\n",
    )
    .unwrap();
}

impl Drop for Fixture {
    /// A test that failed half-way must not leave its container running:
    /// kill whatever is in its cgroups and remove them (a no-op after a
    /// successful `cleanup`).
    fn drop(&mut self) {
        let dirs = cgroup_dirs(&self.name);
        for dir in &dirs {
            let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
            for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        // We are the init's subreaper: reap it, or it stays a zombie.
        let state =
            std::fs::read_to_string(self.state_dir().join("state.json")).unwrap_or_default();
        let pid = serde_json::from_str::<serde_json::Value>(&state)
            .ok()
            .and_then(|v| v["pid"].as_i64());
        if let Some(pid) = pid {
            let pid = nix::unistd::Pid::from_raw(pid as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(pid, None);
        }
        for dir in &dirs {
            for _ in 0..100 {
                if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }
}

/// Every directory named `compose/<id>` under the cgroup mounts.
fn cgroup_dirs(id: &str) -> Vec<PathBuf> {
    let root = Path::new("/sys/fs/cgroup");
    let mut hierarchies = vec![root.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(root) {
        hierarchies.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
    }
    hierarchies
        .into_iter()
        .map(|h| h.join("compose").join(id))
        .filter(|d| d.is_dir())
        .collect()
}
