//! Issue 6's figures, as a user runs the commands (one process per call):
//! `up -d` of 50 independent services, scaling one service 1 → 100 and back
//! to 1, `ps` with 100 containers, and the supervisor's memory with 100
//! containers. Needs root. Run: `cargo bench --bench scale`.
//!
//! Targets: up -d of 50 ≤ 1.5 s, scale 1→100 ≤ 3 s, ps ≤ 20 ms.

mod support;

use support::{bench_root, memory, report, run, timed};

const RUNS: usize = 3;
const PS_RUNS: usize = 20;

fn main() {
    let (root, _rootfs) = bench_root("the scale benchmark runs containers", &[]);

    let fifty = root.path().join("fifty");
    std::fs::create_dir_all(&fifty).unwrap();
    std::fs::write(fifty.join("compose.yaml"), independent(50)).unwrap();
    let (mut up, mut down) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        up.push(timed(|| run(root.path(), &fifty, &["up", "-d"])));
        down.push(timed(|| run(root.path(), &fifty, &["down", "-t", "10"])));
    }
    report("up -d (50 independent services)", &mut up);
    report("down (50 services)", &mut down);

    let scaled = root.path().join("scaled");
    std::fs::create_dir_all(&scaled).unwrap();
    std::fs::write(scaled.join("compose.yaml"), independent(1)).unwrap();
    let (mut out, mut back, mut ps) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..RUNS {
        run(root.path(), &scaled, &["up", "-d"]);
        out.push(timed(|| {
            run(root.path(), &scaled, &["up", "-d", "--scale", "s0=100"])
        }));
        if i == 0 {
            for _ in 0..PS_RUNS {
                ps.push(timed(|| run(root.path(), &scaled, &["ps"])));
            }
            memory(root.path(), "scaled", "supervisor (100 containers)");
        }
        back.push(timed(|| {
            run(root.path(), &scaled, &["up", "-d", "--scale", "s0=1"])
        }));
        run(root.path(), &scaled, &["down", "-t", "10"]);
    }
    report("scale 1 -> 100", &mut out);
    report("scale 100 -> 1", &mut back);
    report("ps (100 containers)", &mut ps);
}

/// `n` services that depend on nothing, in a project named after the dir.
fn independent(n: usize) -> String {
    let mut yaml = String::from("services:\n");
    for i in 0..n {
        yaml.push_str(&format!(
            "  s{i}:\n    image: busybox:bench\n    command: sleep 3600\n"
        ));
    }
    yaml
}
