//! Wall time of the container commands as a user runs them (one process per
//! call): `up -d` and `down` of 10 chained `sleep` services, and, through
//! the runtime API, create+start of one container until its workload runs.
//! Prints median and p90 in milliseconds. Needs root.
//! Run: `cargo bench --bench up`.
//!
//! Targets: `up -d` ≤ 500 ms, `down` ≤ 500 ms, create+start ≤ 20 ms (median).

use compose_runtime::container::{Container, ContainerSpec, InitProgram};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 10;
const STARTS: usize = 30;

fn main() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the up benchmark runs containers: run it as root"
    );
    let root = tempfile::Builder::new()
        .prefix("compose-bench-")
        .tempdir()
        .unwrap();
    let rootfs = root.path().join("rootfs");
    busybox_rootfs(&rootfs);
    let project = root.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("compose.yaml"), ten_chained()).unwrap();
    let tar = root.path().join("busybox.tar");
    run(
        root.path(),
        root.path(),
        &["image", "import", tar_of(&rootfs, &tar), "busybox:bench"],
    );

    let (mut up, mut down) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        up.push(timed(|| run(root.path(), &project, &["up", "-d"])));
        down.push(timed(|| run(root.path(), &project, &["down", "-t", "10"])));
    }
    report("up -d (10 chained services)", &mut up);
    report("down (10 services)", &mut down);

    let init = InitProgram::at(env!("CARGO_BIN_EXE_compose"));
    let mut starts = Vec::new();
    for i in 0..STARTS {
        let id = format!("bench-{}-{i}", std::process::id());
        let spec = ContainerSpec::new(
            &id,
            vec![rootfs.clone()],
            vec!["sleep".into(), "3600".into()],
        );
        let dir = root.path().join("containers").join(&id);
        let start = Instant::now();
        let c = Container::create(&spec, &dir, &init).expect("create");
        starts.push(start.elapsed());
        c.stop(Duration::ZERO).expect("stop");
        c.remove().expect("remove");
    }
    report("create+start to workload exec", &mut starts);
}

fn ten_chained() -> String {
    let mut yaml = String::from("name: bench\nservices:\n");
    for i in 0..10 {
        yaml.push_str(&format!(
            "  s{i}:\n    image: busybox:bench\n    command: sleep 3600\n"
        ));
        if i > 0 {
            yaml.push_str(&format!("    depends_on: [s{}]\n", i - 1));
        }
    }
    yaml
}

fn busybox_rootfs(rootfs: &Path) {
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

fn tar_of<'a>(rootfs: &Path, tar: &'a Path) -> &'a str {
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

fn run(root: &Path, cwd: &Path, args: &[&str]) {
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

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn report(what: &str, times: &mut [Duration]) {
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
