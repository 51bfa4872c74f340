//! `compose image bootstrap`, end to end: debian:bookworm-slim built once
//! per test binary from deb.debian.org with mmdebstrap (the one place a
//! test leaves loopback: a package mirror), then copied into each test's
//! own COMPOSE_ROOT; the image run by `compose up`, used as a base by
//! `compose build` (apt in a RUN step, COPY --from a busybox stage, USER,
//! ENV, CMD, the cache on rebuild); and the failures: a mirror that does
//! not answer (exit code and last lines, nothing imported), Ctrl-C
//! (the tool stopped, nothing imported), names that cannot be
//! bootstrapped, and the hint when a FROM image is missing. Needs root.

mod up_support;

use compose_runtime::image::bootstrap::{LABEL_MIRROR, LABEL_SUITE};
use compose_runtime::image::{ImageStore, Reference};
use std::fs::File;
use std::io::{BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use up_support::{stderr, Project};

const DEBIAN: &str = "debian:bookworm-slim";

/// A COMPOSE_ROOT holding debian:bookworm-slim, bootstrapped on first use
/// by this test binary. It lives in Cargo's per-target temporary
/// directory and is rebuilt by every run, so each run tests the real
/// bootstrap and at most one copy stays on disk.
fn bootstrapped_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        up_support::require_root();
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("image_bootstrap");
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let out = compose_in(&root, &["image", "bootstrap", DEBIAN]);
        assert!(out.status.success(), "bootstrap failed: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("Bootstrapped debian:bookworm-slim"), "{err}");
        assert!(
            err.contains("I: success"),
            "mmdebstrap's output is streamed: {err}"
        );
        root
    })
}

fn compose_in(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(args)
        .env("COMPOSE_ROOT", root)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Copy debian:bookworm-slim into `p`'s store: its blobs as they are,
/// then the same commit every way in ends with.
fn install_debian(p: &Project) {
    let from = ImageStore::open(bootstrapped_root()).unwrap();
    let to = ImageStore::open(p.compose_root()).unwrap();
    let name = Reference::parse(DEBIAN).unwrap();
    let image = from.get(&name).unwrap().expect("bootstrapped image");
    let manifest = from.manifest(&image.manifest).unwrap();
    let blobs = manifest
        .layers
        .iter()
        .map(|l| &l.digest)
        .chain([&manifest.config.digest, &image.manifest]);
    for digest in blobs {
        let file = BufReader::new(File::open(from.blob_path(digest)).unwrap());
        assert_eq!(&to.put_blob(file).unwrap().0, digest);
    }
    to.commit(&image.manifest, &[name]).unwrap();
}

/// Every path in the image's (single) layer.
fn layer_paths(root: &Path) -> Vec<String> {
    let store = ImageStore::open(root).unwrap();
    let image = store
        .get(&Reference::parse(DEBIAN).unwrap())
        .unwrap()
        .unwrap();
    let manifest = store.manifest(&image.manifest).unwrap();
    assert_eq!(manifest.layers.len(), 1);
    let blob = store.open_blob(&manifest.layers[0].digest).unwrap();
    let mut tar = tar::Archive::new(BufReader::new(blob));
    tar.entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect()
}

#[test]
fn the_bootstrapped_image_is_slim_configured_and_runs_under_up() {
    let root = bootstrapped_root();
    let store = ImageStore::open(root).unwrap();
    let image = store
        .get(&Reference::parse(DEBIAN).unwrap())
        .unwrap()
        .unwrap();
    let c = &image.config.config;
    assert_eq!(c.cmd, Some(vec!["bash".to_string()]));
    assert!(
        c.env.iter().any(|e| e.starts_with("PATH=/usr/local/sbin:")),
        "{:?}",
        c.env
    );
    assert_eq!(c.labels[LABEL_SUITE], "bookworm");
    assert_eq!(c.labels[LABEL_MIRROR], "http://deb.debian.org/debian");

    let paths = layer_paths(root);
    let has = |p: &str| paths.iter().any(|x| x.trim_start_matches("./") == p);
    assert!(has("usr/sbin/policy-rc.d") && has("etc/dpkg/dpkg.cfg.d/docker-slim"));
    assert!(has("usr/share/doc/bash/copyright"), "copyright files stay");
    let docs: Vec<&String> = paths
        .iter()
        .filter(|p| {
            (p.contains("usr/share/man/") || p.contains("usr/share/doc/"))
                && !p.ends_with('/')
                && !p.ends_with("/copyright")
        })
        .collect();
    assert!(docs.is_empty(), "slim keeps no documentation: {docs:?}");
    assert!(!paths.iter().any(|p| p.ends_with("pkgcache.bin")));

    let p = Project::new(
        "deb-up",
        "services:\n  deb:\n    image: debian:bookworm-slim\n    command: [\"bash\", \"-c\", \"echo version=$$(cat /etc/debian_version) packages=$$(dpkg -l | wc -l); sleep 30\"]\n",
    );
    install_debian(&p);
    p.ok(&["up", "-d"]);
    let logs = p.logs_containing("packages=");
    let version = logs.split("version=").nth(1).unwrap_or("");
    assert!(version.starts_with("12."), "{logs}");
    let packages: u32 = logs
        .split("packages=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(packages > 50, "dpkg knows the minbase packages: {logs}");
    let (names, pids) = (p.container_dirs(), p.init_pids());
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}

const BUILD_COMPOSE: &str =
    "services:\n  app:\n    image: deb-app:test\n    build:\n      context: .\n";

const DOCKERFILE: &str = r#"FROM busybox:test AS tools
RUN echo from-busybox > /marker

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends hello && rm -rf /var/lib/apt/lists/*
COPY --from=tools /bin/busybox /usr/local/bin/busybox
COPY --from=tools /marker /opt/marker
RUN useradd --create-home --uid 1234 app
ENV GREETING=bonjour
USER app
WORKDIR /home/app
CMD ["bash", "-c", "hello; echo user=$(id -un) home=$PWD; cat /opt/marker; echo greeting=$GREETING; busybox true && echo busybox-ok; sleep 30"]
"#;

#[test]
fn build_from_the_bootstrapped_image_with_apt_then_cached_rebuild_then_up() {
    let p = Project::new("deb-build", BUILD_COMPOSE);
    std::fs::write(p.dir.join("Dockerfile"), DOCKERFILE).unwrap();
    install_debian(&p);

    let out = p.compose(&["build"]);
    let err = stderr(&out);
    assert!(out.status.success(), "build failed: {err}");
    assert!(err.contains("Setting up hello"), "apt's output: {err}");

    let store = ImageStore::open(p.compose_root()).unwrap();
    let built = store
        .get(&Reference::parse("deb-app:test").unwrap())
        .unwrap()
        .unwrap();
    let c = &built.config.config;
    assert_eq!(c.user.as_deref(), Some("app"));
    assert_eq!(c.working_dir.as_deref(), Some("/home/app"));
    assert!(
        c.env.contains(&"GREETING=bonjour".to_string()),
        "{:?}",
        c.env
    );
    assert!(
        c.env.iter().any(|e| e.starts_with("PATH=")),
        "the base image's PATH is inherited: {:?}",
        c.env
    );
    // The base layer, then RUN apt, COPY, COPY, RUN useradd.
    assert_eq!(built.layer_dirs.len(), 5);
    let top = &built.layer_dirs;
    assert!(top[1].join("usr/bin/hello").is_file(), "hello installed");
    assert!(top[2].join("usr/local/bin/busybox").is_file());
    let passwd = std::fs::read_to_string(top[4].join("etc/passwd")).unwrap();
    assert!(passwd.contains("app:x:1234:"), "{passwd}");

    let again = p.compose(&["build"]);
    let err2 = stderr(&again);
    assert!(again.status.success(), "{err2}");
    assert_eq!(err2.matches("CACHED").count(), 5, "{err2}");
    let rebuilt = store
        .get(&Reference::parse("deb-app:test").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(rebuilt.id, built.id, "a cached rebuild is the same image");

    p.ok(&["up", "-d"]);
    let logs = p.logs_containing("busybox-ok");
    for expected in [
        "Hello, world!",
        "user=app home=/home/app",
        "from-busybox",
        "greeting=bonjour",
    ] {
        assert!(logs.contains(expected), "{expected}: {logs}");
    }
    let (names, pids) = (p.container_dirs(), p.init_pids());
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}

/// A COMPOSE_ROOT of its own and the store's leftovers check.
fn empty_root() -> tempfile::TempDir {
    up_support::require_root();
    tempfile::Builder::new()
        .prefix("compose-bootstrap-test-")
        .tempdir()
        .unwrap()
}

fn assert_nothing_imported(root: &Path) {
    let store = ImageStore::open(root).unwrap();
    assert!(store.list().unwrap().is_empty());
    let blobs = std::fs::read_dir(root.join("images/blobs/sha256"))
        .unwrap()
        .count();
    let tmp = std::fs::read_dir(root.join("images/tmp")).unwrap().count();
    assert_eq!((blobs, tmp), (0, 0), "no blob and no partial file");
}

#[test]
fn a_mirror_that_fails_shows_the_exit_code_and_last_lines_and_imports_nothing() {
    let root = empty_root();
    // A port nothing listens on: apt's download fails at once.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/debian", dead.local_addr().unwrap());
    drop(dead);
    let out = compose_in(
        root.path(),
        &["image", "bootstrap", DEBIAN, "--mirror", &url],
    );
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("mmdebstrap") && err.contains("failed with exit code"),
        "{err}"
    );
    assert!(err.contains("its last lines:"), "{err}");
    assert_nothing_imported(root.path());
}

#[test]
fn ctrl_c_stops_the_tool_and_imports_nothing() {
    let root = empty_root();
    // A mirror that accepts connections and never answers: apt waits.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/debian", silent.local_addr().unwrap());
    let mut child = Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(["image", "bootstrap", DEBIAN, "--mirror", &url])
        .env("COMPOSE_ROOT", root.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until apt has connected, so the tool is mid-run.
    silent.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let _conn = loop {
        match silent.accept() {
            Ok((conn, _)) => break conn,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("apt never connected: {e}"),
        }
    };
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted: nothing was imported"), "{err}");
    assert_nothing_imported(root.path());
}

#[test]
fn names_that_cannot_be_bootstrapped_are_refused_with_the_reason() {
    let root = empty_root();
    let out = compose_in(root.path(), &["image", "bootstrap", "alpine:3.20"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("only `debian:…` and `ubuntu:…`"));
    let out = compose_in(root.path(), &["image", "bootstrap", "debian:potato-2000"]);
    assert!(
        stderr(&out).contains("names no Debian suite"),
        "{}",
        stderr(&out)
    );
    let out = compose_in(
        root.path(),
        &["image", "bootstrap", DEBIAN, "--mirror", "deb.debian.org"],
    );
    assert!(
        stderr(&out).contains("is not an http://"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_missing_debian_base_image_hints_at_bootstrap() {
    let p = Project::new("deb-hint", BUILD_COMPOSE);
    std::fs::write(
        p.dir.join("Dockerfile"),
        "FROM debian:trixie-slim\nRUN true\n",
    )
    .unwrap();
    // Registry pulls go through a proxy on a dead loopback port: the pull
    // fails without leaving the machine.
    let out = Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(["-p", &p.name, "build"])
        .current_dir(&p.dir)
        .env("COMPOSE_ROOT", p.compose_root())
        .env("NO_COLOR", "1")
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("https_proxy", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("hint: run `compose image bootstrap debian:trixie-slim`"),
        "{err}"
    );
}
