//! `image import` of a busybox rootfs tarball, and the store's bookkeeping
//! around it: tags, lookups, shared layers, rm and prune.

mod common;

use common::{busybox_rootfs_tar, gzip, TestRoot};
use compose_runtime::image::import::import_rootfs;
use compose_runtime::image::store::Removed;
use compose_runtime::image::{Reference, StoreError};
use std::collections::BTreeSet;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

fn write_tar(root: &TestRoot, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = root.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn imported_busybox_rootfs_unpacks_and_runs() {
    let root = TestRoot::new();
    let tar = write_tar(&root, "rootfs.tar.gz", &gzip(&busybox_rootfs_tar()));
    let name = Reference::parse("busybox:test").unwrap();
    let rec = import_rootfs(&root.store, &tar, Some(&name)).unwrap();
    assert_eq!(rec.tags, vec!["docker.io/library/busybox:test".to_string()]);
    assert_eq!(rec.layers.len(), 1);

    let image = root.store.find("busybox:test").unwrap();
    assert_eq!(image.id, rec.config);
    assert_eq!(image.config.os, "linux");
    assert_eq!(image.config.rootfs.diff_ids.len(), 1);
    let layer = &image.layer_dirs[0];
    let busybox = std::fs::metadata(layer.join("bin/busybox")).unwrap();
    assert_eq!(busybox.permissions().mode() & 0o777, 0o755);
    assert_eq!(
        std::fs::read_link(layer.join("bin/sh")).unwrap(),
        Path::new("busybox")
    );
    assert_eq!(
        std::fs::metadata(layer.join("bin/cat")).unwrap().ino(),
        busybox.ino()
    );
    assert_eq!(
        std::fs::metadata(layer.join("tmp"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777,
        0o1777
    );

    // The unpacked tree is a working root filesystem.
    let out = std::process::Command::new("chroot")
        .arg(layer)
        .args(["/bin/sh", "-c", "cat /etc/passwd"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "root:x:0:0:root:/root:/bin/sh\n"
    );

    // By ID prefix and full ID too.
    assert_eq!(
        root.store.find(&rec.config.hex()[..12]).unwrap().id,
        rec.config
    );
    assert_eq!(
        root.store.find(&rec.config.to_string()).unwrap().id,
        rec.config
    );
    assert!(matches!(
        root.store.find("busybox:other"),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn identical_layers_are_unpacked_once_and_tags_move() {
    let root = TestRoot::new();
    let tar = write_tar(&root, "rootfs.tar", &busybox_rootfs_tar());
    let a = import_rootfs(&root.store, &tar, Some(&Reference::parse("a").unwrap())).unwrap();
    let b = import_rootfs(&root.store, &tar, Some(&Reference::parse("b").unwrap())).unwrap();
    assert_eq!(a.layers[0].chain_id, b.layers[0].chain_id);
    let dirs = std::fs::read_dir(root.store.dir().join("layers"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert_eq!(dirs, 1, "one unpacked copy of the shared layer");
    let empty_tmp = std::fs::read_dir(root.store.dir().join("tmp"))
        .unwrap()
        .count();
    assert_eq!(empty_tmp, 0, "no temporary leftovers");

    // Re-importing under `a` moves the tag to the newest image (new config: new created time).
    let a2 = import_rootfs(&root.store, &tar, Some(&Reference::parse("a").unwrap())).unwrap();
    let list = root.store.list().unwrap();
    let tagged: Vec<_> = list
        .iter()
        .filter(|r| r.tags.iter().any(|t| t.ends_with("/a:latest")))
        .collect();
    assert_eq!(tagged.len(), 1);
    assert_eq!(tagged[0].config, a2.config);
    let _ = a;
}

#[test]
fn rm_untags_then_deletes_and_prune_collects_garbage() {
    let root = TestRoot::new();
    let tar = write_tar(&root, "rootfs.tar", &busybox_rootfs_tar());
    let rec = import_rootfs(&root.store, &tar, Some(&Reference::parse("x:1").unwrap())).unwrap();
    root.store
        .commit(
            &manifest_of(&root, &rec),
            &[Reference::parse("x:2").unwrap()],
        )
        .unwrap();

    let err = root
        .store
        .remove(&rec.config.hex()[..12], false)
        .unwrap_err();
    assert!(matches!(err, StoreError::MultipleTags { .. }), "{err}");

    let r = root.store.remove("x:1", false).unwrap();
    assert_eq!(
        r.removed,
        vec![Removed::Untagged("docker.io/library/x:1".into())]
    );
    assert!(
        root.store.blob_path(&rec.config).exists(),
        "still tagged x:2"
    );

    let r = root.store.remove("x:2", false).unwrap();
    assert_eq!(
        r.removed.last(),
        Some(&Removed::Deleted(rec.config.clone()))
    );
    assert!(r.reclaimed > 0);
    assert!(!root.store.blob_path(&rec.config).exists());
    assert!(!root.store.layer_dir(&rec.layers[0].chain_id).exists());

    // Prune removes untagged images only, unless `all`; in-use images stay.
    let mut other = common::TarBuilder::new();
    other.file("only-file", b"different content", 0o644);
    let other = write_tar(&root, "other.tar", &other.finish());
    let untagged = import_rootfs(&root.store, &other, None).unwrap();
    let tagged =
        import_rootfs(&root.store, &tar, Some(&Reference::parse("keep").unwrap())).unwrap();
    let r = root.store.prune(false, &BTreeSet::new()).unwrap();
    assert_eq!(r.removed, vec![Removed::Deleted(untagged.config.clone())]);
    let in_use = BTreeSet::from([tagged.config.clone()]);
    assert!(root.store.prune(true, &in_use).unwrap().removed.is_empty());
    let r = root.store.prune(true, &BTreeSet::new()).unwrap();
    assert_eq!(
        r.removed.last(),
        Some(&Removed::Deleted(tagged.config.clone()))
    );
    assert!(root.store.list().unwrap().is_empty());
    let blobs = std::fs::read_dir(root.store.dir().join("blobs/sha256"))
        .unwrap()
        .count();
    assert_eq!(blobs, 0);
}

#[test]
fn concurrent_imports_keep_every_tag() {
    let root = TestRoot::new();
    let tar = write_tar(&root, "rootfs.tar", &busybox_rootfs_tar());
    std::thread::scope(|s| {
        for i in 0..4 {
            let (store, tar) = (&root.store, &tar);
            s.spawn(move || {
                let name = Reference::parse(&format!("img{i}")).unwrap();
                import_rootfs(store, tar, Some(&name)).unwrap();
            });
        }
    });
    let tags: usize = root
        .store
        .list()
        .unwrap()
        .iter()
        .map(|r| r.tags.len())
        .sum();
    assert_eq!(tags, 4);
}

fn manifest_of(
    root: &TestRoot,
    rec: &compose_runtime::image::store::ImageRecord,
) -> compose_runtime::image::Digest {
    root.store
        .read_index()
        .unwrap()
        .images
        .iter()
        .find(|(_, r)| r.config == rec.config)
        .map(|(m, _)| m.clone())
        .unwrap()
}
