//! Helpers of the CLI's image tests: a temporary `COMPOSE_ROOT` to run the
//! `compose` binary against, checks on what the store holds, and a
//! throttling TCP proxy that makes a pull last long enough to interrupt.
#![allow(dead_code)]

use compose_runtime::image::Digest;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Unpacking chowns files and makes device nodes: run as root, fail loudly
/// otherwise (never skip).
pub fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test needs root (the image store chowns and mknods); run the suite as root"
    );
}

/// A temporary `COMPOSE_ROOT` (and working directory, and Docker config
/// directory without credentials) for `compose` runs.
pub struct Root {
    pub dir: tempfile::TempDir,
}

impl Root {
    pub fn new() -> Root {
        require_root();
        Root {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `$COMPOSE_ROOT/images`.
    pub fn images(&self) -> PathBuf {
        self.path().join("state/images")
    }

    /// A `compose` command with this root, run in its directory.
    pub fn command(&self, args: &[&str]) -> Command {
        let docker_config = self.path().join("docker-config");
        std::fs::create_dir_all(&docker_config).expect("docker config dir");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_compose"));
        cmd.args(args)
            .current_dir(self.path())
            .env("COMPOSE_ROOT", self.path().join("state"))
            .env("DOCKER_CONFIG", docker_config)
            .env_remove("COMPOSE_FILE")
            .env_remove("COMPOSE_PROFILES")
            .env_remove("COMPOSE_PROJECT_NAME");
        cmd
    }

    /// Run `compose args…` to completion.
    pub fn compose(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run compose")
    }

    /// Run `compose args…`, which must succeed; its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.compose(args);
        assert!(
            out.status.success(),
            "compose {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// Names in a store directory (`blobs/sha256`, `layers`, `tmp`).
    pub fn entries(&self, sub: &str) -> Vec<String> {
        let dir = self.images().join(sub);
        let mut out: Vec<String> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd
                .map(|e| {
                    e.expect("dir entry")
                        .file_name()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => panic!("read {}: {e}", dir.display()),
        };
        out.sort();
        out
    }

    /// Every blob in `blobs/sha256` is whole: its content hashes to its name.
    pub fn assert_blobs_whole(&self) {
        for name in self.entries("blobs/sha256") {
            let bytes = std::fs::read(self.images().join("blobs/sha256").join(&name)).unwrap();
            assert_eq!(
                Digest::of(&bytes).hex(),
                name,
                "blob {name} is partial or corrupt"
            );
        }
    }

    /// Nothing at all was added: no image, blob, layer or temp file.
    pub fn assert_store_empty(&self) {
        for sub in ["blobs/sha256", "layers", "tmp"] {
            assert_eq!(
                self.entries(sub),
                Vec::<String>::new(),
                "{sub} must be empty"
            );
        }
        assert_eq!(self.ok(&["image", "ls", "-q"]), "", "no image listed");
    }
}

/// `stderr` is exactly one line; returns it.
pub fn one_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line on stderr, got: {text}");
    lines[0].to_string()
}

/// Forwards 127.0.0.1 connections to `upstream`, sending responses at
/// about `bytes_per_sec`, so a download takes seconds instead of
/// milliseconds. Its threads end with the test process.
pub fn throttling_proxy(upstream: &str, bytes_per_sec: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    let addr = listener.local_addr().expect("proxy address").to_string();
    let upstream = upstream.to_string();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || pipe(c2, s2, usize::MAX));
            std::thread::spawn(move || pipe(server, client, bytes_per_sec));
        }
    });
    addr
}

fn pipe(mut from: TcpStream, mut to: TcpStream, bytes_per_sec: usize) {
    const TICK: Duration = Duration::from_millis(10);
    let chunk = (bytes_per_sec / 100).clamp(1, 256 * 1024);
    let mut buf = vec![0u8; chunk];
    loop {
        let started = Instant::now();
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        if bytes_per_sec != usize::MAX {
            std::thread::sleep(TICK.saturating_sub(started.elapsed()));
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

/// The bearer-token server of the runtime's pull tests, shared as it is.
#[path = "../../runtime/tests/common/token.rs"]
pub mod token;

impl Root {
    /// Import the test busybox rootfs (`compose_runtime::testing`) as `name`.
    pub fn import_busybox(&self, name: &str) {
        let tar = self.path().join("busybox-rootfs.tar");
        std::fs::write(&tar, compose_runtime::testing::busybox_rootfs_tar()).expect("write rootfs");
        self.ok(&["image", "import", tar.to_str().expect("UTF-8 path"), name]);
    }

    /// Store `user`/`password` for `registry` in this root's Docker config,
    /// as `docker login` would.
    pub fn login(&self, registry: &str, user: &str, password: &str) {
        let dir = self.path().join("docker-config");
        std::fs::create_dir_all(&dir).expect("docker config dir");
        let config = serde_json::json!({
            "auths": {registry: {"username": user, "password": password}}
        });
        std::fs::write(dir.join("config.json"), config.to_string()).expect("write config.json");
    }
}
