//! ADD's remote sources (Dockerfile reference, "ADD": "Adding files from a
//! URL", "Adding files from a Git repository"): an `http(s)://` URL is
//! downloaded, a git URL is checked out with the `git` binary.
//!
//! Downloads: the file is named after the URL path's last segment
//! (BuildKit's `__unnamed__` when there is none), gets the
//! `Last-Modified` time as its mtime, and `--checksum=sha256:...` is
//! verified before anything is copied. Cache (our choice, close to
//! BuildKit's): with `--checksum` the key is the URL and that digest, and
//! nothing is fetched when it hits; without it the file is fetched on
//! every build and the key holds the body's digest and `Last-Modified`,
//! so an unchanged download still hits (the classic builder's rule; we do
//! not keep ETags between builds).
//!
//! Git: `URL[#REF][:SUBDIR]` (`https://host/repo.git#v1.0:docs`,
//! `git@host:org/repo.git#main`, `git://`, `ssh://`) or Dockerfile 1.18's
//! query form (`repo.git?tag=v1&subdir=docs`); a pinned commit
//! (`--checksum=<commit>`, `?checksum=`) must be what the ref resolves to.
//! The ref is fetched
//! (shallow when the transport allows it; a commit id the server will not
//! send by itself is looked up after fetching every branch), checked out
//! detached, and the commit it resolved to goes into the cache key. The `.git` directory is
//! dropped unless `--keep-git-dir`. Submodules are not fetched.

use super::error::{io, ExecError};
use crate::build::dockerfile::Location;
use crate::image::digest::{Digest, HashingWriter};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What an ADD source names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddSource {
    Local(String),
    Http(String),
    Git(GitRef),
}

/// A git source: repository URL, ref and subdirectory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GitRef {
    pub url: String,
    pub reference: Option<String>,
    pub subdir: Option<String>,
    /// The commit the ref must resolve to (`?checksum=`/`?commit=`, or
    /// `ADD --checksum=<commit>`), full or abbreviated.
    pub commit: Option<String>,
    /// `?keep-git-dir=true` (as the `--keep-git-dir` flag).
    pub keep_git_dir: bool,
}

/// A git URL's `?key=value` query that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadGitQuery {
    pub url: String,
    pub reason: String,
}

/// Classify an (expanded) ADD source, as BuildKit's `isGitURL` and
/// `isHTTPSource` do: `git@`, `git://` and `ssh://` are git, as is an
/// http(s) URL whose path ends in `.git`; other http(s) URLs download.
/// A git URL takes its ref and subdirectory from the `#ref:subdir`
/// fragment or, since Dockerfile 1.18, from a query (`?branch=`, `?tag=`,
/// `?ref=`, `?checksum=`/`?commit=`, `?subdir=`, `?keep-git-dir=`).
pub fn classify(source: &str) -> Result<AddSource, BadGitQuery> {
    let (base, fragment) = match source.split_once('#') {
        Some((u, f)) => (u, Some(f)),
        None => (source, None),
    };
    let (url, query) = match base.split_once('?') {
        Some((u, q)) => (u, Some(q)),
        None => (base, None),
    };
    let http = url.starts_with("http://") || url.starts_with("https://");
    let git = url.starts_with("git@")
        || url.starts_with("git://")
        || url.starts_with("ssh://")
        || (http && url.trim_end_matches('/').ends_with(".git"));
    if !git {
        return Ok(if http {
            AddSource::Http(source.to_string())
        } else {
            AddSource::Local(source.to_string())
        });
    }
    let (reference, subdir) = match fragment {
        Some(f) => match f.split_once(':') {
            Some((r, d)) => (r, Some(d)),
            None => (f, None),
        },
        None => ("", None),
    };
    let mut git = GitRef {
        url: url.to_string(),
        reference: (!reference.is_empty()).then(|| reference.to_string()),
        subdir: subdir.map(str::to_string),
        ..GitRef::default()
    };
    if let Some(query) = query {
        apply_query(&mut git, query).map_err(|reason| BadGitQuery {
            url: source.to_string(),
            reason,
        })?;
    }
    git.subdir = git
        .subdir
        .map(|d| d.trim_matches('/').to_string())
        .filter(|d| !d.is_empty());
    Ok(AddSource::Git(git))
}

fn apply_query(git: &mut GitRef, query: &str) -> Result<(), String> {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let mut set_ref = |r: String| match git.reference.replace(r) {
            Some(old) => Err(format!("the ref is given twice (`{old}` and `{pair}`)")),
            None => Ok(()),
        };
        match key {
            "ref" => set_ref(value.to_string())?,
            "branch" => set_ref(format!("refs/heads/{value}"))?,
            "tag" => set_ref(format!("refs/tags/{value}"))?,
            "checksum" | "commit" => git.commit = Some(value.to_string()),
            "subdir" => git.subdir = Some(value.to_string()),
            "keep-git-dir" => git.keep_git_dir = value == "true" || value == "1",
            "submodules" if value == "false" || value == "0" => {}
            "submodules" => return Err("submodules are not fetched by the bundled builder; use `submodules=false`".into()),
            other => {
                return Err(format!(
                    "unknown query key `{other}` (known: ref, branch, tag, checksum, commit, subdir, keep-git-dir, submodules)"
                ))
            }
        }
    }
    if let Some(c) = &git.commit {
        if !is_commit_id(c) {
            return Err(format!("checksum `{c}` is not a commit id"));
        }
    }
    Ok(())
}

/// The file name a download gets: the URL path's last segment.
pub fn file_name(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .split_once('/')
        .map_or("", |(_, p)| p);
    match path.rsplit('/').next() {
        Some(name) if !name.is_empty() && name != "." && name != ".." => name.to_string(),
        _ => "__unnamed__".to_string(),
    }
}

/// A downloaded file.
#[derive(Debug, Clone)]
pub struct Download {
    pub path: PathBuf,
    pub digest: Digest,
    pub last_modified: Option<String>,
}

/// Download `url` into `dir/name`, checking `checksum` (`sha256:<hex>`).
pub fn download(
    url: &str,
    dir: &Path,
    name: &str,
    checksum: Option<&Digest>,
    at: &Location,
) -> Result<Download, ExecError> {
    let failed = |reason: String| ExecError::Download {
        at: at.clone(),
        url: url.to_string(),
        reason,
    };
    let loopback = ["http://127.", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| url.starts_with(p));
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(std::time::Duration::from_secs(15))
        .timeout_read(std::time::Duration::from_secs(120))
        .redirects(5)
        .user_agent(concat!("compose/", env!("CARGO_PKG_VERSION")))
        // HTTPS_PROXY and friends, as the registry client honours them;
        // never for loopback (ureq 2 does not read NO_PROXY).
        .try_proxy_from_env(!loopback)
        .build();
    let resp = agent.get(url).call().map_err(|e| match e {
        ureq::Error::Status(code, r) => {
            failed(format!("the server answered {code} {}", r.status_text()))
        }
        other => failed(other.to_string()),
    })?;
    let last_modified = resp.header("Last-Modified").map(str::to_string);
    std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    let path = dir.join(name);
    let file = std::fs::File::create(&path).map_err(io("create", &path))?;
    let mut w = HashingWriter::new(file);
    std::io::copy(&mut resp.into_reader(), &mut w)
        .map_err(|e| failed(format!("reading the body: {e}")))?;
    let (digest, _, file) = w.finish();
    if let Some(expected) = checksum {
        if *expected != digest {
            return Err(ExecError::ChecksumMismatch {
                at: at.clone(),
                url: url.to_string(),
                expected: expected.clone(),
                actual: digest,
            });
        }
    }
    if let Some(t) = last_modified.as_deref().and_then(http_date) {
        file.set_modified(t)
            .map_err(io("set the mtime of", &path))?;
    }
    Ok(Download {
        path,
        digest,
        last_modified,
    })
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 section
/// 5.6.7), the form servers send; the obsolete forms are ignored.
pub fn http_date(text: &str) -> Option<std::time::SystemTime> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? + 1;
    let day: u32 = day.parse().ok()?;
    let year: u32 = year.parse().ok()?;
    humantime::parse_rfc3339(&format!("{year:04}-{month:02}-{day:02}T{time}Z")).ok()
}

/// Check `reference` out of `git.url` into `dir`; returns the commit.
pub fn git_checkout(git: &GitRef, dir: &Path, at: &Location) -> Result<String, ExecError> {
    // With only a commit, fetch that commit.
    let reference = git
        .reference
        .as_deref()
        .or(git.commit.as_deref())
        .unwrap_or("HEAD");
    // A ref is passed to `git fetch` as an argument: one starting with `-`
    // would be read as an option (`--upload-pack=...` runs a command).
    if reference.starts_with('-') || git.url.starts_with('-') {
        return Err(ExecError::Git {
            at: at.clone(),
            url: git.url.clone(),
            reason: format!("`{reference}` is not a branch, tag or commit name"),
        });
    }
    std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    run_git(git, dir, &["init", "-q"], at)?;
    run_git(git, dir, &["remote", "add", "origin", &git.url], at)?;
    // A shallow fetch first; dumb HTTP and some servers cannot, then the
    // whole history is fetched.
    let shallow = ["fetch", "-q", "--depth=1", "--no-tags", "origin", reference];
    let full = ["fetch", "-q", "--tags", "origin", reference];
    let checkout = if run_git(git, dir, &shallow, at).is_ok() {
        "FETCH_HEAD"
    } else {
        match run_git(git, dir, &full, at) {
            Ok(_) => "FETCH_HEAD",
            // A server may refuse to send a commit no ref points at: fetch
            // every branch and tag, then look the commit up locally.
            Err(_) if is_commit_id(reference) => {
                let all = [
                    "fetch",
                    "-q",
                    "--tags",
                    "origin",
                    "+refs/heads/*:refs/remotes/origin/*",
                ];
                run_git(git, dir, &all, at)?;
                reference
            }
            Err(e) => return Err(e),
        }
    };
    run_git(git, dir, &["checkout", "-q", "--detach", checkout], at)?;
    let commit = run_git(git, dir, &["rev-parse", "HEAD"], at)?;
    let commit = commit.trim().to_string();
    if let Some(expected) = &git.commit {
        if !commit.starts_with(expected.as_str()) {
            return Err(ExecError::Git {
                at: at.clone(),
                url: git.url.clone(),
                reason: format!("`{reference}` is commit {commit}, not the expected {expected}"),
            });
        }
    }
    if !git.keep_git_dir {
        let dot_git = dir.join(".git");
        std::fs::remove_dir_all(&dot_git).map_err(io("remove", &dot_git))?;
    }
    Ok(commit)
}

/// Whether `s` looks like a (possibly abbreviated) commit id.
pub fn is_commit_id(s: &str) -> bool {
    (7..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn run_git(git: &GitRef, dir: &Path, args: &[&str], at: &Location) -> Result<String, ExecError> {
    let failed = |reason: String| ExecError::Git {
        at: at.clone(),
        url: git.url.clone(),
        reason,
    };
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        // Never wait for a password on a terminal the build does not own.
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .env(
            "GIT_SSH_COMMAND",
            std::env::var("GIT_SSH_COMMAND").unwrap_or_else(|_| "ssh -o BatchMode=yes".into()),
        )
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| failed(format!("cannot run `git` ({e}); is git installed?")))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(failed(format!(
            "`git {}` failed: {}",
            args.join(" "),
            stderr.trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_classified_as_buildkit_does() {
        let c = |s: &str| classify(s).unwrap();
        assert_eq!(c("app/"), AddSource::Local("app/".into()));
        assert_eq!(
            c("https://example.com/a.tar.gz?x=1"),
            AddSource::Http("https://example.com/a.tar.gz?x=1".into())
        );
        assert_eq!(
            c("https://example.com/org/repo.git#v1.2:docs/"),
            AddSource::Git(GitRef {
                url: "https://example.com/org/repo.git".into(),
                reference: Some("v1.2".into()),
                subdir: Some("docs".into()),
                ..GitRef::default()
            })
        );
        assert_eq!(
            c("git@github.com:org/repo.git"),
            AddSource::Git(GitRef {
                url: "git@github.com:org/repo.git".into(),
                ..GitRef::default()
            })
        );
        assert!(
            matches!(c("git://host/x#main"), AddSource::Git(g) if g.reference.as_deref() == Some("main"))
        );
    }

    #[test]
    fn git_url_queries_as_dockerfile_1_18_reads_them() {
        let c = |s: &str| classify(s).unwrap();
        assert_eq!(
            c("https://h/r.git?tag=v1&subdir=/docs/&keep-git-dir=true&checksum=abcdef1"),
            AddSource::Git(GitRef {
                url: "https://h/r.git".into(),
                reference: Some("refs/tags/v1".into()),
                subdir: Some("docs".into()),
                commit: Some("abcdef1".into()),
                keep_git_dir: true,
            })
        );
        assert!(
            matches!(c("git@h:r.git?branch=dev"), AddSource::Git(g) if g.reference.as_deref() == Some("refs/heads/dev"))
        );
        for (bad, why) in [
            ("https://h/r.git?branch=a&tag=b", "given twice"),
            ("https://h/r.git?depth=1", "unknown query key `depth`"),
            ("https://h/r.git?commit=main", "not a commit id"),
            ("https://h/r.git?submodules=true", "submodules"),
        ] {
            let e = classify(bad).unwrap_err();
            assert!(e.reason.contains(why), "{bad}: {}", e.reason);
        }
    }

    fn at() -> Location {
        Location {
            file: "Dockerfile".into(),
            line: 2,
        }
    }

    /// Answer every connection on 127.0.0.1 with `body` (or 404 for a
    /// path ending in `/missing`); returns the base URL.
    fn serve(body: &'static [u8]) -> String {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut conn in listener.incoming().flatten() {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut request = String::new();
                let _ = reader.read_line(&mut request);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let head = if request.contains("/missing ") {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n".to_string()
                } else {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
                        body.len()
                    )
                };
                let _ = write!(conn, "{head}Connection: close\r\n\r\n");
                if !request.contains("/missing ") {
                    let _ = conn.write_all(body);
                }
            }
        });
        format!("http://127.0.0.1:{port}")
    }

    #[test]
    fn downloads_verify_the_checksum_and_keep_last_modified() {
        let base = serve(b"payload\n");
        let d = tempfile::tempdir().unwrap();
        let right = Digest::of(b"payload\n");
        let got = download(
            &format!("{base}/f.txt"),
            d.path(),
            "f.txt",
            Some(&right),
            &at(),
        )
        .unwrap();
        assert_eq!(std::fs::read(&got.path).unwrap(), b"payload\n");
        assert_eq!(got.digest, right);
        let mtime = std::fs::metadata(&got.path).unwrap().modified().unwrap();
        assert_eq!(Some(mtime), http_date("Sun, 06 Nov 1994 08:49:37 GMT"));

        let wrong = Digest::of(b"other");
        let e = download(
            &format!("{base}/f.txt"),
            d.path(),
            "g.txt",
            Some(&wrong),
            &at(),
        )
        .unwrap_err();
        assert!(
            matches!(&e, ExecError::ChecksumMismatch { expected, actual, .. } if *expected == wrong && *actual == right),
            "{e}"
        );
        let e = download(&format!("{base}/missing"), d.path(), "m", None, &at()).unwrap_err();
        assert!(
            e.to_string().starts_with("Dockerfile:2: ") && e.to_string().contains("404"),
            "{e}"
        );
    }

    fn git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn git_checkouts_resolve_refs_and_drop_the_git_dir() {
        let d = tempfile::tempdir().unwrap();
        let repo = d.path().join("repo");
        std::fs::create_dir_all(&repo).unwrap();
        std::fs::write(repo.join("f.txt"), "one\n").unwrap();
        git(&repo, &["init", "-q"]);
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "one"]);
        git(&repo, &["tag", "v1"]);
        std::fs::write(repo.join("f.txt"), "two\n").unwrap();
        git(&repo, &["commit", "-q", "-am", "two"]);
        let source = |reference: Option<&str>, keep_git_dir: bool| GitRef {
            url: repo.display().to_string(),
            reference: reference.map(str::to_string),
            keep_git_dir,
            ..GitRef::default()
        };
        let out = d.path().join("v1");
        let commit = git_checkout(&source(Some("v1"), false), &out, &at()).unwrap();
        assert_eq!(commit.len(), 40, "{commit}");
        assert_eq!(std::fs::read_to_string(out.join("f.txt")).unwrap(), "one\n");
        assert!(!out.join(".git").exists());
        let out = d.path().join("by-id");
        let first = git_checkout(&source(Some(&commit[..12]), false), &out, &at()).unwrap();
        assert_eq!(first, commit, "an abbreviated commit id");
        assert_eq!(std::fs::read_to_string(out.join("f.txt")).unwrap(), "one\n");
        let out = d.path().join("head");
        let head = git_checkout(&source(None, true), &out, &at()).unwrap();
        assert_ne!(head, commit);
        assert_eq!(std::fs::read_to_string(out.join("f.txt")).unwrap(), "two\n");
        assert!(out.join(".git").is_dir(), "--keep-git-dir");
        // An expected commit: the ref must resolve to it.
        let pinned = GitRef {
            commit: Some(commit[..10].to_string()),
            ..source(Some("v1"), false)
        };
        git_checkout(&pinned, &d.path().join("pinned"), &at()).unwrap();
        let moved = GitRef {
            commit: Some(commit.clone()),
            ..source(Some("HEAD"), false)
        };
        let e = git_checkout(&moved, &d.path().join("moved"), &at())
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("not the expected {commit}")), "{e}");
        let e = git_checkout(&source(Some("nope"), false), &d.path().join("x"), &at())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("Dockerfile:2: ADD from git repository"),
            "{e}"
        );
        let e = git_checkout(
            &source(Some("--upload-pack=touch /tmp/pwned"), false),
            &d.path().join("y"),
            &at(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("is not a branch, tag or commit name"), "{e}");
        assert!(!d.path().join("y").exists(), "refused before running git");
    }

    #[test]
    fn download_names_and_http_dates() {
        assert_eq!(file_name("https://h/dir/tool.tgz?x=1"), "tool.tgz");
        assert_eq!(file_name("http://h"), "__unnamed__");
        assert_eq!(file_name("http://h/dir/"), "__unnamed__");
        let t = http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
            784111777
        );
        assert_eq!(http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
    }
}
