//! Pull throughput of `compose image pull` (download, verify, unpack) from
//! a local `docker-registry`, next to `skopeo copy` (download and verify
//! only) of the same image when skopeo is installed. The image: 5 layers
//! of 20 MB of random, incompressible data, gzip-framed as registries
//! serve them. Prints the median of 3 runs in MB/s and the ratio.
//! Run: `cargo bench --bench pull` (as root: unpacking chowns).

use compose_runtime::image::oci::{self, Platform};
use compose_runtime::testing::{gzip, push_image, random_layer, Auth, LocalRegistry};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LAYERS: u64 = 5;
const LAYER_BYTES: usize = 20_000_000;
const RUNS: usize = 3;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Run `cmd` RUNS times, each in a fresh directory given by `make`; the
/// median wall time.
fn time_runs(label: &str, make: impl Fn(&Path) -> Command) -> Duration {
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cmd = make(dir.path());
        let start = Instant::now();
        let out = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("run");
        let took = start.elapsed();
        assert!(
            out.status.success(),
            "{label} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        times.push(took);
    }
    median(times)
}

fn skopeo_installed() -> bool {
    Command::new("skopeo")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn main() {
    let reg = LocalRegistry::start(Auth::Anonymous);
    let layers: Vec<_> = (0..LAYERS)
        .map(|seed| {
            let plain = random_layer(seed, LAYER_BYTES);
            let blob = gzip(&plain);
            (plain, blob, oci::OCI_LAYER_GZIP)
        })
        .collect();
    let total: usize = layers.iter().map(|l| l.1.len()).sum();
    let arch = Platform::host().architecture;
    let manifest = push_image(
        &reg,
        "bench/img",
        &layers,
        &arch,
        oci::OCI_MANIFEST,
        oci::OCI_CONFIG,
    );
    reg.push_manifest("bench/img", "latest", oci::OCI_MANIFEST, &manifest);
    let image = format!("{}/bench/img:latest", reg.host);
    let mb = total as f64 / 1e6;
    println!("image: {LAYERS} layers, {mb:.1} MB of blobs; median of {RUNS} runs");

    let ours = time_runs("compose image pull", |dir| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_compose"));
        c.args(["image", "pull", "--quiet", &image])
            .env("COMPOSE_ROOT", dir)
            .env("DOCKER_CONFIG", dir);
        c
    });
    let ours_rate = mb / ours.as_secs_f64();
    println!(
        "compose image pull (download + verify + unpack): {:>7.1} MB/s ({:.2} s)",
        ours_rate,
        ours.as_secs_f64()
    );

    if !skopeo_installed() {
        println!("skopeo: not installed");
        return;
    }
    let theirs = time_runs("skopeo copy", |dir| {
        let mut c = Command::new("skopeo");
        c.args(["copy", "--src-tls-verify=false"])
            .arg(format!("docker://{image}"))
            .arg(format!("dir:{}", dir.join("x").display()));
        c
    });
    let theirs_rate = mb / theirs.as_secs_f64();
    println!(
        "skopeo copy (download + verify):                  {:>7.1} MB/s ({:.2} s)",
        theirs_rate,
        theirs.as_secs_f64()
    );
    println!("ratio compose/skopeo: {:.2}", ours_rate / theirs_rate);
}
