//! `compose run`: a one-off container with dependencies started, output
//! attached, exit code passed through, `--rm`, `-d`, `--name`,
//! `--no-deps`, overrides; `up` leaves it alone and `down` removes it.
//! Needs root.

mod up_support;

use up_support::{stderr, Project};

const YAML: &str = "services:\n  db:\n    image: IMAGE\n    command: sleep 3600\n  web:\n    image: IMAGE\n    depends_on: [db]\n    command: echo from the file\n    restart: always\n    environment:\n      FROM_FILE: yes\n";

#[test]
fn run_starts_dependencies_and_passes_the_exit_code_through() {
    let p = Project::new("run", YAML);
    let out = p.compose(&[
        "run",
        "--rm",
        "-e",
        "EXTRA=bar",
        "-w",
        "/data",
        "web",
        "sh",
        "-c",
        "echo $FROM_FILE $EXTRA $(pwd); cat seed.txt; exit 4",
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "yes bar /data\nfrom the image\n"
    );
    // The dependency runs; the one-off container is gone, and no replica
    // of the service itself was made.
    assert_eq!(p.ok(&["ps", "--services"]), "db\n");
    assert_eq!(p.container_dirs(), [p.container("db", 1)]);

    // The service's own command, detached, under a chosen name.
    let name = format!("{}-custom", p.name);
    let printed = p.ok(&["run", "-d", "--name", &name, "web", "sleep", "3600"]);
    assert_eq!(printed, format!("{name}\n"));
    let ps = p.ok(&["ps", "--format", "json"]);
    assert!(ps.contains(&format!("\"Name\":\"{name}\"")), "{ps}");
    // Without --rm an exited one-off stays, and `up` does not touch it
    // (no restart, although the service says `restart: always`).
    let out = p.compose(&["run", "--entrypoint", "sh -c 'exit 0'", "web"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let runs = |p: &Project| {
        p.container_dirs()
            .into_iter()
            .filter(|n| n.contains("-web-run-"))
            .collect::<Vec<_>>()
    };
    assert_eq!(runs(&p).len(), 1, "{:?}", p.container_dirs());
    p.ok(&["up", "-d"]);
    let all = p.ok(&["ps", "-a", "--format", "json"]);
    let run = all
        .lines()
        .find(|l| l.contains("-web-run-"))
        .expect("the one-off container is listed");
    assert!(run.contains("\"State\":\"exited\""), "{run}");
    assert!(all.contains(&format!("\"Name\":\"{}\"", p.container("web", 1))));

    let names = p.container_dirs();
    let pids = p.init_pids();
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}

#[test]
fn run_no_deps_starts_nothing_else() {
    let p = Project::new("runnodeps", YAML);
    let out = p.compose(&["run", "--rm", "--no-deps", "web", "echo", "alone"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "alone\n");
    assert_eq!(p.ok(&["ps", "-a", "-q"]), "");
    assert!(p.container_dirs().is_empty(), "{:?}", p.container_dirs());
    let missing = p.compose(&["run", "nope"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("nope"), "{}", stderr(&missing));
    p.ok(&["down", "-t", "0"]);
}
