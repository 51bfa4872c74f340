//! Wall time of `compose config` as a user runs it: one process per call,
//! on a generated 50-service project and on each awesome-compose case of the
//! corpus. Prints median and p90 in milliseconds. Run: `cargo bench --bench config`.
//!
//! docker-compose v1 takes ~300 ms per call; the target is well under 10 ms.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 40;

fn corpus() -> PathBuf {
    if let Ok(dir) = std::env::var("COMPOSE_CORPUS") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/compose-corpus")
}

/// A project of 50 services in a chain of dependencies, each with the fields
/// real files use (ports, volumes, environment, healthcheck, build).
fn fifty_services(dir: &Path) {
    let mut yaml = String::from("name: bench\nservices:\n");
    for i in 0..50 {
        yaml.push_str(&format!(
            "  svc{i}:\n    image: registry.example/app{i}:${{TAG:-latest}}\n    \
             ports: [\"{p}:80\", \"127.0.0.1:{q}:443/tcp\"]\n    \
             environment:\n      - INDEX={i}\n      - MODE=${{MODE:-dev}}\n    \
             volumes: [\"./data/{i}:/data\", \"cache{i}:/cache:ro\"]\n    \
             healthcheck: {{test: [\"CMD\", \"true\"], interval: 10s, timeout: 1s}}\n    \
             deploy: {{resources: {{limits: {{memory: 256m, cpus: '0.5'}}}}}}\n",
            p = 8000 + i,
            q = 9000 + i
        ));
        if i > 0 {
            yaml.push_str(&format!("    depends_on: [svc{}]\n", i - 1));
        }
    }
    yaml.push_str("volumes:\n");
    for i in 0..50 {
        yaml.push_str(&format!("  cache{i}: {{}}\n"));
    }
    std::fs::write(dir.join("compose.yaml"), yaml).unwrap();
}

fn time_config(dir: &Path, label: &str) -> Option<Duration> {
    let bin = env!("CARGO_BIN_EXE_compose");
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let status = Command::new(bin)
            .arg("config")
            .current_dir(dir)
            .env_remove("COMPOSE_FILE")
            .env_remove("COMPOSE_PROJECT_NAME")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run compose");
        times.push(start.elapsed());
        if !status.success() {
            println!("{label:<40} failed ({status})");
            return None;
        }
    }
    times.sort();
    let median = times[RUNS / 2];
    let p90 = times[RUNS * 9 / 10];
    println!(
        "{label:<40} median {:>7.2} ms   p90 {:>7.2} ms",
        median.as_secs_f64() * 1e3,
        p90.as_secs_f64() * 1e3
    );
    Some(median)
}

fn main() {
    println!("compose config, one process per call, {RUNS} runs each");
    let tmp = tempfile::tempdir().unwrap();
    fifty_services(tmp.path());
    time_config(tmp.path(), "50 services (generated)");

    let mut cases: Vec<_> = std::fs::read_dir(corpus())
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    cases.retain(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("ac_"))
    });
    cases.sort();
    let mut medians = Vec::new();
    for case in &cases {
        let label = case.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(m) = time_config(case, &label) {
            medians.push(m);
        }
    }
    if !medians.is_empty() {
        medians.sort();
        println!(
            "awesome-compose: {} cases, median of medians {:.2} ms, slowest {:.2} ms",
            medians.len(),
            medians[medians.len() / 2].as_secs_f64() * 1e3,
            medians.last().unwrap().as_secs_f64() * 1e3
        );
    }
}
