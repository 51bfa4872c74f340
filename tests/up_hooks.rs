//! Lifecycle hooks under `up`: `pre_start` init containers run in order
//! before the service's container, on its networks and volumes, once per
//! container; a failing one stops `up` with the service, the hook's index,
//! its exit code and its output; `privileged` hooks get every capability
//! whatever the container's set. Needs root.

mod up_support;

use up_support::{stderr, Project};

const PRE_START: &str = r#"services:
  db:
    image: IMAGE
    command: ["httpd", "-f", "-p", "80", "-h", "/data"]
  app:
    image: IMAGE
    depends_on: [db]
    cap_drop: [ALL]
    environment:
      FROM_SERVICE: svc
    volumes:
      - shared:/shared
    pre_start:
      - command: ["sh", "-c", "echo first $$FROM_SERVICE >> /shared/order"]
      - command: ["sh", "-c", "echo second $$HOOK_VAR >> /shared/order && wget -q -O /shared/fetched http://db/seed.txt"]
        environment:
          HOOK_VAR: from-hook
      - command: ["sh", "-c", "grep CapEff /proc/self/status > /shared/caps"]
        privileged: true
    command: ["sh", "-c", "cat /shared/order; exec sleep 1000"]
volumes:
  shared:
"#;

/// Whether a `CapEff` mask holds CAP_SYS_ADMIN (21) and CAP_NET_ADMIN
/// (12), which Docker's default set leaves out and a privileged process
/// has (the host's bounding set may lack others, so not all bits).
fn is_privileged(mask: &str) -> bool {
    let bits = u64::from_str_radix(mask, 16).unwrap_or_else(|e| panic!("{mask}: {e}"));
    bits & (1 << 21) != 0 && bits & (1 << 12) != 0
}

/// The value of a `CapEff:` line.
fn cap_eff(text: &str) -> String {
    text.trim()
        .strip_prefix("CapEff:")
        .unwrap_or_else(|| panic!("no CapEff in {text:?}"))
        .trim()
        .to_string()
}

#[test]
fn pre_start_hooks_run_in_order_on_the_services_networks_and_volumes() {
    let p = Project::new("prestart", PRE_START);
    p.ok(&["up", "-d"]);
    // The workload printed what the hooks left, so they ran before it.
    let logs = p.logs_containing("second");
    assert!(
        logs.contains("first svc\n") && logs.contains("second from-hook\n"),
        "{logs}"
    );
    let first = logs.find("first svc").unwrap();
    assert!(first < logs.find("second from-hook").unwrap(), "{logs}");
    // The second hook reached `db` by name on the service's network.
    let fetched = p.ok(&["exec", "-T", "app", "cat", "/shared/fetched"]);
    assert_eq!(fetched, "from the image\n");
    // The privileged hook had every capability, the container has none.
    let hook_caps = cap_eff(&p.ok(&["exec", "-T", "app", "cat", "/shared/caps"]));
    let own_caps = cap_eff(&p.ok(&["exec", "-T", "app", "grep", "CapEff", "/proc/self/status"]));
    assert_eq!(own_caps, "0000000000000000");
    assert_ne!(hook_caps, own_caps);
    assert!(is_privileged(&hook_caps), "{hook_caps}");

    // Neither another `up` nor a restart of the same container runs them
    // again; a recreated container does.
    p.ok(&["up", "-d"]);
    p.ok(&["restart", "app"]);
    let order = p.ok(&["exec", "-T", "app", "cat", "/shared/order"]);
    assert_eq!(order, "first svc\nsecond from-hook\n");
    p.ok(&["up", "-d", "--force-recreate", "app"]);
    let order = p.ok(&["exec", "-T", "app", "cat", "/shared/order"]);
    assert_eq!(order, "first svc\nsecond from-hook\n".repeat(2));

    let names = [p.container("app", 1), p.container("db", 1)];
    let hook_cgroups: Vec<String> = (0..3)
        .map(|i| format!("{}-pre_start-{i}", names[0]))
        .collect();
    let pids = p.init_pids();
    p.ok(&["down", "-t", "0", "-v"]);
    let mut all: Vec<String> = names.to_vec();
    all.extend(hook_cgroups);
    p.assert_nothing_left(&all, &pids);
}

#[test]
fn a_failing_pre_start_hook_stops_up_and_names_the_hook() {
    let p = Project::new(
        "prestartfail",
        r#"services:
  app:
    image: IMAGE
    command: ["sleep", "1000"]
    pre_start:
      - command: ["true"]
      - command: ["sh", "-c", "echo working; echo migration failed >&2; exit 3"]
"#,
    );
    let out = p.compose(&["up", "-d"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("service app pre_start[1] exited with code 3"),
        "{err}"
    );
    assert!(err.contains("migration failed"), "{err}");
    assert!(!err.contains("working"), "stderr is preferred: {err}");
    // The service's container never ran.
    assert_eq!(p.ok(&["ps", "-q"]), "");
    let name = p.container("app", 1);
    let hooks: Vec<String> = (0..2).map(|i| format!("{name}-pre_start-{i}")).collect();
    p.ok(&["down", "-t", "0"]);
    let mut all = vec![name];
    all.extend(hooks);
    p.assert_nothing_left(&all, &[]);
}

#[test]
fn privileged_exec_hooks_run_with_every_capability() {
    let p = Project::new(
        "privhooks",
        r#"services:
  web:
    image: IMAGE
    command: ["sleep", "1000"]
    cap_drop: [ALL]
    post_start:
      - command: ["sh", "-c", "grep CapEff /proc/self/status > /tmp/privileged"]
        privileged: true
      - command: ["sh", "-c", "grep CapEff /proc/self/status > /tmp/plain"]
"#,
    );
    p.ok(&["up", "-d"]);
    let privileged = cap_eff(&p.ok(&["exec", "-T", "web", "cat", "/tmp/privileged"]));
    let plain = cap_eff(&p.ok(&["exec", "-T", "web", "cat", "/tmp/plain"]));
    assert_eq!(plain, "0000000000000000");
    assert!(is_privileged(&privileged), "{privileged}");
    let names = [p.container("web", 1)];
    let pids = p.init_pids();
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}

#[test]
fn down_ends_a_pre_start_hook_that_never_finishes() {
    let p = Project::new(
        "prestarthang",
        r#"services:
  app:
    image: IMAGE
    command: ["sleep", "1000"]
    pre_start:
      - command: ["sleep", "1000"]
"#,
    );
    let mut up = std::process::Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(["-p", &p.name, "up", "-d"])
        .current_dir(&p.dir)
        .env("COMPOSE_ROOT", p.root.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let name = p.container("app", 1);
    let hook_state = p
        .containers_dir()
        .join(&name)
        .join("pre_start-0/state.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !hook_state.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the hook never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The user gives up on `up` (its supervisor still waits for the hook).
    up.kill().unwrap();
    up.wait().unwrap();
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&[name.clone(), format!("{name}-pre_start-0")], &[]);
}

#[test]
fn a_hook_runs_from_its_own_image_and_a_missing_one_is_named() {
    let p = Project::new(
        "prestartimage",
        r#"services:
  app:
    image: IMAGE
    command: ["sh", "-c", "cat /shared/from; exec sleep 1000"]
    volumes: [shared:/shared]
    pre_start:
      - image: hookimg:1
        command: ["sh", "-c", "cat /marker > /shared/from"]
volumes:
  shared:
"#,
    );
    // A second image: busybox with a file of its own.
    let rootfs = p.root.path().join("hook-rootfs");
    std::fs::create_dir_all(&rootfs).unwrap();
    std::fs::write(rootfs.join("marker"), "from the hook image\n").unwrap();
    let tar = p.root.path().join("hook.tar");
    let base = p.root.path().join("busybox.tar");
    std::fs::copy(&base, &tar).unwrap();
    let status = std::process::Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-rf")
        .arg(&tar)
        .arg("./marker")
        .status()
        .unwrap();
    assert!(status.success());
    p.ok(&["image", "import", tar.to_str().unwrap(), "hookimg:1"]);
    p.ok(&["up", "-d"]);
    let logs = p.logs_containing("from the hook image");
    assert!(logs.contains("from the hook image"), "{logs}");
    let names = [p.container("app", 1)];
    let pids = p.init_pids();
    p.ok(&["down", "-t", "0", "-v"]);
    p.assert_nothing_left(&names, &pids);

    p.write(
        r#"services:
  app:
    image: IMAGE
    pull_policy: never
    command: ["sleep", "1000"]
    pre_start:
      - image: nothere:1
        command: ["true"]
"#,
    );
    let out = p.compose(&["up", "-d"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("service app pre_start[0]: image nothere:1"),
        "{err}"
    );
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &[]);
}
