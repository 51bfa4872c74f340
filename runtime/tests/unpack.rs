//! Layer unpacking against real tarballs: overlay whiteouts and opaque
//! directories, hard links, symlinks, owners, modes, mtimes, xattrs, the
//! three compressions, and hostile tarballs that must be refused.

mod common;

use common::{gzip, require_root, sha256, zstd, TarBuilder, MTIME};
use compose_runtime::image::unpack::{unpack_layer, EscapeKind, UnpackError};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

fn sample_layer() -> Vec<u8> {
    let mut t = TarBuilder::new();
    t.dir("./", 0o755)
        .dir("etc", 0o755)
        .file_owned("etc/owned", b"data", 0o640, 1000, 1001)
        .file("etc/setuid", b"x", 0o4755)
        .symlink("etc/link", "/etc/owned")
        .hardlink("etc/hard", "etc/owned")
        .file("etc/.wh.gone", b"", 0o644)
        .dir("var", 0o700)
        .file("var/.wh..wh..opq", b"", 0o644)
        .pax(&[
            ("SCHILY.xattr.user.comment", b"hello"),
            ("mtime", b"1700000000.5"),
        ])
        .file("var/attr", b"a", 0o600)
        .raw(tar::EntryType::Fifo, "var/fifo", "", b"");
    t.finish()
}

fn check_sample_tree(root: &Path) {
    let meta = |p: &str| std::fs::symlink_metadata(root.join(p)).unwrap();
    let owned = meta("etc/owned");
    assert_eq!((owned.uid(), owned.gid()), (1000, 1001));
    assert_eq!(owned.permissions().mode() & 0o7777, 0o640);
    assert_eq!(owned.mtime() as u64, MTIME);
    assert_eq!(std::fs::read(root.join("etc/owned")).unwrap(), b"data");
    assert_eq!(meta("etc/setuid").permissions().mode() & 0o7777, 0o4755);
    assert_eq!(
        std::fs::read_link(root.join("etc/link")).unwrap(),
        Path::new("/etc/owned")
    );
    assert_eq!(
        meta("etc/hard").ino(),
        owned.ino(),
        "hard link shares the inode"
    );
    let gone = meta("etc/gone");
    assert!(
        gone.file_type().is_char_device(),
        "whiteout is a char device"
    );
    assert_eq!(gone.rdev(), 0, "whiteout is device 0/0");
    assert!(!root.join("etc/.wh.gone").exists());
    assert_eq!(
        xattr::get(root.join("var"), "trusted.overlay.opaque").unwrap(),
        Some(b"y".to_vec())
    );
    assert!(!root.join("var/.wh..wh..opq").exists());
    assert_eq!(meta("var").permissions().mode() & 0o7777, 0o700);
    assert_eq!(
        meta("var").mtime() as u64,
        MTIME,
        "directory mtime survives its children"
    );
    assert_eq!(
        xattr::get(root.join("var/attr"), "user.comment").unwrap(),
        Some(b"hello".to_vec())
    );
    assert_eq!(meta("var/attr").mtime(), 1_700_000_000, "PAX mtime wins");
    assert!(meta("var/fifo").file_type().is_fifo());
    assert_eq!(meta("").permissions().mode() & 0o7777, 0o755);
}

#[test]
fn unpacks_whiteouts_links_and_metadata_in_all_compressions() {
    require_root();
    let plain = sample_layer();
    for (label, blob) in [
        ("plain", plain.clone()),
        ("gzip", gzip(&plain)),
        ("zstd", zstd(&plain)),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = unpack_layer(&blob[..], dir.path()).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(
            out.diff_id,
            sha256(&plain),
            "{label}: diff ID is the plain tar's digest"
        );
        assert_eq!(out.size, 6, "{label}: bytes of file content");
        check_sample_tree(dir.path());
    }
}

#[test]
fn later_entries_replace_earlier_ones_without_following_symlinks() {
    require_root();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    std::fs::write(&victim, b"original").unwrap();
    let mut t = TarBuilder::new();
    t.symlink("a", victim.to_str().unwrap())
        .file("a", b"replaced", 0o644);
    let dir = tempfile::tempdir().unwrap();
    unpack_layer(&t.finish()[..], dir.path()).unwrap();
    assert_eq!(
        std::fs::read(&victim).unwrap(),
        b"original",
        "nothing written through the symlink"
    );
    assert_eq!(std::fs::read(dir.path().join("a")).unwrap(), b"replaced");
}

fn assert_refused(tar: Vec<u8>, want: EscapeKind) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("layer");
    std::fs::create_dir(&root).unwrap();
    match unpack_layer(&tar[..], &root) {
        Err(UnpackError::Escape { kind, entry }) => {
            assert_eq!(kind, want, "entry {entry}");
        }
        other => panic!("expected {want:?}, got {other:?}"),
    }
    let outside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        outside,
        vec![std::ffi::OsString::from("layer")],
        "nothing written beside the layer"
    );
}

#[test]
fn hostile_parent_components_are_refused() {
    require_root();
    let mut t = TarBuilder::new();
    t.raw(tar::EntryType::Regular, "../evil", "", b"x");
    assert_refused(t.finish(), EscapeKind::ParentComponent);
    let mut t = TarBuilder::new();
    t.dir("a", 0o755)
        .raw(tar::EntryType::Regular, "a/../../evil", "", b"x");
    assert_refused(t.finish(), EscapeKind::ParentComponent);
}

#[test]
fn hostile_absolute_paths_are_refused() {
    require_root();
    let target = tempfile::tempdir().unwrap();
    let name = format!("{}/evil", target.path().display());
    let mut t = TarBuilder::new();
    t.raw(tar::EntryType::Regular, &name, "", b"x");
    assert_refused(t.finish(), EscapeKind::AbsolutePath);
    assert!(!target.path().join("evil").exists());
}

#[test]
fn hostile_symlinked_parents_are_refused() {
    require_root();
    let target = tempfile::tempdir().unwrap();
    let mut t = TarBuilder::new();
    t.symlink("escape", target.path().to_str().unwrap())
        .file("escape/evil", b"x", 0o644);
    assert_refused(t.finish(), EscapeKind::SymlinkParent);
    assert!(!target.path().join("evil").exists());
    // A relative symlink climbing out is refused the same way.
    let mut t = TarBuilder::new();
    t.symlink("up", "../..")
        .raw(tar::EntryType::Directory, "up/d/", "", b"");
    assert_refused(t.finish(), EscapeKind::SymlinkParent);
}

#[test]
fn hostile_hard_links_are_refused() {
    require_root();
    let mut t = TarBuilder::new();
    t.raw(
        tar::EntryType::Link,
        "passwd",
        "../../../../etc/passwd",
        b"",
    );
    assert_refused(t.finish(), EscapeKind::LinkParentComponent);
    let mut t = TarBuilder::new();
    t.raw(tar::EntryType::Link, "passwd", "/etc/passwd", b"");
    assert_refused(t.finish(), EscapeKind::LinkAbsolute);
    let mut t = TarBuilder::new();
    t.symlink("etc", "/etc")
        .raw(tar::EntryType::Link, "passwd", "etc/passwd", b"");
    assert_refused(t.finish(), EscapeKind::LinkThroughSymlink);
}

#[test]
fn hard_link_to_a_missing_file_is_an_error() {
    require_root();
    let mut t = TarBuilder::new();
    t.raw(tar::EntryType::Link, "x", "nothing", b"");
    let dir = tempfile::tempdir().unwrap();
    let err = unpack_layer(&t.finish()[..], dir.path()).unwrap_err();
    assert!(
        matches!(err, UnpackError::MissingLinkTarget { .. }),
        "{err}"
    );
}

#[test]
fn non_utf8_names_survive_and_can_be_whited_out() {
    require_root();
    let mut t = TarBuilder::new();
    t.raw(tar::EntryType::Regular, "caf\u{e9}", "", b"x");
    let mut tar = t.finish();
    // Turn the UTF-8 `é` (c3 a9) into Latin-1 (e9 ..): patch the raw name bytes.
    let pos = tar.windows(2).position(|w| w == [0xc3, 0xa9]).unwrap();
    tar[pos] = 0xe9;
    tar[pos + 1] = 0;
    let mut header = tar::Header::new_old();
    header.as_mut_bytes().copy_from_slice(&tar[..512]);
    header.set_cksum();
    tar[..512].copy_from_slice(header.as_bytes());
    let mut w = TarBuilder::new();
    w.raw(tar::EntryType::Regular, ".wh.x", "", b"");
    let mut wh = w.finish();
    let pos = wh.windows(5).position(|w| w == b".wh.x").unwrap();
    wh[pos + 4] = 0xe9;
    let mut header = tar::Header::new_old();
    header.as_mut_bytes().copy_from_slice(&wh[..512]);
    header.set_cksum();
    wh[..512].copy_from_slice(header.as_bytes());

    use std::os::unix::ffi::OsStrExt;
    let latin = std::ffi::OsStr::from_bytes(b"caf\xe9");
    let dir = tempfile::tempdir().unwrap();
    unpack_layer(&tar[..], dir.path()).unwrap();
    assert_eq!(std::fs::read(dir.path().join(latin)).unwrap(), b"x");
    let dir = tempfile::tempdir().unwrap();
    unpack_layer(&wh[..], dir.path()).unwrap();
    let whiteout =
        std::fs::symlink_metadata(dir.path().join(std::ffi::OsStr::from_bytes(b"\xe9"))).unwrap();
    assert!(whiteout.file_type().is_char_device());
}

#[test]
fn layers_cannot_set_overlayfs_attributes_themselves() {
    require_root();
    let mut t = TarBuilder::new();
    t.pax(&[
        ("SCHILY.xattr.trusted.overlay.redirect", b"/elsewhere"),
        (
            "SCHILY.xattr.security.capability",
            b"\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
        ),
    ])
    .dir("d", 0o755);
    let dir = tempfile::tempdir().unwrap();
    unpack_layer(&t.finish()[..], dir.path()).unwrap();
    let d = dir.path().join("d");
    assert_eq!(xattr::get(&d, "trusted.overlay.redirect").unwrap(), None);
    assert!(
        xattr::get(&d, "security.capability").unwrap().is_some(),
        "other xattrs are kept"
    );
}

#[test]
fn corrupt_gzip_is_reported() {
    require_root();
    let mut blob = gzip(&sample_layer());
    let mid = blob.len() / 2;
    for b in &mut blob[mid..mid + 16] {
        *b ^= 0xff;
    }
    let dir = tempfile::tempdir().unwrap();
    let err = unpack_layer(&blob[..], dir.path()).unwrap_err();
    assert!(matches!(err, UnpackError::Corrupt { .. }), "{err}");
}
