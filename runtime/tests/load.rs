//! `image load` of archives made here the way `docker save` (classic and
//! with a symlinked duplicate layer) and OCI image layouts (with a nested
//! multi-platform index) lay them out.

mod common;

use common::{busybox_rootfs_tar, gzip, sha256, TarBuilder, TestRoot};
use compose_runtime::image::archive::{load_archive, LoadError};
use compose_runtime::image::oci::{Platform, OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST};
use compose_runtime::image::Digest;
use serde_json::json;
use std::os::unix::fs::FileTypeExt;

fn top_layer() -> Vec<u8> {
    let mut t = TarBuilder::new();
    t.dir("etc", 0o755)
        .file("etc/.wh.passwd", b"", 0o644)
        .file("etc/motd", b"hi\n", 0o644);
    t.finish()
}

fn config_for(layers: &[&[u8]]) -> Vec<u8> {
    let host = Platform::host();
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l).to_string()).collect();
    serde_json::to_vec(&json!({
        "architecture": host.architecture, "os": "linux",
        "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap()
}

fn add_file(b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, name, data).unwrap();
}

fn docker_save_archive() -> (Vec<u8>, Digest) {
    let (base, top) = (busybox_rootfs_tar(), top_layer());
    let config = config_for(&[&base, &top]);
    let config_name = format!("{}.json", sha256(&config).hex());
    let single = config_for(&[&base]);
    let single_name = format!("{}.json", sha256(&single).hex());
    let manifest = json!([
        {"Config": config_name, "RepoTags": ["myapp:1.0", "localhost:5000/myapp:latest"],
         "Layers": ["aaa/layer.tar", "bbb/layer.tar"]},
        {"Config": single_name, "RepoTags": null, "Layers": ["ccc/layer.tar"]},
    ]);
    let mut b = tar::Builder::new(Vec::new());
    add_file(&mut b, "aaa/layer.tar", &base);
    add_file(&mut b, "bbb/layer.tar", &top);
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_mode(0o777);
    b.append_link(&mut h, "ccc/layer.tar", "../aaa/layer.tar")
        .unwrap();
    add_file(&mut b, &config_name, &config);
    add_file(&mut b, &single_name, &single);
    add_file(
        &mut b,
        "manifest.json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    add_file(&mut b, "repositories", br#"{"myapp":{"1.0":"bbb"}}"#);
    (b.into_inner().unwrap(), sha256(&config))
}

#[test]
fn loads_a_docker_save_archive() {
    let root = TestRoot::new();
    let (archive, config) = docker_save_archive();
    let path = root.path().join("save.tar");
    std::fs::write(&path, archive).unwrap();
    let loaded = load_archive(&root.store, &path).unwrap();
    assert_eq!(loaded.len(), 2);
    assert_eq!(loaded[0].record.config, config);
    assert_eq!(
        loaded[0].record.tags,
        vec![
            "docker.io/library/myapp:1.0".to_string(),
            "localhost:5000/myapp:latest".to_string()
        ]
    );
    assert!(loaded[1].names.is_empty(), "RepoTags null loads untagged");

    let image = root.store.find("localhost:5000/myapp").unwrap();
    assert_eq!(image.config.config.cmd, Some(vec!["/bin/sh".to_string()]));
    assert_eq!(image.layer_dirs.len(), 2);
    assert!(image.layer_dirs[0].join("bin/busybox").is_file());
    let whiteout = std::fs::symlink_metadata(image.layer_dirs[1].join("etc/passwd")).unwrap();
    assert!(whiteout.file_type().is_char_device());
    assert_eq!(
        std::fs::read(image.layer_dirs[1].join("etc/motd")).unwrap(),
        b"hi\n"
    );
    // The untagged image shares the base layer through the symlinked file.
    assert_eq!(
        loaded[1].record.layers[0].chain_id,
        loaded[0].record.layers[0].chain_id
    );
}

fn oci_layout_archive() -> (Vec<u8>, Digest) {
    let base = busybox_rootfs_tar();
    let layer = gzip(&base);
    let config = config_for(&[&base]);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256(&config), "size": config.len()},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": sha256(&layer), "size": layer.len()}],
    }))
    .unwrap();
    let host = Platform::host();
    let nested = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": sha256(b"elsewhere"), "size": 9,
             "platform": {"architecture": "s390x", "os": "linux"}},
            {"mediaType": OCI_MANIFEST, "digest": sha256(&manifest), "size": manifest.len(),
             "platform": {"architecture": host.architecture, "os": "linux"}},
        ],
    }))
    .unwrap();
    let index = json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_INDEX, "digest": sha256(&nested), "size": nested.len(),
            "annotations": {"io.containerd.image.name": "docker.io/library/ocitest:v1",
                            "org.opencontainers.image.ref.name": "v1"}}],
    });
    let mut b = tar::Builder::new(Vec::new());
    add_file(&mut b, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    add_file(&mut b, "index.json", &serde_json::to_vec(&index).unwrap());
    for blob in [&layer, &config, &manifest, &nested] {
        add_file(
            &mut b,
            &format!("blobs/sha256/{}", sha256(blob).hex()),
            blob,
        );
    }
    (b.into_inner().unwrap(), sha256(&manifest))
}

#[test]
fn loads_a_gzipped_oci_layout_with_a_multi_platform_index() {
    let root = TestRoot::new();
    let (archive, manifest) = oci_layout_archive();
    let path = root.path().join("oci.tar.gz");
    std::fs::write(&path, gzip(&archive)).unwrap();
    let loaded = load_archive(&root.store, &path).unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(
        loaded[0].record.tags,
        vec!["docker.io/library/ocitest:v1".to_string()]
    );
    let image = root.store.find("ocitest:v1").unwrap();
    assert_eq!(
        image.manifest, manifest,
        "the host platform's manifest was chosen"
    );
    assert!(image.layer_dirs[0].join("bin/busybox").is_file());
}

#[test]
fn a_blob_whose_content_does_not_match_its_name_is_refused() {
    let root = TestRoot::new();
    let mut b = tar::Builder::new(Vec::new());
    add_file(&mut b, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    add_file(
        &mut b,
        "index.json",
        br#"{"schemaVersion":2,"manifests":[]}"#,
    );
    add_file(
        &mut b,
        &format!("blobs/sha256/{}", sha256(b"one").hex()),
        b"two",
    );
    let path = root.path().join("bad.tar");
    std::fs::write(&path, b.into_inner().unwrap()).unwrap();
    let err = load_archive(&root.store, &path).unwrap_err();
    assert!(err.to_string().contains("digest mismatch"), "{err}");
    let blobs = std::fs::read_dir(root.store.dir().join("blobs/sha256"))
        .unwrap()
        .count();
    assert_eq!(blobs, 0, "nothing partial is stored");
}

#[test]
fn an_archive_of_neither_format_is_named_as_such() {
    let root = TestRoot::new();
    let mut b = tar::Builder::new(Vec::new());
    add_file(&mut b, "hello.txt", b"hi");
    let path = root.path().join("plain.tar");
    std::fs::write(&path, b.into_inner().unwrap()).unwrap();
    assert!(matches!(
        load_archive(&root.store, &path),
        Err(LoadError::UnknownFormat { .. })
    ));
}
