//! `compose images`, `compose volumes` and `logs --since/--until/--index`
//! on a running project. Needs root.

mod up_support;

use up_support::{stderr, Project};

const YAML: &str = "
services:
  web:
    image: IMAGE
    command: [\"sh\", \"-c\", \"echo early-$$HOSTNAME; sleep 2; echo late-$$HOSTNAME; exec sleep 3600\"]
    deploy:
      replicas: 2
    volumes:
      - shared:/shared
      - /scratch
  idle:
    image: IMAGE
    command: sleep 3600
volumes:
  shared: {}
  unused: {}
";

#[test]
fn images_and_volumes_list_what_the_project_uses() {
    let p = Project::new("listing", YAML);
    p.ok(&["up", "-d"]);
    let name = &p.name;

    let images = p.ok(&["images"]);
    let lines: Vec<&str> = images.lines().collect();
    assert!(
        lines[0].starts_with("CONTAINER") && lines[0].contains("IMAGE ID"),
        "{images}"
    );
    assert_eq!(lines.len(), 4, "a row a container: {images}");
    assert!(lines[1].starts_with(&format!("{name}-idle-1 ")), "{images}");
    assert!(
        lines[1].contains(" busybox ") && lines[1].contains(" test "),
        "{images}"
    );
    let ids = p.ok(&["images", "-q"]);
    assert_eq!(ids.lines().count(), 1, "one image, listed once: {ids}");
    let json = p.ok(&["images", "--format", "json", "web"]);
    let rows: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .all(|r| r["ID"].as_str().unwrap().ends_with(ids.trim())));
    let out = p.compose(&["images", "nope"]);
    assert!(stderr(&out).contains("no such service: nope"));

    // Declared volumes that exist and the containers' anonymous ones; an
    // unused declared volume was created by `up` as docker compose does.
    let all = p.ok(&["volumes", "-q"]);
    let all: Vec<&str> = all.lines().collect();
    assert!(all.contains(&format!("{name}_shared").as_str()), "{all:?}");
    assert!(all.contains(&format!("{name}_unused").as_str()), "{all:?}");
    assert_eq!(all.len(), 4, "two named, two anonymous: {all:?}");
    let idle = p.ok(&["volumes", "idle"]);
    assert_eq!(idle, "DRIVER    VOLUME NAME\n", "idle mounts none");
    let web = p.ok(&["volumes", "--format", "{{.Driver}} {{.Name}}", "web"]);
    assert_eq!(web.lines().count(), 3, "{web}");
    assert!(web.lines().all(|l| l.starts_with("local ")), "{web}");

    let (names, pids) = (p.container_dirs(), p.init_pids());
    p.ok(&["down", "-v", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
    assert!(p.ok(&["volumes", "-q"]).is_empty());
}

#[test]
fn logs_since_until_and_index() {
    let p = Project::new("logwin", YAML);
    p.ok(&["up", "-d", "web"]);
    // Both replicas have printed both lines.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while p.ok(&["logs", "web"]).matches("late-").count() < 2 {
        assert!(std::time::Instant::now() < deadline, "no late lines");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let stamped = p.ok(&[
        "logs",
        "--timestamps",
        "--no-log-prefix",
        "--index",
        "2",
        "web",
    ]);
    let lines: Vec<&str> = stamped.lines().collect();
    assert_eq!(lines.len(), 2, "replica 2 only: {stamped}");
    let (early_time, late_time) = (
        lines[0].split(' ').next().unwrap(),
        lines[1].split(' ').next().unwrap(),
    );
    assert!(lines[0].contains("early-") && lines[1].contains("late-"));

    // The window [late, ...) holds only the late line; [..., late) only
    // the early one; the tail counts within the window.
    let since = p.ok(&[
        "logs",
        "--no-log-prefix",
        "--index",
        "2",
        "--since",
        late_time,
        "web",
    ]);
    assert!(
        since.starts_with("late-") && since.lines().count() == 1,
        "{since}"
    );
    let until = p.ok(&[
        "logs",
        "--no-log-prefix",
        "--index",
        "2",
        "--until",
        late_time,
        "web",
    ]);
    assert!(
        until.starts_with("early-") && until.lines().count() == 1,
        "{until}"
    );
    let both = p.ok(&[
        "logs",
        "--no-log-prefix",
        "--since",
        early_time,
        "--tail",
        "1",
        "web",
    ]);
    assert_eq!(both.lines().count(), 2, "one line a replica: {both}");
    assert!(
        p.ok(&["logs", "--since", "1h", "web"])
            .matches("early-")
            .count()
            == 2
    );
    assert!(p.ok(&["logs", "--until", "1h", "web"]).is_empty());

    let out = p.compose(&["logs", "--since", "yesterday"]);
    assert!(
        stderr(&out).contains("--since \"yesterday\": not a time"),
        "{}",
        stderr(&out)
    );
    let out = p.compose(&["logs", "--index", "9", "web"]);
    assert!(stderr(&out).contains("--index 9"), "{}", stderr(&out));

    let (names, pids) = (p.container_dirs(), p.init_pids());
    p.ok(&["down", "-v", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}
