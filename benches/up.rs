//! Wall time of the container commands as a user runs them (one process per
//! call): `up -d` and `down` of 10 chained `sleep` services, and, through
//! the runtime API, create+start of one container until its workload runs.
//! Prints median and p90 in milliseconds, and the memory of the supervisor
//! and of each container's init with 10 containers up (RSS, PSS, USS; see
//! `memory`). Needs root.
//! Run: `cargo bench --bench up`.
//!
//! Targets: `up -d` ≤ 500 ms, `down` ≤ 500 ms, create+start ≤ 20 ms (median),
//! supervisor ≤ 20 MB, per container ≤ 2 MB.

use compose_runtime::container::{Container, ContainerSpec, InitProgram};
mod support;

use std::time::{Duration, Instant};
use support::{bench_root, memory, report, run, timed};

const RUNS: usize = 10;
const STARTS: usize = 30;

fn main() {
    let (root, rootfs) = bench_root("the up benchmark runs containers", &[]);
    let project = root.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("compose.yaml"), ten_chained()).unwrap();

    let (mut up, mut down) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        up.push(timed(|| run(root.path(), &project, &["up", "-d"])));
        down.push(timed(|| run(root.path(), &project, &["down", "-t", "10"])));
    }
    report("up -d (10 chained services)", &mut up);
    report("down (10 services)", &mut down);

    run(root.path(), &project, &["up", "-d"]);
    memory(root.path(), "bench", "supervisor (10 containers)");
    run(root.path(), &project, &["down", "-t", "10"]);

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
