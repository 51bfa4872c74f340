//! Context walking over a real temporary directory.

use super::*;
use std::os::unix::fs::symlink;

fn tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for f in [
        "Dockerfile",
        "app.py",
        "README.md",
        "docs/guide.md",
        "docs/keep.txt",
        "node_modules/x/index.js",
        "src/b.rs",
        "src/a.rs",
        "src/deep/tmp.log",
    ] {
        let p = d.path().join(f);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, f).unwrap();
    }
    symlink("/etc/passwd", d.path().join("link")).unwrap();
    d
}

fn paths(entries: &[ContextEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.path.as_str()).collect()
}

#[test]
fn without_ignore_file_everything_is_listed_in_order() {
    let d = tree();
    let rules = IgnoreRules::load(d.path(), None).unwrap();
    assert!(rules.source.is_none());
    let all = walk_context(d.path(), &rules).unwrap();
    assert_eq!(
        paths(&all),
        [
            "Dockerfile",
            "README.md",
            "app.py",
            "docs",
            "docs/guide.md",
            "docs/keep.txt",
            "link",
            "node_modules",
            "node_modules/x",
            "node_modules/x/index.js",
            "src",
            "src/a.rs",
            "src/b.rs",
            "src/deep",
            "src/deep/tmp.log",
        ]
    );
    assert_eq!(all[6].kind, EntryKind::Symlink);
    assert_eq!(all[3].kind, EntryKind::Dir);
}

#[test]
fn dockerignore_excludes_with_exceptions() {
    let d = tree();
    fs::write(
        d.path().join(".dockerignore"),
        "# deps\nnode_modules\n/docs\n!docs/keep.txt\n**/*.log\n*.md\n",
    )
    .unwrap();
    let rules = IgnoreRules::load(d.path(), None).unwrap();
    let all = walk_context(d.path(), &rules).unwrap();
    assert_eq!(
        paths(&all),
        [
            ".dockerignore",
            "Dockerfile",
            "app.py",
            "docs",
            "docs/keep.txt",
            "link",
            "src",
            "src/a.rs",
            "src/b.rs",
            "src/deep",
        ]
    );
}

#[test]
fn dockerfile_specific_ignore_file_wins() {
    let d = tree();
    fs::write(d.path().join(".dockerignore"), "src\n").unwrap();
    fs::create_dir_all(d.path().join("build")).unwrap();
    fs::write(d.path().join("build/web.Dockerfile.dockerignore"), "*.py\n").unwrap();
    let rules = IgnoreRules::load(d.path(), Some(Path::new("build/web.Dockerfile"))).unwrap();
    assert_eq!(
        rules.source.as_deref(),
        Some(d.path().join("build/web.Dockerfile.dockerignore").as_path())
    );
    assert!(rules.excludes("app.py"));
    assert!(!rules.excludes("src/a.rs"));
    let rules = IgnoreRules::load(d.path(), Some(Path::new("other.Dockerfile"))).unwrap();
    assert!(rules.excludes("src/a.rs"));
}

#[test]
fn non_utf8_names_are_refused_unless_excluded() {
    use std::os::unix::ffi::OsStrExt;
    let d = tempfile::tempdir().unwrap();
    fs::create_dir(d.path().join("bin")).unwrap();
    fs::write(
        d.path()
            .join("bin")
            .join(std::ffi::OsStr::from_bytes(b"caf\xe9")),
        "x",
    )
    .unwrap();
    let e = walk_context(d.path(), &IgnoreRules::default()).unwrap_err();
    assert!(matches!(e, ContextError::NonUtf8 { .. }), "{e}");
    let rules = IgnoreRules::parse("bin/caf*\n", Path::new(".dockerignore")).unwrap();
    assert_eq!(paths(&walk_context(d.path(), &rules).unwrap()), ["bin"]);
}

#[test]
fn bad_pattern_names_file_and_line() {
    let e = IgnoreRules::parse("ok\n\n[bad\n", Path::new("ctx/.dockerignore")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "ctx/.dockerignore:3: bad pattern `[bad`: unclosed or malformed `[...]` class"
    );
}
