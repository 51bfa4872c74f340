//! What the runtime benchmarks share: a busybox image, running `compose`
//! as a user does (one process per call), timing and memory figures.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Memory of the project's supervisor and of each container's init (our
/// PID 1, not the workload), from /proc/PID/smaps_rollup:
/// - RSS: every page mapped in, including the binary's and libc's pages
///   that all inits share (the binary runs from one sealed memfd per
///   supervisor, so its pages are in memory once for all containers);
/// - PSS: each shared page divided by the number of processes mapping it;
/// - USS (Private_Clean + Private_Dirty): the pages only this process
///   maps, which is what one more container really costs;
/// - anon: heap, stack and relocated data (Anonymous).
///
/// Targets: supervisor ≤ 20 MB, per container ≤ 2 MB.
pub fn memory(root: &Path, project: &str, supervisor: &str) {
    println!(
        "{:<36} {:>10} {:>10} {:>10} {:>10}",
        "memory (MB)", "rss", "pss", "uss", "anon"
    );
    let project = root.join("projects").join(project);
    let pid_text = std::fs::read_to_string(project.join("supervisor.pid")).unwrap_or_default();
    if let Some(m) = pid_text.trim().parse::<i32>().ok().and_then(Memory::of) {
        m.print(supervisor, 1);
    }
    let mut total = Memory::default();
    let mut n = 0;
    for entry in std::fs::read_dir(project.join("containers"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let state = std::fs::read_to_string(entry.path().join("state.json")).unwrap_or_default();
        let pid = serde_json::from_str::<serde_json::Value>(&state)
            .ok()
            .and_then(|v| v["pid"].as_i64());
        if let Some(m) = pid.and_then(|p| Memory::of(p as i32)) {
            total.add(&m);
            n += 1;
        }
    }
    if n > 0 {
        total.print(&format!("container init (PID 1), mean of {n}"), n);
        println!("  (rss counts pages shared by all inits; uss is what each extra container adds)");
    }
    // The sealed memfd the inits run from holds the whole binary in
    // memory (shmem), once per supervisor whatever the number of containers.
    if let Ok(meta) = std::fs::metadata(env!("CARGO_BIN_EXE_compose")) {
        println!(
            "{:<36} {:>10.2}   (shared by all inits, once per supervisor)",
            "sealed init copy (memfd)",
            meta.len() as f64 / 1024.0 / 1024.0
        );
    }
}

/// Sizes in KiB from /proc/PID/smaps_rollup.
#[derive(Debug, Default)]
pub struct Memory {
    pub rss: u64,
    pub pss: u64,
    pub uss: u64,
    pub anon: u64,
}

impl Memory {
    pub fn of(pid: i32) -> Option<Memory> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
        let field = |name: &str| {
            text.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Some(Memory {
            rss: field("Rss:"),
            pss: field("Pss:"),
            uss: field("Private_Clean:") + field("Private_Dirty:"),
            anon: field("Anonymous:"),
        })
    }

    pub fn add(&mut self, other: &Memory) {
        self.rss += other.rss;
        self.pss += other.pss;
        self.uss += other.uss;
        self.anon += other.anon;
    }

    pub fn print(&self, what: &str, n: usize) {
        let mb = |kib: u64| kib as f64 / n as f64 / 1024.0;
        println!(
            "{what:<36} {:>10.2} {:>10.2} {:>10.2} {:>10.2}",
            mb(self.rss),
            mb(self.pss),
            mb(self.uss),
            mb(self.anon)
        );
    }
}

/// A bench's state root (a temp dir) holding `busybox:bench`, imported
/// from a rootfs with busybox's `applets` besides sh, sleep and true; the
/// rootfs directory too (the runtime-API benches start containers on it).
/// `why` says what needs root.
pub fn bench_root(why: &str, applets: &[&str]) -> (tempfile::TempDir, std::path::PathBuf) {
    assert!(nix::unistd::geteuid().is_root(), "{why}: run it as root");
    let root = tempfile::Builder::new()
        .prefix("compose-bench-")
        .tempdir()
        .unwrap();
    let rootfs = root.path().join("rootfs");
    busybox_rootfs(&rootfs);
    for applet in applets {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
    }
    let tar = root.path().join("busybox.tar");
    run(
        root.path(),
        root.path(),
        &["image", "import", tar_of(&rootfs, &tar), "busybox:bench"],
    );
    (root, rootfs)
}

pub fn busybox_rootfs(rootfs: &Path) {
    for dir in ["bin", "etc", "dev", "proc", "sys", "tmp"] {
        std::fs::create_dir_all(rootfs.join(dir)).unwrap();
    }
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox"))
        .expect("/bin/busybox: apt-get install busybox-static");
    for applet in ["sh", "sleep", "true"] {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
    }
    std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::fs::write(rootfs.join("etc/group"), "root:x:0:\n").unwrap();
}

pub fn tar_of<'a>(rootfs: &Path, tar: &'a Path) -> &'a str {
    let ok = Command::new("tar")
        .arg("-C")
        .arg(rootfs)
        .arg("-cf")
        .arg(tar)
        .arg(".")
        .status()
        .unwrap()
        .success();
    assert!(ok, "tar failed");
    tar.to_str().unwrap()
}

pub fn run(root: &Path, cwd: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(args)
        .current_dir(cwd)
        .env("COMPOSE_ROOT", root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "compose {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

pub fn report(what: &str, times: &mut [Duration]) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = times[times.len() / 2];
    let p90 = times[(times.len() * 9 / 10).min(times.len() - 1)];
    println!(
        "{what:<36} median {:>7.1} ms   p90 {:>7.1} ms   ({} runs)",
        ms(median),
        ms(p90),
        times.len()
    );
}
