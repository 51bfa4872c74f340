//! Shared fixture of the `up` tests: a fresh COMPOSE_ROOT, a busybox image
//! imported from Debian's busybox-static through `compose image import`, a
//! project directory with a compose.yaml, and `compose` run as a
//! subprocess. Dropping the fixture runs `down` so a failed test leaves
//! no container behind.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const APPLETS: [&str; 21] = [
    "sh", "sleep", "echo", "cat", "env", "id", "ls", "true", "false", "test", "printf", "kill",
    "wget", "httpd", "ip", "nslookup", "hostname", "grep", "nc", "ping", "timeout",
];

pub struct Project {
    pub root: tempfile::TempDir,
    pub dir: PathBuf,
    pub name: String,
    /// Another project's COMPOSE_ROOT this one shares (see `sibling`).
    shared_root: Option<PathBuf>,
}

/// Privileged tests fail (never skip) without root.
pub fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the up tests need root (namespaces, mounts, cgroups); run them as root"
    );
}

impl Project {
    /// A project named `t<pid>-<name>` with `compose_yaml` (where
    /// `IMAGE` stands for the test's busybox image).
    pub fn new(name: &str, compose_yaml: &str) -> Project {
        require_root();
        let root = tempfile::Builder::new()
            .prefix("compose-up-")
            .tempdir()
            .unwrap();
        let project = Project {
            dir: root.path().join("project"),
            name: format!("t{}-{name}", std::process::id()),
            root,
            shared_root: None,
        };
        std::fs::create_dir_all(&project.dir).unwrap();
        project.import_busybox();
        project.write(compose_yaml);
        project
    }

    /// Another project in this one's COMPOSE_ROOT (its images, networks
    /// and supervisors' machine state), with its own directory and name.
    pub fn sibling(&self, name: &str, compose_yaml: &str) -> Project {
        let root = tempfile::Builder::new()
            .prefix("compose-up-sibling-")
            .tempdir()
            .unwrap();
        let project = Project {
            dir: root.path().join("project"),
            name: format!("t{}-{name}", std::process::id()),
            root,
            shared_root: Some(self.compose_root().to_path_buf()),
        };
        std::fs::create_dir_all(&project.dir).unwrap();
        project.write(compose_yaml);
        project
    }

    /// The COMPOSE_ROOT the project's commands use.
    pub fn compose_root(&self) -> &Path {
        self.shared_root.as_deref().unwrap_or(self.root.path())
    }

    pub fn write(&self, compose_yaml: &str) {
        std::fs::write(
            self.dir.join("compose.yaml"),
            compose_yaml.replace("IMAGE", "busybox:test"),
        )
        .unwrap();
    }

    fn import_busybox(&self) {
        let busybox = Path::new("/bin/busybox");
        assert!(
            busybox.exists(),
            "/bin/busybox is missing: apt-get install busybox-static"
        );
        let rootfs = self.root.path().join("rootfs");
        for dir in ["bin", "etc", "dev", "proc", "sys", "tmp", "data"] {
            std::fs::create_dir_all(rootfs.join(dir)).unwrap();
        }
        std::fs::copy(busybox, rootfs.join("bin/busybox")).unwrap();
        for applet in APPLETS {
            std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
        }
        std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
        std::fs::write(rootfs.join("etc/group"), "root:x:0:\n").unwrap();
        std::fs::write(rootfs.join("data/seed.txt"), "from the image\n").unwrap();
        let tar = self.root.path().join("busybox.tar");
        let status = Command::new("tar")
            .arg("-C")
            .arg(&rootfs)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .status()
            .unwrap();
        assert!(status.success());
        let out = self.compose(&["image", "import", tar.to_str().unwrap(), "busybox:test"]);
        assert!(out.status.success(), "{}", stderr(&out));
    }

    /// Run `compose -p <name> ARGS` in the project directory.
    pub fn compose(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_compose"))
            .args(["-p", &self.name])
            .args(args)
            .current_dir(&self.dir)
            .env("COMPOSE_ROOT", self.compose_root())
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    }

    /// Run and assert success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.compose(args);
        assert!(
            out.status.success(),
            "compose {args:?} failed: {}",
            stderr(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn container(&self, service: &str, n: u32) -> String {
        format!("{}-{service}-{n}", self.name)
    }

    pub fn containers_dir(&self) -> PathBuf {
        self.compose_root()
            .join("projects")
            .join(&self.name)
            .join("containers")
    }

    /// Names of the container directories that exist.
    pub fn container_dirs(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.containers_dir())
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// PID 1 of each running container, from its state.json.
    pub fn init_pids(&self) -> Vec<i32> {
        self.container_dirs()
            .iter()
            .filter_map(|n| {
                let text =
                    std::fs::read_to_string(self.containers_dir().join(n).join("state.json"))
                        .ok()?;
                let v: serde_json::Value = serde_json::from_str(&text).ok()?;
                v["pid"].as_i64().map(|p| p as i32)
            })
            .collect()
    }

    /// `logs` output once it contains `needle` (the workload may not have
    /// written yet).
    pub fn logs_containing(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = self.ok(&["logs"]);
            if out.contains(needle) || Instant::now() > deadline {
                return out;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The pid of the project's supervisor, from its pid file.
    pub fn supervisor_pid(&self) -> Option<i32> {
        let path = self
            .compose_root()
            .join("projects")
            .join(&self.name)
            .join("supervisor.pid");
        std::fs::read_to_string(path).ok()?.trim().parse().ok()
    }

    /// SIGKILL the supervisor and wait until it is gone; its pid.
    pub fn kill_supervisor(&self) -> i32 {
        let pid = self.supervisor_pid().expect("a supervisor runs");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!alive(pid), "the supervisor survived SIGKILL");
        pid
    }

    /// The kernel's network objects of the project now: bridges and host
    /// veth ends (from the root's ipam.json), to check after `down`.
    pub fn network_interfaces(&self) -> Vec<String> {
        let path = self.compose_root().join("networks/ipam.json");
        let Ok(text) = std::fs::read_to_string(path) else {
            return Vec::new();
        };
        let state: serde_json::Value = serde_json::from_str(&text).unwrap();
        let networks = compose_runtime::network::Networks::new(self.compose_root());
        let mut names = Vec::new();
        for (network, rec) in state["networks"].as_object().into_iter().flatten() {
            names.push(rec["bridge"].as_str().unwrap().to_string());
            for container in rec["leases"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
            {
                names.push(networks.host_ifname(network, container));
            }
        }
        names
    }

    /// Nothing of the project is left: no mount under the root, no
    /// cgroup, none of `pids` alive, no network namespace, nft table or
    /// (with `interfaces` from [`Project::network_interfaces`]) link.
    pub fn assert_no_network_left(&self, interfaces: &[String]) {
        // A veth pair goes with its container's namespace, which the
        // kernel dismantles in the background: give it a moment.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let links = Command::new("ip").args(["-o", "link"]).output().unwrap();
            let links = String::from_utf8_lossy(&links.stdout);
            let left = interfaces
                .iter()
                .find(|n| links.contains(&format!(" {n}:")) || links.contains(&format!(" {n}@")));
            match left {
                None => break,
                Some(name) => assert!(Instant::now() < deadline, "link {name} left"),
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let netns = self.compose_root().join("netns");
        let left: Vec<_> = std::fs::read_dir(&netns)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "netns left: {left:?}");
        let table = compose_runtime::network::nft::table_for_root(self.compose_root());
        let out = Command::new("nft")
            .args(["list", "table", "ip", &table])
            .output()
            .unwrap();
        assert!(!out.status.success(), "nft table {table} left");
    }

    /// Nothing of the project is left: no mount under the root, no
    /// cgroup, none of `pids` alive.
    pub fn assert_nothing_left(&self, names: &[String], pids: &[i32]) {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let root = self.compose_root().to_string_lossy();
        let ours = [
            format!("{root}/projects/{}/", self.name),
            format!("{root}/netns/{}-", self.name),
        ];
        let left: Vec<&str> = mountinfo
            .lines()
            .filter(|l| ours.iter().any(|o| l.contains(o.as_str())))
            .collect();
        assert!(left.is_empty(), "mounts left: {left:#?}");
        let scope = compose_runtime::scope::scope_for_root(self.compose_root());
        for name in names {
            let name = compose_runtime::scope::cgroup_name(&scope, name);
            for base in [
                "/sys/fs/cgroup/compose",
                "/sys/fs/cgroup/memory/compose",
                "/sys/fs/cgroup/pids/compose",
            ] {
                let dir = Path::new(base).join(&name);
                assert!(!dir.exists(), "cgroup {} left", dir.display());
            }
        }
        for pid in pids {
            assert!(!alive(*pid), "process {pid} still runs");
        }
        assert!(
            self.container_dirs().is_empty(),
            "{:?}",
            self.container_dirs()
        );
    }
}

/// Whether `pid` runs. A container's init is reparented to the host's
/// init when `compose` exits, which reaps it a moment after it dies: a
/// zombie counts as gone.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit_once(") ").map(|(_, rest)| &rest[..1]);
            state != Some("Z")
        }
        Err(_) => false,
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = self.compose(&["down", "-t", "0", "--remove-orphans"]);
    }
}
