//! The builder's Dockerfile features beyond plain COPY/RUN, end to end
//! through `compose build` with the test's busybox image: ONBUILD
//! triggers recorded by a parent image and run by a child build, `COPY
//! --parents` (with a `/./` pivot and `**`) and `--exclude`, `ADD` of an
//! http URL (with `--checksum`, right and wrong) and of a git repository,
//! and `RUN --mount=type=secret` fed by Compose `build.secrets`. Remote
//! sources come from a tiny HTTP server of the test on 127.0.0.1 (git
//! through its "dumb" HTTP protocol); nothing else is reached. Needs root.

mod up_support;

use compose_runtime::image::compression::decompress;
use compose_runtime::image::{Image, ImageStore, Reference};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use up_support::{stderr, Project};

const COMPOSE: &str = "services:\n  web:\n    image: built:test\n    build:\n      context: .\n";

/// The `Last-Modified` the test server sends, and its Unix time.
const LAST_MODIFIED: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
const LAST_MODIFIED_UNIX: u64 = 784_111_777;

fn project(name: &str, compose: &str, dockerfile: &str) -> Project {
    let p = Project::new(name, compose);
    std::fs::write(p.dir.join("Dockerfile"), dockerfile).unwrap();
    p
}

fn image(p: &Project, name: &str) -> Image {
    ImageStore::open(p.compose_root())
        .unwrap()
        .get(&Reference::parse(name).unwrap())
        .unwrap()
        .unwrap_or_else(|| panic!("no image {name}"))
}

/// Every layer of `name` as (entry path, mode, content) lists.
fn layers(p: &Project, name: &str) -> Vec<Vec<(String, u32, Vec<u8>)>> {
    let store = ImageStore::open(p.compose_root()).unwrap();
    let img = image(p, name);
    let manifest = store.manifest(&img.manifest).unwrap();
    manifest
        .layers
        .iter()
        .map(|l| {
            let (_, plain) =
                decompress(BufReader::new(store.open_blob(&l.digest).unwrap())).unwrap();
            let mut a = tar::Archive::new(plain);
            a.entries()
                .unwrap()
                .map(|e| {
                    let mut e = e.unwrap();
                    let mode = e.header().mode().unwrap();
                    let mut data = Vec::new();
                    e.read_to_end(&mut data).unwrap();
                    (e.path().unwrap().display().to_string(), mode, data)
                })
                .collect()
        })
        .collect()
}

/// The content of `rel` in the image's merged filesystem.
fn file_in(img: &Image, rel: &str) -> Option<String> {
    img.layer_dirs
        .iter()
        .rev()
        .map(|d| d.join(rel))
        .find(|p| p.symlink_metadata().is_ok())
        .map(|p| std::fs::read_to_string(p).unwrap())
}

fn path_in(img: &Image, rel: &str) -> Option<PathBuf> {
    img.layer_dirs
        .iter()
        .rev()
        .map(|d| d.join(rel))
        .find(|p| p.symlink_metadata().is_ok())
}

/// Serve the files under `root` over HTTP/1.1 on 127.0.0.1 from a thread
/// (one request per connection); returns the port.
fn serve(root: PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let _ = answer(conn, &root);
        }
    });
    port
}

fn answer(conn: std::net::TcpStream, root: &Path) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split('?').next().unwrap_or("");
    let file = root.join(path.trim_start_matches('/'));
    let mut conn = conn;
    match std::fs::read(&file) {
        Ok(body) if !path.contains("..") && file.is_file() => {
            write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nLast-Modified: {LAST_MODIFIED}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            conn.write_all(&body)
        }
        _ => write!(
            conn,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
    }
}

fn sha256_hex(data: &[u8]) -> String {
    compose_runtime::image::Digest::of(data).hex().to_string()
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn onbuild_triggers_are_stored_then_run_by_the_child_build() {
    let compose = "services:\n  parent:\n    image: parent:test\n    build: ./parent\n  child:\n    image: child:test\n    build: ./child\n";
    let p = Project::new("onbuild", compose);
    for d in ["parent", "child"] {
        std::fs::create_dir_all(p.dir.join(d)).unwrap();
    }
    std::fs::write(
        p.dir.join("parent/Dockerfile"),
        "FROM busybox:test\nRUN echo parent > /parent\nONBUILD COPY hello.txt /from-child.txt\nONBUILD RUN echo triggered > /triggered\n",
    )
    .unwrap();
    std::fs::write(
        p.dir.join("child/Dockerfile"),
        "FROM parent:test\nRUN cat /triggered /from-child.txt > /seen\n",
    )
    .unwrap();
    std::fs::write(p.dir.join("child/hello.txt"), "child context\n").unwrap();

    p.ok(&["build", "parent"]);
    let parent = image(&p, "parent:test");
    assert_eq!(
        parent.config.config.on_build,
        [
            "COPY hello.txt /from-child.txt",
            "RUN echo triggered > /triggered"
        ]
    );
    assert!(
        path_in(&parent, "triggered").is_none(),
        "triggers do not run in the image that declares them"
    );
    let inspect = p.ok(&["image", "inspect", "parent:test"]);
    assert!(inspect.contains("OnBuild"), "{inspect}");

    let out = p.compose(&["build", "child"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("ONBUILD RUN echo triggered"), "{err}");
    let child = image(&p, "child:test");
    assert!(child.config.config.on_build.is_empty(), "not inherited");
    assert_eq!(
        file_in(&child, "seen").as_deref(),
        Some("triggered\nchild context\n")
    );
    let history: Vec<String> = child
        .config
        .history
        .iter()
        .filter_map(|h| h["created_by"].as_str().map(str::to_string))
        .collect();
    assert!(
        history
            .iter()
            .any(|h| h == "RUN echo triggered > /triggered"),
        "{history:?}"
    );

    // Unchanged: the triggers and the child's step come from the cache.
    let again = stderr(&p.compose(&["build", "child"]));
    assert_eq!(again.matches("CACHED").count(), 3, "{again}");
    assert_eq!(image(&p, "child:test").id, child.id);

    // A changed trigger is a different base: nothing of the child is reused.
    std::fs::write(
        p.dir.join("parent/Dockerfile"),
        "FROM busybox:test\nRUN echo parent > /parent\nONBUILD COPY hello.txt /from-child.txt\nONBUILD RUN echo changed > /triggered\n",
    )
    .unwrap();
    p.ok(&["build", "parent"]);
    let third = stderr(&p.compose(&["build", "child"]));
    assert_eq!(third.matches("CACHED").count(), 0, "{third}");
    assert_eq!(
        file_in(&image(&p, "child:test"), "seen").as_deref(),
        Some("changed\nchild context\n")
    );

    std::fs::write(
        p.dir.join("parent/Dockerfile"),
        "FROM busybox:test\nONBUILD ONBUILD RUN true\n",
    )
    .unwrap();
    let out = p.compose(&["build", "parent"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("Dockerfile:2")
            && err.contains("ONBUILD is not allowed as an ONBUILD trigger"),
        "{err}"
    );
}

#[test]
fn copy_parents_and_exclude_lay_out_the_tree() {
    let p = project(
        "parents",
        COMPOSE,
        "FROM busybox:test\n\
         COPY --parents app/sub/deep.txt app/hello.txt /p/\n\
         COPY --parents ./app/./sub/*.txt /pivot/\n\
         COPY --exclude=*.md --exclude=skip docs/ /docs/\n\
         ADD --exclude=*.tmp extras /extras/\n\
         COPY --parents **/deep.txt /star/\n",
    );
    for (path, content) in [
        ("app/hello.txt", "hello\n"),
        ("app/sub/deep.txt", "deep\n"),
        ("app/sub/other.txt", "other\n"),
        ("app/sub/no.bin", "no\n"),
        ("docs/guide.txt", "guide\n"),
        ("docs/README.md", "readme\n"),
        ("docs/skip/x.txt", "skipped\n"),
        ("docs/keep/y.txt", "kept\n"),
        ("extras/a.txt", "a\n"),
        ("extras/b.tmp", "b\n"),
    ] {
        let f = p.dir.join(path);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, content).unwrap();
    }
    let out = p.compose(&["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let img = image(&p, "built:test");
    let ls = layers(&p, "built:test");
    let names = |n: usize| -> Vec<String> {
        let mut v: Vec<String> = ls[n]
            .iter()
            .map(|(p, _, _)| p.trim_end_matches('/').to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names(1),
        [
            "p",
            "p/app",
            "p/app/hello.txt",
            "p/app/sub",
            "p/app/sub/deep.txt"
        ]
    );
    assert_eq!(
        names(2),
        [
            "pivot",
            "pivot/sub",
            "pivot/sub/deep.txt",
            "pivot/sub/other.txt"
        ]
    );
    assert_eq!(
        names(3),
        ["docs", "docs/guide.txt", "docs/keep", "docs/keep/y.txt"]
    );
    assert_eq!(names(4), ["extras", "extras/a.txt"]);
    assert_eq!(
        names(5),
        ["star", "star/app", "star/app/sub", "star/app/sub/deep.txt"]
    );
    assert_eq!(
        file_in(&img, "p/app/sub/deep.txt").as_deref(),
        Some("deep\n")
    );
}

#[test]
fn add_downloads_urls_verifies_checksums_and_reuses_the_cache() {
    let served = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(served.path().join("files")).unwrap();
    std::fs::write(served.path().join("files/tool.sh"), "echo tool\n").unwrap();
    std::fs::write(served.path().join("files/data.txt"), "data v1\n").unwrap();
    let port = serve(served.path().to_path_buf());
    let sum = sha256_hex(b"echo tool\n");
    let dockerfile = format!(
        "FROM busybox:test\n\
         ADD --checksum=sha256:{sum} http://127.0.0.1:{port}/files/tool.sh /opt/\n\
         ADD --chown=1000:1000 --chmod=644 http://127.0.0.1:{port}/files/data.txt /data.txt\n\
         RUN cat /opt/tool.sh /data.txt > /both\n"
    );
    let p = project("addurl", COMPOSE, &dockerfile);
    let out = p.compose(&["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let img = image(&p, "built:test");
    assert_eq!(
        file_in(&img, "both").as_deref(),
        Some("echo tool\ndata v1\n")
    );
    let ls = layers(&p, "built:test");
    let tool = ls[1].iter().find(|(n, _, _)| n == "opt/tool.sh").unwrap();
    assert_eq!(tool.1 & 0o7777, 0o600, "a download is 0600 by default");
    let data = path_in(&img, "data.txt").unwrap();
    let meta = std::fs::metadata(&data).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!((meta.uid(), meta.mode() & 0o7777), (1000, 0o644));
    assert_eq!(meta.mtime() as u64, LAST_MODIFIED_UNIX, "Last-Modified");

    // Unchanged downloads hit the cache; a changed body runs again.
    let again = stderr(&p.compose(&["build"]));
    assert_eq!(again.matches("CACHED").count(), 3, "{again}");
    std::fs::write(served.path().join("files/data.txt"), "data v2\n").unwrap();
    let third = stderr(&p.compose(&["build"]));
    assert_eq!(third.matches("CACHED").count(), 1, "{third}");
    assert_eq!(
        file_in(&image(&p, "built:test"), "both").as_deref(),
        Some("echo tool\ndata v2\n")
    );

    // A wrong checksum fails the step and tags nothing new.
    let wrong = sha256_hex(b"something else");
    std::fs::write(
        p.dir.join("Dockerfile"),
        format!("FROM busybox:test\nADD --checksum=sha256:{wrong} http://127.0.0.1:{port}/files/tool.sh /opt/\n"),
    )
    .unwrap();
    let out = p.compose(&["build"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("Dockerfile:2") && err.contains(&wrong) && err.contains(&sum),
        "{err}"
    );
    std::fs::write(
        p.dir.join("Dockerfile"),
        format!("FROM busybox:test\nADD http://127.0.0.1:{port}/files/missing /opt/\n"),
    )
    .unwrap();
    let err = stderr(&p.compose(&["build"]));
    assert!(err.contains("404"), "{err}");
}

#[test]
fn add_checks_out_a_git_repository() {
    let served = tempfile::tempdir().unwrap();
    let work = served.path().join("work");
    std::fs::create_dir_all(work.join("docs")).unwrap();
    std::fs::write(work.join("docs/readme.md"), "v1 docs\n").unwrap();
    std::fs::write(work.join("top.txt"), "top\n").unwrap();
    git(&work, &["init", "-q"]);
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "one"]);
    git(&work, &["tag", "v1"]);
    let v1 = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(&work)
        .output()
        .unwrap();
    let v1 = String::from_utf8(v1.stdout).unwrap().trim().to_string();
    std::fs::write(work.join("docs/readme.md"), "v2 docs\n").unwrap();
    git(&work, &["commit", "-q", "-am", "two"]);
    git(
        served.path(),
        &["clone", "-q", "--bare", "work", "repo.git"],
    );
    git(&served.path().join("repo.git"), &["update-server-info"]);
    let port = serve(served.path().to_path_buf());
    let p = project(
        "addgit",
        COMPOSE,
        &format!(
            "FROM busybox:test\n\
             ADD http://127.0.0.1:{port}/repo.git#v1:docs /docs/\n\
             ADD --keep-git-dir=true http://127.0.0.1:{port}/repo.git /full/\n\
             ADD http://127.0.0.1:{port}/repo.git#{v1} /by-id/\n\
             ADD --checksum={v1} http://127.0.0.1:{port}/repo.git?tag=v1&subdir=docs /query/\n"
        ),
    );
    let out = p.compose(&["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let img = image(&p, "built:test");
    assert_eq!(
        file_in(&img, "docs/readme.md").as_deref(),
        Some("v1 docs\n")
    );
    assert!(path_in(&img, "docs/top.txt").is_none(), "only the subdir");
    assert!(path_in(&img, "docs/.git").is_none());
    assert_eq!(
        file_in(&img, "full/docs/readme.md").as_deref(),
        Some("v2 docs\n")
    );
    assert!(path_in(&img, "full/.git/HEAD").is_some(), "--keep-git-dir");
    assert_eq!(
        file_in(&img, "by-id/docs/readme.md").as_deref(),
        Some("v1 docs\n")
    );
    assert_eq!(
        file_in(&img, "query/readme.md").as_deref(),
        Some("v1 docs\n")
    );

    let again = stderr(&p.compose(&["build"]));
    assert_eq!(again.matches("CACHED").count(), 4, "{again}");

    // A pinned commit the ref no longer points at fails the step.
    std::fs::write(
        p.dir.join("Dockerfile"),
        format!(
            "FROM busybox:test\nADD --checksum={v1} http://127.0.0.1:{port}/repo.git#main /x/\n"
        ),
    )
    .unwrap();
    let err = stderr(&p.compose(&["build"]));
    assert!(err.contains(&format!("not the expected {v1}")), "{err}");

    std::fs::write(
        p.dir.join("Dockerfile"),
        format!("FROM busybox:test\nADD http://127.0.0.1:{port}/repo.git#nope /x/\n"),
    )
    .unwrap();
    let out = p.compose(&["build"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("Dockerfile:2") && err.contains("repo.git"),
        "{err}"
    );
}

#[test]
fn secrets_are_seen_by_run_but_never_stored() {
    let compose = "services:\n  web:\n    image: built:test\n    build:\n      context: .\n      secrets:\n        - token\n        - source: api\n          target: apikey\nsecrets:\n  token:\n    file: ./token.txt\n  api:\n    environment: API_KEY\n";
    let p = project(
        "secrets",
        compose,
        "FROM busybox:test\n\
         RUN --mount=type=secret,id=token test \"$(cat /run/secrets/token)\" = \"s3cret-\"\"token\" && echo token-ok > /verdict\n\
         RUN --mount=type=secret,id=apikey,env=API test \"$API\" = \"s3cret-\"\"api\" && echo api-ok >> /verdict\n\
         RUN --mount=type=secret,id=absent test ! -e /run/secrets/absent && echo optional-ok >> /verdict\n",
    );
    std::fs::write(p.dir.join("token.txt"), "s3cret-token").unwrap();
    std::fs::write(p.dir.join(".env"), "API_KEY=s3cret-api\n").unwrap();
    let out = p.compose(&["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let img = image(&p, "built:test");
    assert_eq!(
        file_in(&img, "verdict").as_deref(),
        Some("token-ok\napi-ok\noptional-ok\n")
    );
    for layer in layers(&p, "built:test").iter().skip(1) {
        for (name, _, data) in layer {
            assert!(!name.starts_with("run"), "mount point left: {name}");
            let text = String::from_utf8_lossy(data);
            assert!(!holds_secret(&text), "{name} holds a secret");
        }
    }
    let config = serde_json::to_string(&img.config).unwrap();
    assert!(!holds_secret(&config), "{config}");
    let cache = walk_text(&p.compose_root().join("build-cache"));
    assert!(!holds_secret(&cache), "the cache records no secret");

    std::fs::write(
        p.dir.join("Dockerfile"),
        "FROM busybox:test\nRUN --mount=type=secret,id=nope,required=true true\n",
    )
    .unwrap();
    let out = p.compose(&["build"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("Dockerfile:2") && err.contains("`nope`") && err.contains("apikey, token"),
        "{err}"
    );
}

/// Whether `text` has one of the secrets of the test (the Dockerfile
/// spells them in two pieces so that its history cannot).
fn holds_secret(text: &str) -> bool {
    text.contains("s3cret-token") || text.contains("s3cret-api")
}

/// Every file's text under `dir`, concatenated.
fn walk_text(dir: &Path) -> String {
    let mut out = String::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            out.push_str(&walk_text(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    out
}
