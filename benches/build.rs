//! Wall time of `compose build` as a user runs it: a cold build of a
//! two-stage Dockerfile (RUN steps in containers, COPY of a small context,
//! COPY --from) against a rebuild where nothing changed, which takes every
//! step from the cache. Prints median and p90 in milliseconds. Needs root.
//! Run: `cargo bench --bench build`.
//!
//! Target: no-change rebuild ≤ 200 ms (median).

mod support;

use std::time::Duration;
use support::{bench_root, report, run, timed};

const RUNS: usize = 5;

const DOCKERFILE: &str = "FROM busybox:bench AS build
RUN mkdir -p /out && echo compiled > /out/app
COPY src/ /src/
RUN cat /src/*.txt > /out/all.txt

FROM busybox:bench
COPY --from=build /out/ /app/
ENV MODE=production
CMD [\"cat\", \"/app/all.txt\"]
";

fn main() {
    let (root, _rootfs) = bench_root(
        "the build benchmark runs RUN steps in containers",
        &["mkdir", "cat", "echo"],
    );
    let project = root.path().join("project");
    std::fs::create_dir_all(project.join("src")).unwrap();
    for i in 0..50 {
        std::fs::write(project.join(format!("src/{i}.txt")), format!("file {i}\n")).unwrap();
    }
    std::fs::write(project.join("Dockerfile"), DOCKERFILE).unwrap();
    std::fs::write(
        project.join("compose.yaml"),
        "services:\n  app:\n    image: app:bench\n    build: .\n",
    )
    .unwrap();

    let (mut cold, mut warm): (Vec<Duration>, Vec<Duration>) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        cold.push(timed(|| {
            run(root.path(), &project, &["build", "--no-cache", "-q"])
        }));
        warm.push(timed(|| run(root.path(), &project, &["build", "-q"])));
    }
    report("build (cold, --no-cache)", &mut cold);
    report("build (nothing changed, cached)", &mut warm);
}
