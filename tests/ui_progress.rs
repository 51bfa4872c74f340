//! The progress display of `up` and `down` in each `--progress` mode:
//! plain lines when stderr is not a terminal (what scripts read), nothing
//! with `quiet`, one JSON object per event with `json` (docker compose's
//! shape), and in-place redrawn lines with a spinner, ✔ and elapsed times
//! on a terminal (a pty). Needs root.

mod up_support;

use std::io::Read;
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use up_support::{stderr, Project};

const YAML: &str = "services:
  web:
    image: IMAGE
    command: [\"sleep\", \"1000\"]
  db:
    image: IMAGE
    command: [\"sleep\", \"1000\"]
";

#[test]
fn plain_progress_is_one_line_per_step_event_and_quiet_prints_none() {
    let p = Project::new("plain", YAML);
    let out = p.compose(&["up", "-d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stderr(&out);
    for service in ["web", "db"] {
        let name = p.container(service, 1);
        // docker compose's plain writer prints each step as it begins and
        // as it ends, in that order.
        let lines = [
            format!(" Container {name}  Creating\n"),
            format!(" ✔ Container {name}  Created\n"),
            format!(" Container {name}  Starting\n"),
            format!(" ✔ Container {name}  Started\n"),
        ];
        let at: Vec<usize> = lines
            .iter()
            .map(|l| {
                text.find(l.as_str())
                    .unwrap_or_else(|| panic!("{l:?} in {text}"))
            })
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    }
    let out = p.compose(&["--progress", "quiet", "down", "-t", "0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "quiet prints nothing");
    assert!(p.container_dirs().is_empty());
}

/// The JSON events of one run, as (id, status, text).
fn json_events(text: &str) -> Vec<(String, String, String)> {
    text.lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?} in {text}"));
            let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            (field("id"), field("status"), field("text"))
        })
        .collect()
}

#[test]
fn json_progress_is_one_object_per_event_working_then_done() {
    let p = Project::new("json", YAML);
    let out = p.compose(&["--progress", "json", "up", "-d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = json_events(&stderr(&out));
    for service in ["web", "db"] {
        let id = format!("Container {}", p.container(service, 1));
        let mine: Vec<(&str, &str)> = events
            .iter()
            .filter(|(i, _, _)| *i == id)
            .map(|(_, s, t)| (s.as_str(), t.as_str()))
            .collect();
        assert_eq!(
            mine,
            [
                ("Working", "Creating"),
                ("Done", "Created"),
                ("Working", "Starting"),
                ("Done", "Started")
            ],
            "{events:?}"
        );
    }
    // COMPOSE_PROGRESS chooses the mode when the flag is absent.
    let out = Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(["-p", &p.name, "down", "-t", "0"])
        .current_dir(&p.dir)
        .env("COMPOSE_ROOT", p.root.path())
        .env("COMPOSE_PROGRESS", "json")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let events = json_events(&stderr(&out));
    let web = format!("Container {}", p.container("web", 1));
    assert!(
        events.contains(&(web.clone(), "Done".into(), "Removed".into())),
        "{events:?}"
    );
    assert!(p.container_dirs().is_empty());
}

#[test]
fn progress_modes_that_contradict_ansi_or_are_unknown_are_refused() {
    let p = Project::new("badmode", YAML);
    let out = p.compose(&["--progress", "tty", "--ansi", "never", "up", "-d"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--ansi never"), "{}", stderr(&out));
    // COMPOSE_ANSI stands for --ansi, as in docker compose.
    let out = Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(["-p", &p.name, "--progress", "plain", "up", "-d"])
        .current_dir(&p.dir)
        .env("COMPOSE_ROOT", p.root.path())
        .env("COMPOSE_ANSI", "always")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--ansi always"), "{}", stderr(&out));
    let out = Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(["-p", &p.name, "up", "-d"])
        .current_dir(&p.dir)
        .env("COMPOSE_ROOT", p.root.path())
        .env("COMPOSE_PROGRESS", "fancy")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("COMPOSE_PROGRESS=\"fancy\" is not a progress mode"),
        "{}",
        stderr(&out)
    );
    assert!(p.container_dirs().is_empty(), "nothing was created");
}

/// Run `compose ARGS` with stderr on a pty; returns what it drew.
fn on_a_terminal(p: &Project, args: &[&str]) -> String {
    let size = nix::pty::Winsize {
        ws_row: 24,
        ws_col: 100,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = nix::pty::openpty(Some(&size), None).unwrap();
    let mut master = std::fs::File::from(pty.master);
    let slave: OwnedFd = pty.slave;
    let mut child = Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(["-p", &p.name])
        .args(args)
        .current_dir(&p.dir)
        .env("COMPOSE_ROOT", p.root.path())
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(slave))
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let status = child.wait().unwrap();
    let mut drawn = Vec::new();
    // The supervisor the command started may hold the pty too: read what
    // is there, not until the end.
    while let Ok(chunk) = rx.recv_timeout(Duration::from_millis(300)) {
        drawn.extend(chunk);
    }
    let text = String::from_utf8_lossy(&drawn).into_owned();
    assert!(status.success(), "compose {args:?}: {text}");
    text
}

#[test]
fn on_a_terminal_each_object_has_a_line_redrawn_in_place_with_its_time() {
    let p = Project::new("tty", YAML);
    let text = on_a_terminal(&p, &["up", "-d"]);
    // A network and two containers, each counted once though each went
    // through two steps (create, start).
    assert!(text.contains("[+] Running 3/3"), "{text:?}");
    assert!(!text.contains("Running 4/3"), "{text:?}");
    assert!(
        text.contains("\u{1b}[1A") || text.contains("\u{1b}[2K"),
        "redrawn in place: {text:?}"
    );
    for service in ["web", "db"] {
        let name = p.container(service, 1);
        assert!(
            text.contains(&format!("Container {name}  Started")),
            "{text:?}"
        );
    }
    assert!(text.contains("✔"), "{text:?}");
    // The elapsed time of a finished line: `0.1s`.
    let timed = text
        .split(|c: char| c.is_whitespace() || c == '\u{1b}')
        .any(|w| {
            w.strip_suffix('s')
                .and_then(|n| n.split_once('.'))
                .is_some_and(|(a, b)| {
                    !a.is_empty()
                        && a.chars().all(|c| c.is_ascii_digit())
                        && b.len() == 1
                        && b.chars().all(|c| c.is_ascii_digit())
                })
        });
    assert!(timed, "an elapsed time like 0.3s: {text:?}");
    let text = on_a_terminal(&p, &["down", "-t", "0"]);
    assert!(
        text.contains(&format!("Container {}  Removed", p.container("web", 1))),
        "{text:?}"
    );
    assert!(p.container_dirs().is_empty());
}
