//! Layer diffs against a real overlay: a step's changes are made through
//! an overlayfs mount (so the kernel writes the whiteouts and opaque
//! markers), the upper dir becomes a layer, the layer goes through the
//! image store's unpacker, and an overlay of the unpacked layer over the
//! lower shows the step's result: deletions and replaced directories apply.

mod common;

use common::require_root;
use compose_runtime::build::diff::{write_layer, DiffOptions, MEDIA_TYPE};
use compose_runtime::image::compression::decompress;
use compose_runtime::image::unpack::unpack_layer;
use compose_runtime::image::Digest;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use std::fs;
use std::io::Read;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// An overlay mount, unmounted on drop.
struct Overlay(PathBuf);

impl Overlay {
    fn mount(lowers: &[&Path], upper_work: Option<(&Path, &Path)>, at: &Path) -> Overlay {
        let lower: Vec<String> = lowers.iter().map(|p| p.display().to_string()).collect();
        let mut opts = format!("lowerdir={}", lower.join(":"));
        if let Some((upper, work)) = upper_work {
            opts += &format!(",upperdir={},workdir={}", upper.display(), work.display());
        }
        fs::create_dir_all(at).unwrap();
        mount(
            Some("overlay"),
            at,
            Some("overlay"),
            MsFlags::empty(),
            Some(opts.as_str()),
        )
        .expect("mount overlay (needs root and overlayfs)");
        Overlay(at.to_path_buf())
    }
}

impl Drop for Overlay {
    fn drop(&mut self) {
        let _ = umount2(&self.0, MntFlags::MNT_DETACH);
    }
}

fn write(path: &Path, data: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, data).unwrap();
}

/// The base layer: what the step starts from.
fn lower(root: &Path) -> PathBuf {
    let l = root.join("lower");
    write(&l.join("etc/keep"), "keep");
    write(&l.join("etc/change"), "old");
    write(&l.join("etc/remove"), "bye");
    write(&l.join("var/cache/a"), "a");
    write(&l.join("var/cache/sub/b"), "b");
    write(&l.join("gone/dir/file"), "x");
    l
}

/// Run "the step" through an overlay: the kernel fills `upper`.
fn step(root: &Path, lower: &Path) -> PathBuf {
    let upper = root.join("upper");
    let work = root.join("work");
    fs::create_dir_all(&upper).unwrap();
    fs::create_dir_all(&work).unwrap();
    let merged = root.join("merged");
    let _m = Overlay::mount(&[lower], Some((&upper, &work)), &merged);
    fs::write(merged.join("etc/change"), "new").unwrap();
    fs::remove_file(merged.join("etc/remove")).unwrap();
    fs::remove_dir_all(merged.join("var/cache")).unwrap();
    fs::create_dir(merged.join("var/cache")).unwrap();
    write(&merged.join("var/cache/fresh"), "fresh");
    fs::remove_dir_all(merged.join("gone")).unwrap();
    write(&merged.join("usr/bin/tool"), "#!/bin/sh\n");
    // chown clears set-user-ID, so it comes first.
    nix::unistd::chown(
        &merged.join("usr/bin/tool"),
        Some(1000.into()),
        Some(1001.into()),
    )
    .unwrap();
    fs::set_permissions(
        merged.join("usr/bin/tool"),
        fs::Permissions::from_mode(0o4755),
    )
    .unwrap();
    fs::hard_link(merged.join("usr/bin/tool"), merged.join("usr/bin/tool2")).unwrap();
    symlink("tool", merged.join("usr/bin/alias")).unwrap();
    xattr::set(merged.join("usr/bin/tool"), "user.note", b"hi").unwrap();
    // Created and deleted within the step: no trace in the layer.
    write(&merged.join("tmp/scratch"), "s");
    fs::remove_file(merged.join("tmp/scratch")).unwrap();
    upper
}

fn tar_names(blob: &[u8]) -> Vec<String> {
    let (_, plain) = decompress(blob).unwrap();
    let mut a = tar::Archive::new(plain);
    a.entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect()
}

#[test]
fn overlay_changes_round_trip_through_the_unpacker() {
    require_root();
    let t = tempfile::tempdir().unwrap();
    let lower = lower(t.path());
    let upper = step(t.path(), &lower);

    let mut blob = Vec::new();
    let layer = write_layer(
        std::slice::from_ref(&lower),
        &upper,
        &mut blob,
        DiffOptions::default(),
    )
    .unwrap();
    assert_eq!(layer.media_type, MEDIA_TYPE);
    assert_eq!(layer.digest, Digest::of(&blob));
    assert_eq!(layer.size, blob.len() as u64);
    let (_, mut plain) = decompress(&blob[..]).unwrap();
    let mut tar_bytes = Vec::new();
    plain.read_to_end(&mut tar_bytes).unwrap();
    assert_eq!(layer.diff_id, Digest::of(&tar_bytes));

    let names = tar_names(&blob);
    for expected in [
        "etc/.wh.remove",
        "var/cache/.wh..wh..opq",
        "etc/change",
        ".wh.gone",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    assert!(!names.iter().any(|n| n.contains("scratch")), "{names:?}");
    assert_eq!(layer.entries, names.len());
    let pos = |n: &str| names.iter().position(|x| x == n).unwrap();
    assert!(
        pos("usr") < pos("usr/bin") && pos("usr/bin") < pos("usr/bin/alias"),
        "parents first"
    );
    assert!(
        pos("usr/bin/alias") < pos("usr/bin/tool") && pos("usr/bin/tool") < pos("usr/bin/tool2"),
        "sorted"
    );

    // Apply: unpack the layer, then view it over the lower as a container would.
    let unpacked = t.path().join("unpacked");
    fs::create_dir(&unpacked).unwrap();
    let u = unpack_layer(&blob[..], &unpacked).unwrap();
    assert_eq!(u.diff_id, layer.diff_id);
    let view = t.path().join("view");
    let _v = Overlay::mount(&[&unpacked, &lower], None, &view);
    assert_eq!(fs::read_to_string(view.join("etc/keep")).unwrap(), "keep");
    assert_eq!(fs::read_to_string(view.join("etc/change")).unwrap(), "new");
    assert!(!view.join("etc/remove").exists(), "whiteout applies");
    assert!(
        !view.join("gone").exists(),
        "removed directory stays removed"
    );
    let cache: Vec<_> = fs::read_dir(view.join("var/cache"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        cache,
        ["fresh"],
        "opaque directory hides the lower's content"
    );
    let tool = fs::symlink_metadata(view.join("usr/bin/tool")).unwrap();
    assert_eq!((tool.uid(), tool.gid()), (1000, 1001));
    assert_eq!(tool.mode() & 0o7777, 0o4755);
    assert_eq!(
        fs::symlink_metadata(view.join("usr/bin/tool2"))
            .unwrap()
            .ino(),
        tool.ino()
    );
    assert_eq!(
        fs::read_link(view.join("usr/bin/alias")).unwrap(),
        Path::new("tool")
    );
    assert_eq!(
        xattr::get(view.join("usr/bin/tool"), "user.note").unwrap(),
        Some(b"hi".to_vec())
    );
}

#[test]
fn layers_are_deterministic_and_clamping_hides_mtimes() {
    require_root();
    let t = tempfile::tempdir().unwrap();
    let lower = lower(t.path());
    let upper = step(t.path(), &lower);
    let run = |opts| {
        let mut blob = Vec::new();
        write_layer(std::slice::from_ref(&lower), &upper, &mut blob, opts).unwrap()
    };
    let a = run(DiffOptions::default());
    assert_eq!(a, run(DiffOptions::default()), "same upper, same digests");
    let clamp = DiffOptions {
        clamp_mtime: Some(0),
    };
    let before = run(clamp);
    let f = fs::File::options()
        .write(true)
        .open(upper.join("etc/change"))
        .unwrap();
    f.set_modified(
        std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_234_567_890),
    )
    .unwrap();
    assert_eq!(
        run(clamp).diff_id,
        before.diff_id,
        "clamped mtimes ignore touches"
    );
    assert_ne!(
        run(DiffOptions::default()).diff_id,
        a.diff_id,
        "kept mtimes see them"
    );
}

#[test]
fn an_unchanged_step_has_no_entries() {
    require_root();
    let t = tempfile::tempdir().unwrap();
    let lower = lower(t.path());
    let upper = t.path().join("empty-upper");
    fs::create_dir(&upper).unwrap();
    let mut blob = Vec::new();
    let layer = write_layer(&[lower], &upper, &mut blob, DiffOptions::default()).unwrap();
    assert_eq!(layer.entries, 0);
    assert!(tar_names(&blob).is_empty());
}
