//! `compose watch` end to end, as a child process: syncs (edits, deletions,
//! ignored files, `initial_sync`), `sync+restart`, `rebuild`, Ctrl-C
//! leaving the project up, and the selection errors. Needs root.

mod up_support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use up_support::{stderr, Project};

/// The image the watched services build: the test's busybox plus `rm`,
/// which a sync's deletions run in the container (as docker compose's).
const DOCKERFILE: &str =
    "FROM busybox:test\nRUN [\"/bin/busybox\", \"ln\", \"-s\", \"busybox\", \"/bin/rm\"]\n";

/// A `compose watch` (or `up --watch`) child whose stdout is collected as it comes.
struct Watcher {
    child: Child,
    out: Arc<Mutex<String>>,
}

impl Watcher {
    fn start(p: &Project, args: &[&str]) -> Watcher {
        let mut child = Command::new(env!("CARGO_BIN_EXE_compose"))
            .args(["-p", &p.name])
            .args(args)
            .current_dir(&p.dir)
            .env("COMPOSE_ROOT", p.compose_root())
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let out = Arc::new(Mutex::new(String::new()));
        let sink = out.clone();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut text = sink.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        let w = Watcher { child, out };
        w.wait_output("Watch enabled");
        w
    }

    fn output(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    /// Wait until the output holds `needle` (builds can take a while).
    fn wait_output(&self, needle: &str) {
        let ok = poll(Duration::from_secs(180), || self.output().contains(needle));
        assert!(
            ok,
            "no {needle:?} in the watch's output:\n{}",
            self.output()
        );
    }

    /// Ctrl-C, then the exit status.
    fn interrupt(mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "watch did not stop on SIGINT");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // Only after a failed assertion: the child we started.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Call `check` until it holds or `limit` passes.
fn poll(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    check()
}

/// `compose exec -T SERVICE CMD...`: its stdout when it succeeded.
fn exec(p: &Project, service: &str, cmd: &[&str]) -> Option<String> {
    let out = p.compose(&[&["exec", "-T", service], cmd].concat());
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A field of a container's record (`compose.json`) or state.
fn record(p: &Project, container: &str, file: &str, field: &str) -> serde_json::Value {
    let path = p.containers_dir().join(container).join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str::<serde_json::Value>(&text).unwrap()[field].clone()
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn watch_syncs_changes_restarts_and_leaves_the_project_up_on_ctrl_c() {
    let p = Project::new(
        "watch-sync",
        r#"services:
  app:
    build: .
    command: sleep 3600
    develop:
      watch:
        - path: ./src
          action: sync
          target: /app
          ignore: ["*.tmp"]
          initial_sync: true
  conf:
    build: .
    command: sleep 3600
    develop:
      watch:
        - path: ./conf
          action: sync+restart
          target: /etc/conf
"#,
    );
    write(&p.dir, "Dockerfile", DOCKERFILE);
    write(&p.dir, "src/initial.txt", "there before watching\n");
    std::fs::create_dir_all(p.dir.join("conf")).unwrap();
    let w = Watcher::start(&p, &["watch"]);
    let app = p.container("app", 1);
    let conf = p.container("conf", 1);
    // One watch per project.
    let second = p.compose(&["watch", "--no-up"]);
    assert!(!second.status.success());
    assert!(
        stderr(&second).contains("cannot take exclusive lock for project"),
        "{}",
        stderr(&second)
    );
    assert_eq!(
        exec(&p, "app", &["cat", "/app/initial.txt"]).as_deref(),
        Some("there before watching\n"),
        "initial_sync copies the files there before watching"
    );

    // An edit appears in the container; an ignored file written in the
    // same burst does not.
    write(&p.dir, "src/skip.tmp", "ignored\n");
    write(&p.dir, "src/sub/new.txt", "hello\n");
    let synced = poll(Duration::from_secs(30), || {
        exec(&p, "app", &["cat", "/app/sub/new.txt"]).as_deref() == Some("hello\n")
    });
    assert!(synced, "new.txt not synced:\n{}", w.output());
    assert_eq!(exec(&p, "app", &["test", "-e", "/app/skip.tmp"]), None);
    assert!(
        w.output().contains("Syncing service \"app\" after"),
        "{}",
        w.output()
    );

    // A deletion on the host deletes in the container.
    std::fs::remove_file(p.dir.join("src/sub/new.txt")).unwrap();
    let deleted = poll(Duration::from_secs(30), || {
        exec(&p, "app", &["test", "-e", "/app/sub/new.txt"]).is_none()
    });
    assert!(deleted, "new.txt not deleted:\n{}", w.output());

    // sync+restart: the file is there and the container was restarted.
    let pid_before = record(&p, &conf, "state.json", "pid");
    write(&p.dir, "conf/app.conf", "level=debug\n");
    w.wait_output("service(s) [\"conf\"] restarted");
    assert_eq!(
        exec(&p, "conf", &["cat", "/etc/conf/app.conf"]).as_deref(),
        Some("level=debug\n")
    );
    assert_ne!(record(&p, &conf, "state.json", "pid"), pid_before);

    // Ctrl-C ends watching; the project stays up.
    let status = w.interrupt();
    assert!(status.success(), "{status:?}");
    let lock = p.compose_root().join(format!("watch/{}.lock", p.name));
    assert!(!lock.exists(), "the watch lock is released");
    assert!(
        exec(&p, "app", &["true"]).is_some(),
        "app stopped with watch"
    );
    assert!(
        exec(&p, "conf", &["true"]).is_some(),
        "conf stopped with watch"
    );
    let names = p.container_dirs();
    assert_eq!(names, [app, conf]);
    let pids = p.init_pids();
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}

#[test]
fn watch_rebuilds_and_recreates_on_a_change_under_a_rebuild_path() {
    let p = Project::new(
        "watch-rebuild",
        r#"services:
  web:
    build: .
    command: httpd -f -p 8080 -h /www
    develop:
      watch:
        - path: ./www
          action: rebuild
"#,
    );
    write(&p.dir, "Dockerfile", "FROM busybox:test\nCOPY www /www\n");
    write(&p.dir, "www/index.html", "first\n");
    let w = Watcher::start(&p, &["watch", "--quiet"]);
    let web = p.container("web", 1);
    let fetch = || {
        exec(
            &p,
            "web",
            &["wget", "-qO-", "http://127.0.0.1:8080/index.html"],
        )
    };
    assert!(poll(Duration::from_secs(30), || fetch().as_deref()
        == Some("first\n")));
    let image_before = record(&p, &web, "compose.json", "image_id");
    let id_before = record(&p, &web, "compose.json", "id");
    let old = image_before
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    assert!(p.ok(&["image", "ls", "-q", "--no-trunc"]).contains(&old));

    write(&p.dir, "www/index.html", "second\n");
    w.wait_output("Rebuilding service(s) [\"web\"] after changes were detected...");
    let served = poll(Duration::from_secs(120), || {
        fetch().as_deref() == Some("second\n")
    });
    assert!(served, "new content not served:\n{}", w.output());
    assert_ne!(record(&p, &web, "compose.json", "image_id"), image_before);
    assert_ne!(
        record(&p, &web, "compose.json", "id"),
        id_before,
        "recreated"
    );
    w.wait_output("service(s) [\"web\"] successfully built");
    // The image the rebuild replaced is pruned once no container uses it.
    let pruned = poll(Duration::from_secs(30), || {
        !p.ok(&["image", "ls", "-q", "--no-trunc"]).contains(&old)
    });
    assert!(
        pruned,
        "{old} left: {}",
        p.ok(&["image", "ls", "--no-trunc"])
    );

    assert!(w.interrupt().success());
    let names = p.container_dirs();
    let pids = p.init_pids();
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}

#[test]
fn watch_names_services_it_cannot_watch() {
    let p = Project::new(
        "watch-errors",
        "services:\n  db:\n    image: IMAGE\n  web:\n    image: IMAGE\n    develop:\n      watch:\n        - path: ./src\n          action: restart\n",
    );
    let out = p.compose(&["watch", "--no-up", "db"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("service \"db\" is not configured for watch"),
        "{}",
        stderr(&out)
    );
    p.write("services:\n  db:\n    image: IMAGE\n");
    for args in [&["watch", "--no-up"][..], &["up", "--watch"][..]] {
        let out = p.compose(args);
        assert!(!out.status.success());
        assert!(
            stderr(&out).contains("none of the selected services is configured for watch, consider setting a 'develop' section"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    assert!(p.container_dirs().is_empty(), "nothing was started");
}

#[test]
fn up_watch_runs_sync_exec_beside_the_logs_and_ctrl_c_stops_the_project() {
    let p = Project::new(
        "watch-up",
        r#"services:
  app:
    image: IMAGE
    command: sh -c 'echo app is up; exec sleep 3600'
    develop:
      watch:
        - path: ./src
          action: sync+exec
          target: /app
          exec:
            command: ["sh", "-c", "cat /app/version > /tmp/reloaded"]
"#,
    );
    std::fs::create_dir_all(p.dir.join("src")).unwrap();
    let w = Watcher::start(&p, &["up", "--watch"]);
    w.wait_output("app is up");
    write(&p.dir, "src/version", "v2\n");
    let reloaded = poll(Duration::from_secs(30), || {
        exec(&p, "app", &["cat", "/tmp/reloaded"]).as_deref() == Some("v2\n")
    });
    assert!(
        reloaded,
        "the exec did not run after the sync:\n{}",
        w.output()
    );
    let names = p.container_dirs();
    let pids = p.init_pids();
    // Ctrl-C stops the attached `up`, watch and all, as without --watch.
    let status = w.interrupt();
    assert_eq!(status.code(), Some(130));
    assert!(exec(&p, "app", &["true"]).is_none(), "app still runs");
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}

/// A rebuild recreates the container `up` follows: `up` keeps following
/// the new one instead of ending when the old one stops.
#[test]
fn up_watch_keeps_following_services_a_rebuild_recreates() {
    let p = Project::new(
        "watch-up-rebuild",
        r#"services:
  web:
    build: .
    command: httpd -f -p 8080 -h /www
    develop:
      watch:
        - path: ./www
          action: rebuild
"#,
    );
    write(&p.dir, "Dockerfile", "FROM busybox:test\nCOPY www /www\n");
    write(&p.dir, "www/index.html", "first\n");
    let mut w = Watcher::start(&p, &["up", "--watch"]);
    let fetch = || {
        exec(
            &p,
            "web",
            &["wget", "-qO-", "http://127.0.0.1:8080/index.html"],
        )
    };
    for n in 0..3 {
        let want = format!("v{n}\n");
        write(&p.dir, "www/index.html", &want);
        let served = poll(Duration::from_secs(60), || {
            fetch().as_deref() == Some(&want)
        });
        assert!(served, "{want:?} not served:\n{}", w.output());
        assert!(
            w.child.try_wait().unwrap().is_none(),
            "up ended:\n{}",
            w.output()
        );
    }
    let names = p.container_dirs();
    let pids = p.init_pids();
    assert_eq!(w.interrupt().code(), Some(130));
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}
