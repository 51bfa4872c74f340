//! `compose up -d` of chained services, then ps, logs, exec, a second `up`
//! that changes nothing, a changed environment variable that recreates only
//! its service, and `down` leaving nothing behind. Needs root.

mod up_support;

use up_support::{stderr, Project};

const CHAIN: &str = r#"
services:
  db:
    image: IMAGE
    command: sh -c 'echo db is up; exec sleep 3600'
  app:
    image: IMAGE
    command: sh -c 'echo app sees $$GREETING; exec sleep 3600'
    environment:
      GREETING: hello
    depends_on: [db]
  web:
    image: IMAGE
    command: ["sh", "-c", "echo web is up; exec sleep 3600"]
    depends_on: [app]
"#;

#[test]
fn up_ps_logs_exec_recreate_and_down() {
    let p = Project::new("chain", CHAIN);
    let up = p.compose(&["up", "-d"]);
    assert!(up.status.success(), "{}", stderr(&up));
    let progress = stderr(&up);
    // Dependencies start first.
    let db = progress.find(&format!("Container {}  Started", p.container("db", 1)));
    let web = progress.find(&format!("Container {}  Started", p.container("web", 1)));
    assert!(db.is_some() && web.is_some() && db < web, "{progress}");

    let ps = p.ok(&["ps"]);
    for service in ["db", "app", "web"] {
        let line = ps
            .lines()
            .find(|l| l.starts_with(&p.container(service, 1)))
            .unwrap_or_else(|| panic!("{service} not in ps:\n{ps}"));
        assert!(line.contains(" Up "), "{line}");
    }
    let services = p.ok(&["ps", "--services"]);
    assert_eq!(services, "app\ndb\nweb\n");

    let logs = p.logs_containing("web is up");
    assert!(logs.contains("db-1  | db is up"), "{logs}");
    assert!(logs.contains("app-1 | app sees hello"), "{logs}");

    let exec = p.compose(&[
        "exec",
        "-T",
        "app",
        "sh",
        "-c",
        "test \"$GREETING\" = hello && exit 7",
    ]);
    assert_eq!(exec.status.code(), Some(7), "{}", stderr(&exec));

    // A second `up` has nothing to do.
    assert_eq!(p.ok(&["up", "-d", "--dry-run"]), "");
    let again = p.compose(&["up", "-d"]);
    assert!(again.status.success());
    assert!(!stderr(&again).contains("Created"), "{}", stderr(&again));

    // A changed variable recreates only its service, and says why.
    p.write(&CHAIN.replace("GREETING: hello", "GREETING: bonjour"));
    let plan = p.ok(&["up", "-d", "--dry-run"]);
    assert!(
        plan.contains(&format!(
            "stop container {} (config changed: environment.GREETING)",
            p.container("app", 1)
        )),
        "{plan}"
    );
    assert!(!plan.contains("db-1") && !plan.contains("web-1"), "{plan}");
    let recreate = p.compose(&["up", "-d"]);
    assert!(recreate.status.success(), "{}", stderr(&recreate));
    let log = p.logs_containing("app sees bonjour");
    assert!(log.contains("app sees bonjour"), "{log}");

    let names: Vec<String> = p.container_dirs();
    let pids = p.init_pids();
    assert_eq!(pids.len(), 3);
    let down = p.compose(&["down"]);
    assert!(down.status.success(), "{}", stderr(&down));
    p.assert_nothing_left(&names, &pids);
}

#[test]
/// `sleep` as PID 2 under our init dies from the forwarded SIGTERM: `down`
/// must not sit out the 10 s grace period and SIGKILL. (How fast `down`
/// is lives in benches/up.rs; the bound here only tells the two apart.)
fn down_of_ten_sleeping_services_does_not_wait_for_the_grace_period() {
    let mut yaml = String::from("services:\n");
    for i in 0..10 {
        yaml.push_str(&format!(
            "  s{i}:\n    image: IMAGE\n    command: sleep 3600\n"
        ));
    }
    let p = Project::new("ten", &yaml);
    p.ok(&["up", "-d"]);
    let names = p.container_dirs();
    let pids = p.init_pids();
    assert_eq!(pids.len(), 10);
    let start = std::time::Instant::now();
    p.ok(&["down"]);
    let took = start.elapsed();
    assert!(
        took < std::time::Duration::from_secs(8),
        "down took {took:?}"
    );
    p.assert_nothing_left(&names, &pids);
}

#[test]
fn named_volumes_are_seeded_from_the_image_and_kept_until_down_v() {
    let p = Project::new(
        "vol",
        "services:\n  a:\n    image: IMAGE\n    command: sh -c 'cat /data/seed.txt; echo more > /data/new.txt; exec sleep 3600'\n    volumes: [store:/data]\nvolumes:\n  store: {}\n",
    );
    p.ok(&["up", "-d"]);
    let logs = p.logs_containing("from the image");
    assert!(logs.contains("from the image"), "{logs}");
    let data = p
        .root
        .path()
        .join("volumes")
        .join(format!("{}_store/_data", p.name));
    assert!(data.join("seed.txt").exists());
    p.ok(&["down"]);
    assert!(data.exists(), "down without -v keeps volumes");
    p.ok(&["up", "-d"]);
    p.ok(&["down", "-v"]);
    assert!(!data.exists(), "down -v removes them");
}

#[test]
fn a_new_image_under_the_same_tag_recreates_the_container() {
    let p = Project::new(
        "newimage",
        "services:\n  a:\n    image: IMAGE\n    command: sleep 3600\n",
    );
    p.ok(&["up", "-d"]);
    // Another image under the same tag: the test's tarball plus one file.
    let rootfs = p.root.path().join("rootfs");
    std::fs::write(rootfs.join("etc/version"), "2\n").unwrap();
    let tar = p.root.path().join("busybox2.tar");
    let ok = std::process::Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap()
        .success();
    assert!(ok);
    p.ok(&["image", "import", tar.to_str().unwrap(), "busybox:test"]);
    let plan = p.ok(&["up", "-d", "--dry-run"]);
    assert!(
        plan.starts_with(&format!(
            "1. stop container {} (config changed: image)",
            p.container("a", 1)
        )),
        "{plan}"
    );
    p.ok(&["up", "-d"]);
    assert_eq!(p.ok(&["up", "-d", "--dry-run"]), "");
    p.ok(&["down"]);
}

/// `post_start` runs in the container after it started (with the hook's
/// user, working dir and environment), `pre_stop` before the stop signal;
/// a failing hook fails the command with its exit status and output.
#[test]
fn post_start_and_pre_stop_hooks_run_in_the_container() {
    let p = Project::new(
        "hooks",
        "
volumes:
  marks: {}
services:
  s:
    image: IMAGE
    command: sleep 3600
    volumes: [\"marks:/marks\"]
    post_start:
      - command: [\"sh\", \"-c\", \"echo \\\"started $$HOOK in $$(pwd)\\\" > /marks/post\"]
        working_dir: /tmp
        environment:
          HOOK: post
    pre_stop:
      - command: [\"sh\", \"-c\", \"echo stopping > /marks/pre\"]
",
    );
    p.ok(&["up", "-d"]);
    let marks = p
        .root
        .path()
        .join(format!("volumes/{}_marks/_data", p.name));
    assert_eq!(
        std::fs::read_to_string(marks.join("post")).unwrap(),
        "started post in /tmp\n"
    );
    assert!(!marks.join("pre").exists());
    p.ok(&["stop", "-t", "1"]);
    assert_eq!(
        std::fs::read_to_string(marks.join("pre")).unwrap(),
        "stopping\n"
    );
    p.ok(&["down", "-v"]);

    p.write(
        "
services:
  s:
    image: IMAGE
    command: sleep 3600
    post_start:
      - command: [\"sh\", \"-c\", \"echo no database >&2; exit 3\"]
",
    );
    let out = p.compose(&["up", "-d"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("post_start hook exited with status 3: no database"),
        "{err}"
    );
    let names = p.container_dirs();
    let pids = p.init_pids();
    p.ok(&["down", "-t", "1"]);
    p.assert_nothing_left(&names, &pids);
}

/// `up --no-deps web` starts web alone, even with a healthy-condition
/// dependency; plain `up web` brings the dependency too.
#[test]
fn up_no_deps_leaves_the_dependencies_alone() {
    let p = Project::new(
        "nodeps",
        "
services:
  db:
    image: IMAGE
    command: sleep 3600
  web:
    image: IMAGE
    command: sleep 3600
    depends_on:
      db:
        condition: service_started
",
    );
    p.ok(&["up", "-d", "--no-deps", "web"]);
    assert_eq!(p.container_dirs(), [p.container("web", 1)]);
    p.ok(&["up", "-d", "web"]);
    assert_eq!(
        p.container_dirs(),
        [p.container("db", 1), p.container("web", 1)]
    );
    let names = p.container_dirs();
    let pids = p.init_pids();
    p.ok(&["down", "-t", "1"]);
    p.assert_nothing_left(&names, &pids);
}
