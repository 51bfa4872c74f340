//! `compose run` beyond the basics: `--service-ports` publishes the
//! service's ports and `-p/--publish` others through the supervisor's
//! proxies (plain `run` publishes none), and our stdin feeds the one-off
//! container's, end of input included, as `docker compose run` does with a
//! pipe. Needs root.

mod up_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use up_support::{stderr, Project};

/// A port nothing listens on now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The body of `GET /seed.txt` on `addr`, once something answers.
fn fetch_seed(addr: SocketAddr) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(body) = get(addr) {
            return body;
        }
        assert!(Instant::now() < deadline, "nothing answered on {addr}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn get(addr: SocketAddr) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET /seed.txt HTTP/1.0\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let body = text.split_once("\r\n\r\n")?.1.to_string();
    text.contains("200 OK").then_some(body)
}

fn refused(addr: SocketAddr) -> bool {
    TcpStream::connect(addr).is_err()
}

#[test]
fn service_ports_and_publish_are_reached_through_the_proxy() {
    let (service_port, extra_port) = (free_port(), free_port());
    let p = Project::new(
        "runports",
        &format!(
            "services:\n  web:\n    image: IMAGE\n    ports: [\"127.0.0.1:{service_port}:80\"]\n    command: [\"httpd\", \"-f\", \"-p\", \"80\", \"-h\", \"/data\"]\n"
        ),
    );
    let service_addr: SocketAddr = format!("127.0.0.1:{service_port}").parse().unwrap();
    let extra_addr: SocketAddr = format!("127.0.0.1:{extra_port}").parse().unwrap();

    // Without a flag: nothing published.
    p.ok(&["run", "-d", "--name", &format!("{}-plain", p.name), "web"]);
    let plain = p.container_dirs();
    assert_eq!(plain.len(), 1, "{plain:?}");
    assert!(
        refused(service_addr),
        "plain run published the service's port"
    );
    p.ok(&["rm", "-s", "-f", "web"]);

    p.ok(&["run", "-d", "--service-ports", "web"]);
    assert_eq!(fetch_seed(service_addr), "from the image\n");
    p.ok(&["rm", "-s", "-f", "web"]);
    assert!(p.container_dirs().is_empty(), "{:?}", p.container_dirs());

    // `-p` after `run` is --publish (the project's -p goes before it).
    let spec = format!("127.0.0.1:{extra_port}:80");
    p.ok(&["run", "-d", "-p", &spec, "web"]);
    assert_eq!(fetch_seed(extra_addr), "from the image\n");
    assert!(
        refused(service_addr),
        "--publish replaces the service's ports"
    );

    let both = p.compose(&["run", "-d", "-P", "--publish", &spec, "web"]);
    assert!(!both.status.success());
    assert!(stderr(&both).contains("--publish"), "{}", stderr(&both));

    let names = p.container_dirs();
    let pids = p.init_pids();
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
    assert!(refused(extra_addr));
}

/// `compose run --rm ARGS` with `input` on its stdin: (exit code, stdout).
fn run_with_stdin(p: &Project, args: &[&str], input: &[u8]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(["-p", &p.name, "run", "--rm"])
        .args(args)
        .current_dir(&p.dir)
        .env("COMPOSE_ROOT", p.root.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        out.status.success() || out.status.code().is_some(),
        "{}",
        stderr(&out)
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn run_feeds_our_stdin_to_the_container_and_ends_it() {
    let p = Project::new(
        "runstdin",
        "services:\n  cat:\n    image: IMAGE\n    command: [\"cat\"]\n",
    );
    let (code, out) = run_with_stdin(&p, &["-T", "cat"], b"hello\nworld\n");
    assert_eq!((code, out.as_str()), (Some(0), "hello\nworld\n"));

    // More than a pipe holds: the writer waits for the reader.
    let many = "x\n".repeat(100_000);
    let (code, out) = run_with_stdin(
        &p,
        &["cat", "sh", "-c", "grep -c x; exit 3"],
        many.as_bytes(),
    );
    assert_eq!((code, out.as_str()), (Some(3), "100000\n"));

    // --interactive=false: the container's stdin is empty.
    let (code, out) = run_with_stdin(&p, &["--interactive=false", "cat"], b"ignored\n");
    assert_eq!((code, out.as_str()), (Some(0), ""));

    assert!(p.container_dirs().is_empty(), "{:?}", p.container_dirs());
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&[], &[]);
}
