//! What the `logs -f` tests and the logs benchmark share: a project of
//! services that print sequence numbers, `logs -f` run as a child whose
//! output is collected on a thread, and the check that each container's
//! numbers arrived complete, once and in order.
#![allow(dead_code)]

use super::up_support::Project;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// A Compose file of `services` services `s0`, `s1`, ... each running
/// `script` (a shell script; `$$` for a literal `$`).
pub fn numbered_services(services: usize, script: &str) -> String {
    let mut yaml = String::from("services:\n");
    for i in 0..services {
        yaml.push_str(&format!(
            "  s{i}:\n    image: IMAGE\n    command: [\"sh\", \"-c\", {script:?}]\n"
        ));
    }
    yaml
}

/// `compose logs -f ARGS` running, its stdout lines collected.
pub struct Follower {
    pub child: Child,
    pub lines: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Follower {
    pub fn start(p: &Project, args: &[&str]) -> Follower {
        let mut child = Command::new(env!("CARGO_BIN_EXE_compose"))
            .args(["-p", &p.name, "logs", "-f", "--no-color"])
            .args(args)
            .current_dir(&p.dir)
            .env("COMPOSE_ROOT", p.root.path())
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().unwrap();
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Follower {
            child,
            lines,
            reader: Some(reader),
        }
    }

    /// The lines so far.
    pub fn text(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Wait until `pred` holds for the lines so far, at most `secs`.
    pub fn wait_for(&self, secs: u64, pred: impl Fn(&[String]) -> bool) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while std::time::Instant::now() < deadline {
            if pred(&self.lines.lock().unwrap()) {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        pred(&self.lines.lock().unwrap())
    }

    /// Wait for `logs -f` to end by itself (at most `secs`, then kill it);
    /// returns whether it ended by itself, and all its lines.
    pub fn finish(mut self, secs: u64) -> (bool, Vec<String>) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        let mut ended = false;
        while std::time::Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                ended = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        if !ended {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        let lines = self.lines.lock().unwrap().clone();
        (ended, lines)
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Per container (the `s3-1` prefix), the numbers it printed, in order.
pub fn numbers_by_container(lines: &[String]) -> BTreeMap<String, Vec<u64>> {
    let mut by: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for line in lines {
        let Some((prefix, text)) = line.split_once(" | ") else {
            continue;
        };
        if let Ok(n) = text.trim().parse() {
            by.entry(prefix.trim().to_string()).or_default().push(n);
        }
    }
    by
}

/// How the numbers of one container differ from 1..=expected.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Damage {
    pub lost: usize,
    pub duplicated: usize,
    pub out_of_order: usize,
}

pub fn damage(numbers: &[u64], expected: u64) -> Damage {
    let mut seen = vec![false; expected as usize + 1];
    let mut d = Damage::default();
    for (i, n) in numbers.iter().enumerate() {
        if i > 0 && *n <= numbers[i - 1] {
            d.out_of_order += 1;
        }
        match seen.get_mut(*n as usize) {
            Some(s) if *s => d.duplicated += 1,
            Some(s) => *s = true,
            None => d.out_of_order += 1,
        }
    }
    d.lost = seen[1..].iter().filter(|s| !**s).count();
    d
}
