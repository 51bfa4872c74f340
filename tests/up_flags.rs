//! docker compose's image and recreate flags of `up`, and `create`:
//! `--pull`, `--no-build`, `pull_policy: build`, `-V`, and
//! `--always-recreate-deps`. Needs root.

mod up_support;

use up_support::{stderr, Project};

const APP: &str = "
services:
  db:
    image: IMAGE
    command: sleep 3600
  app:
    image: IMAGE
    command: [\"sh\", \"-c\", \"test -f /cache/mark && echo kept || echo fresh; touch /cache/mark; exec sleep 3600\"]
    volumes:
      - /cache
    depends_on: [db]
";

/// The init PID of a running container, which changes when it is recreated
/// or restarted.
fn pid(p: &Project, service: &str) -> i32 {
    let name = p.container(service, 1);
    let text = std::fs::read_to_string(p.containers_dir().join(&name).join("state.json"))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["pid"].as_i64().unwrap() as i32
}

#[test]
fn create_makes_containers_without_starting_them() {
    let p = Project::new("create", APP);
    p.ok(&["create"]);
    let ps = p.ok(&["ps", "-a", "--format", "{{.Name}} {{.State}}"]);
    let mut lines: Vec<&str> = ps.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            format!("{} created", p.container("app", 1)),
            format!("{} created", p.container("db", 1))
        ],
        "{ps}"
    );
    assert!(p.ok(&["ps", "-q"]).trim().is_empty(), "nothing runs");
    let created = p.ok(&[
        "ps",
        "--filter",
        "status=created",
        "--format",
        "table {{.Service}}\\t{{upper .State}}",
    ]);
    assert_eq!(
        created,
        "SERVICE   STATE\napp       CREATED\ndb        CREATED\n"
    );
    let out = p.compose(&["ps", "--filter", "name=app"]);
    assert!(
        stderr(&out).contains("ps filters by status only"),
        "{}",
        stderr(&out)
    );
    let out = p.compose(&["ps", "-a", "--format", "{{.Nope}}"]);
    assert!(
        stderr(&out).contains("no field \"Nope\""),
        "{}",
        stderr(&out)
    );
    p.ok(&["start"]);
    let long = p.ok(&["ps", "--no-trunc", "--format", "{{.Command}}", "app"]);
    assert!(long.contains("exec sleep 3600"), "{long}");
    let logs = p.logs_containing("fresh");
    assert!(logs.contains("fresh"), "{logs}");
    let (names, pids) = (p.container_dirs(), p.init_pids());
    p.ok(&["down", "-v", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}

#[test]
fn renew_anon_volumes_and_always_recreate_deps() {
    let p = Project::new("renew", APP);
    p.ok(&["up", "-d"]);
    p.logs_containing("fresh");
    let db = pid(&p, "db");

    // A recreate keeps the anonymous volume's data ...
    p.ok(&["up", "-d", "--force-recreate", "app"]);
    assert!(p.logs_containing("kept").contains("kept"));
    assert_eq!(pid(&p, "db"), db, "--force-recreate app leaves db alone");

    // ... `-V` gives the new container a fresh one.
    p.ok(&["up", "-d", "--force-recreate", "-V", "app"]);
    let logs = p.ok(&["logs", "app"]);
    assert_eq!(logs.matches("fresh").count(), 1, "old logs went: {logs}");

    // Unchanged, `up app` touches nothing; --always-recreate-deps
    // recreates what app depends on.
    let app = pid(&p, "app");
    p.ok(&["up", "-d", "app"]);
    assert_eq!((pid(&p, "app"), pid(&p, "db")), (app, db));
    p.ok(&["up", "-d", "--always-recreate-deps", "app"]);
    assert_ne!(pid(&p, "db"), db, "db was recreated");

    let out = p.compose(&["up", "-d", "--always-recreate-deps", "--no-recreate"]);
    assert!(!out.status.success());
    let (names, pids) = (p.container_dirs(), p.init_pids());
    p.ok(&["down", "-v", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}

#[test]
fn pull_never_no_build_and_pull_policy_build() {
    let p = Project::new(
        "pulls",
        "
services:
  remote:
    image: 127.0.0.1:9/not/here:v1
    command: sleep 3600
",
    );
    // `--pull never` over the default policy: no registry is asked.
    let out = p.compose(&["up", "-d", "--pull", "never"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("127.0.0.1:9/not/here:v1") && err.contains("--pull never"),
        "{err}"
    );
    // `--quiet-pull` pulls without saying so (the pull fails either way:
    // nothing listens on 127.0.0.1:9).
    let loud = p.compose(&["up", "-d", "--pull", "always"]);
    assert!(
        stderr(&loud).contains("remote Pulling"),
        "{}",
        stderr(&loud)
    );
    let quiet = p.compose(&["up", "-d", "--pull", "always", "--quiet-pull"]);
    assert!(!quiet.status.success());
    assert!(!stderr(&quiet).contains("Pulling"), "{}", stderr(&quiet));
    let out = p.compose(&["up", "-d", "--pull", "sometimes"]);
    assert!(stderr(&out).contains("always, missing, never or build"));

    p.write(
        "
services:
  made:
    image: made:test
    build: .
    command: [\"sh\", \"-c\", \"cat /stamp; exec sleep 3600\"]
",
    );
    std::fs::write(
        p.dir.join("Dockerfile"),
        "FROM busybox:test\nCOPY stamp /stamp\n",
    )
    .unwrap();
    std::fs::write(p.dir.join("stamp"), "one\n").unwrap();
    // A missing buildable image with --no-build: an error naming the
    // service, and nothing created.
    let out = p.compose(&["up", "-d", "--no-build"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("service made") && err.contains("--no-build"),
        "{err}"
    );
    assert!(p.container_dirs().is_empty());

    p.ok(&["up", "-d"]);
    assert!(p.logs_containing("one").contains("one"));
    // A built image is kept by plain `up` ...
    std::fs::write(p.dir.join("stamp"), "two\n").unwrap();
    p.ok(&["up", "-d"]);
    assert!(!p.ok(&["logs"]).contains("two"));
    // ... and rebuilt every time with `--pull build` (as `pull_policy: build`).
    p.ok(&["up", "-d", "--pull", "build"]);
    assert!(p.logs_containing("two").contains("two"));
    let (names, pids) = (p.container_dirs(), p.init_pids());
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}

#[test]
fn down_rmi_removes_local_then_all_images() {
    let p = Project::new(
        "rmi",
        "
services:
  made:
    build: .
    command: sleep 3600
  base:
    image: IMAGE
    command: sleep 3600
",
    );
    std::fs::write(
        p.dir.join("Dockerfile"),
        "FROM busybox:test\nRUN echo x > /x\n",
    )
    .unwrap();
    let images = |p: &Project| p.ok(&["image", "ls"]);
    let built = format!("{}-made ", p.name);
    p.ok(&["up", "-d"]);
    assert!(images(&p).contains(&built), "{}", images(&p));

    let plan = p.ok(&["down", "--rmi", "all", "--dry-run"]);
    assert!(
        plan.contains(&format!("remove image {}-made", p.name)),
        "{plan}"
    );
    assert!(plan.contains("remove image busybox:test"), "{plan}");
    assert!(images(&p).contains(&built), "a dry run removes nothing");

    let out = p.compose(&["down", "--rmi", "local", "-t", "0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("Image {}-made  Removed", p.name)),
        "{}",
        stderr(&out)
    );
    let left = images(&p);
    assert!(
        !left.contains(&built) && left.contains("busybox "),
        "{left}"
    );

    p.ok(&["up", "-d"]);
    let (names, pids) = (p.container_dirs(), p.init_pids());
    p.ok(&["down", "--rmi", "all", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
    let left = images(&p);
    assert!(
        !left.contains("busybox ") && !left.contains(&built),
        "{left}"
    );
    let out = p.compose(&["down", "--rmi", "some"]);
    assert!(!out.status.success());
}

#[test]
fn image_ls_and_ls_take_go_templates() {
    let p = Project::new(
        "tmpl",
        "services:\n  a:\n    image: IMAGE\n    command: sleep 3600\n",
    );
    let out = p.ok(&["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(out, "busybox:test\n");
    let out = p.ok(&[
        "image",
        "ls",
        "--format",
        "table {{.Repository}}\\t{{.Tag}}",
    ]);
    assert_eq!(out, "REPOSITORY   TAG\nbusybox      test\n");
    p.ok(&["up", "-d"]);
    let out = p.ok(&["ls", "--format", "{{.Name}} {{.Status}}"]);
    assert_eq!(out, format!("{} running(1)\n", p.name));
    let (names, pids) = (p.container_dirs(), p.init_pids());
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}
