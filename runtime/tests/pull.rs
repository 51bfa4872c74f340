//! Pulls from a real registry (Debian's `docker-registry` on 127.0.0.1)
//! holding images this test pushes itself: Docker schema 2 with gzip
//! layers, an OCI index with a zstd layer, concurrent pulls, Basic auth,
//! and the failures a user must see as one clear line.

mod common;

use common::{busybox_rootfs_tar, gzip, sha256, zstd, TarBuilder, TestRoot};
use compose_runtime::image::oci::{self, Platform};
use compose_runtime::image::registry::{ensure, pull, NoProgress, PullOptions, PullStatus};
use compose_runtime::image::{Digest, Reference};
use compose_runtime::testing::{free_port, push_image, Auth, Layer, LocalRegistry};
use serde_json::json;
use std::os::unix::fs::FileTypeExt;

fn gzip_layer(plain: Vec<u8>, media: &'static str) -> Layer {
    let blob = gzip(&plain);
    (plain, blob, media)
}

fn top_layer(marker: &str) -> Vec<u8> {
    let mut t = TarBuilder::new();
    t.dir("etc", 0o755).file("etc/.wh.passwd", b"", 0o644).file(
        "etc/marker",
        marker.as_bytes(),
        0o644,
    );
    t.finish()
}

fn push_docker_image(reg: &LocalRegistry, repo: &str, tag: &str, marker: &str) -> Digest {
    let layers = [
        gzip_layer(busybox_rootfs_tar(), oci::DOCKER_LAYER_GZIP),
        gzip_layer(top_layer(marker), oci::DOCKER_LAYER_GZIP),
    ];
    let manifest = push_image(
        reg,
        repo,
        &layers,
        &Platform::host().architecture,
        oci::DOCKER_MANIFEST,
        oci::DOCKER_CONFIG,
    );
    reg.push_manifest(repo, tag, oci::DOCKER_MANIFEST, &manifest)
}

fn reference(reg: &LocalRegistry, path: &str) -> Reference {
    Reference::parse(&format!("{}/{path}", reg.host)).unwrap()
}

#[test]
fn pulls_a_docker_schema2_image_and_reports_up_to_date_next_time() {
    let root = TestRoot::new();
    let reg = LocalRegistry::start(Auth::Anonymous);
    let digest = push_docker_image(&reg, "team/app", "v1", "docker");
    let r = reference(&reg, "team/app:v1");

    let out = pull(&root.store, &r, &PullOptions::default(), &NoProgress).unwrap();
    assert_eq!(out.digest, digest);
    assert_eq!(out.status, PullStatus::Downloaded);
    assert_eq!(out.record.tags, vec![r.to_string()]);
    assert_eq!(
        out.record.repo_digests,
        vec![format!("{}/team/app@{digest}", reg.host)]
    );

    let image = root.store.find(&r.to_string()).unwrap();
    assert_eq!(image.layer_dirs.len(), 2);
    assert!(image.layer_dirs[0].join("bin/busybox").is_file());
    assert_eq!(
        std::fs::read(image.layer_dirs[1].join("etc/marker")).unwrap(),
        b"docker"
    );
    assert!(
        std::fs::symlink_metadata(image.layer_dirs[1].join("etc/passwd"))
            .unwrap()
            .file_type()
            .is_char_device()
    );

    let again = pull(&root.store, &r, &PullOptions::default(), &NoProgress).unwrap();
    assert_eq!(again.status, PullStatus::UpToDate);
    // By digest too, without a tag.
    let pinned = reference(&reg, &format!("team/app@{digest}"));
    assert_eq!(
        pull(&root.store, &pinned, &PullOptions::default(), &NoProgress)
            .unwrap()
            .record
            .config,
        image.id
    );
}

#[test]
fn pulls_the_host_platform_from_a_multi_arch_oci_index_with_zstd_layers() {
    let root = TestRoot::new();
    let reg = LocalRegistry::start(Auth::Anonymous);
    let host = Platform::host();
    let other_arch = if host.architecture == "s390x" {
        "amd64"
    } else {
        "s390x"
    };
    let mine = [
        gzip_layer(busybox_rootfs_tar(), oci::OCI_LAYER_GZIP),
        (
            top_layer("host"),
            zstd(&top_layer("host")),
            oci::OCI_LAYER_ZSTD,
        ),
    ];
    let theirs = [gzip_layer(top_layer("other"), oci::OCI_LAYER_GZIP)];
    let m_mine = push_image(
        &reg,
        "multi",
        &mine,
        &host.architecture,
        oci::OCI_MANIFEST,
        oci::OCI_CONFIG,
    );
    let m_theirs = push_image(
        &reg,
        "multi",
        &theirs,
        other_arch,
        oci::OCI_MANIFEST,
        oci::OCI_CONFIG,
    );
    let d_mine = reg.push_manifest(
        "multi",
        &sha256(&m_mine).to_string(),
        oci::OCI_MANIFEST,
        &m_mine,
    );
    let d_theirs = reg.push_manifest(
        "multi",
        &sha256(&m_theirs).to_string(),
        oci::OCI_MANIFEST,
        &m_theirs,
    );
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": oci::OCI_INDEX,
        "manifests": [
            {"mediaType": oci::OCI_MANIFEST, "digest": d_theirs, "size": m_theirs.len(),
             "platform": {"architecture": other_arch, "os": "linux"}},
            {"mediaType": oci::OCI_MANIFEST, "digest": d_mine, "size": m_mine.len(),
             "platform": {"architecture": host.architecture, "os": "linux"}},
        ],
    }))
    .unwrap();
    let index_digest = reg.push_manifest("multi", "latest", oci::OCI_INDEX, &index);

    let r = reference(&reg, "multi");
    let out = pull(&root.store, &r, &PullOptions::default(), &NoProgress).unwrap();
    assert_eq!(out.digest, index_digest, "docker prints the index digest");
    let image = root.store.find(&r.to_string()).unwrap();
    assert_eq!(image.manifest, d_mine);
    assert_eq!(
        std::fs::read(image.layer_dirs[1].join("etc/marker")).unwrap(),
        b"host"
    );

    // Asking for a platform the index lacks names what it has.
    let opts = PullOptions {
        platform: Platform {
            architecture: "mips".into(),
            os: "linux".into(),
            variant: None,
        },
        ..PullOptions::default()
    };
    let err = pull(&root.store, &r, &opts, &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("linux/mips") && err.contains(other_arch),
        "{err}"
    );
}

#[test]
fn two_pulls_of_one_reference_at_once_serialise() {
    let root = TestRoot::new();
    let reg = LocalRegistry::start(Auth::Anonymous);
    push_docker_image(&reg, "race", "latest", "race");
    let r = reference(&reg, "race");
    let mut statuses: Vec<_> = std::thread::scope(|s| {
        let a = s.spawn(|| {
            pull(&root.store, &r, &PullOptions::default(), &NoProgress)
                .unwrap()
                .status
        });
        let b = s.spawn(|| {
            pull(&root.store, &r, &PullOptions::default(), &NoProgress)
                .unwrap()
                .status
        });
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    statuses.sort_by_key(|s| *s == PullStatus::UpToDate);
    assert_eq!(statuses, vec![PullStatus::Downloaded, PullStatus::UpToDate]);
}

#[test]
fn an_unknown_tag_is_one_line_naming_the_reference() {
    let root = TestRoot::new();
    let reg = LocalRegistry::start(Auth::Anonymous);
    let r = reference(&reg, "nothing/here:nope");
    let err = pull(&root.store, &r, &PullOptions::default(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&r.to_string()) && err.contains("not found"),
        "{err}"
    );
    assert!(!err.contains('\n'));
}

#[test]
fn an_unreachable_registry_is_named() {
    let root = TestRoot::new();
    let r = Reference::parse(&format!("127.0.0.1:{}/x", free_port())).unwrap();
    let err = pull(&root.store, &r, &PullOptions::default(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot reach registry 127.0.0.1:"), "{err}");
}

fn assert_nothing_visible(root: &TestRoot, r: &Reference) {
    assert!(
        root.store.get(r).unwrap().is_none(),
        "no tag after a failed pull"
    );
    let tmp = std::fs::read_dir(root.store.dir().join("tmp"))
        .unwrap()
        .count();
    assert_eq!(tmp, 0, "no temporary leftovers");
    let layers = std::fs::read_dir(root.store.dir().join("layers"))
        .unwrap()
        .count();
    assert_eq!(layers, 0, "no layer unpacked");
}

#[test]
fn a_blob_with_the_wrong_digest_is_refused() {
    let root = TestRoot::new();
    let reg = LocalRegistry::start(Auth::Anonymous);
    let layer = gzip_layer(top_layer("good"), oci::OCI_LAYER_GZIP);
    let manifest = push_image(
        &reg,
        "tampered",
        std::slice::from_ref(&layer),
        &Platform::host().architecture,
        oci::OCI_MANIFEST,
        oci::OCI_CONFIG,
    );
    reg.push_manifest("tampered", "latest", oci::OCI_MANIFEST, &manifest);
    // Swap the stored bytes behind the registry's back.
    let blob = sha256(&layer.1);
    let mut evil = layer.1.clone();
    let last = evil.len() - 9;
    evil[last] ^= 0xff;
    std::fs::write(reg.blob_file(&blob), &evil).unwrap();

    let r = reference(&reg, "tampered");
    let err = pull(&root.store, &r, &PullOptions::default(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("wrong digest")
            && err.contains(&blob.to_string())
            && err.contains(&r.to_string()),
        "{err}"
    );
    assert!(!root.store.has_blob(&blob));
    assert_nothing_visible(&root, &r);
}

#[test]
fn a_corrupt_gzip_layer_is_reported_and_not_unpacked() {
    let root = TestRoot::new();
    let reg = LocalRegistry::start(Auth::Anonymous);
    let plain = top_layer("x");
    let mut blob = gzip(&plain);
    let mid = blob.len() / 2;
    for b in &mut blob[mid..mid + 8] {
        *b ^= 0x5a;
    }
    let manifest = push_image(
        &reg,
        "broken",
        &[(plain, blob, oci::OCI_LAYER_GZIP)],
        &Platform::host().architecture,
        oci::OCI_MANIFEST,
        oci::OCI_CONFIG,
    );
    reg.push_manifest("broken", "latest", oci::OCI_MANIFEST, &manifest);
    let r = reference(&reg, "broken");
    let err = pull(&root.store, &r, &PullOptions::default(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&r.to_string()) && err.contains("not a valid gzip-compressed tar stream"),
        "{err}"
    );
    assert_nothing_visible(&root, &r);
}

#[test]
fn basic_auth_uses_the_docker_config_credentials() {
    let root = TestRoot::new();
    let reg = LocalRegistry::start(Auth::Basic("alice", "s3cret"));
    push_docker_image(&reg, "private/app", "v1", "secret");
    let r = reference(&reg, "private/app:v1");

    let err = pull(&root.store, &r, &PullOptions::default(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("access denied") && err.contains(&r.to_string()),
        "{err}"
    );

    let config = root.path().join("docker-config.json");
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
    std::fs::write(
        &config,
        json!({"auths": {reg.host.clone(): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let opts = PullOptions {
        docker_config: Some(config),
        ..PullOptions::default()
    };
    let out = pull(&root.store, &r, &opts, &NoProgress).unwrap();
    assert_eq!(out.status, PullStatus::Downloaded);
    let image = root.store.find(&r.to_string()).unwrap();
    assert_eq!(
        std::fs::read(image.layer_dirs[1].join("etc/marker")).unwrap(),
        b"secret"
    );
}

#[test]
fn bearer_tokens_are_fetched_from_the_challenge_realm() {
    let root = TestRoot::new();
    let tokens = common::token::TokenServer::start();
    let reg = LocalRegistry::start(Auth::Token(tokens.auth()));
    push_docker_image(&reg, "public/app", "v1", "anonymous");
    push_docker_image(&reg, "private/app", "v1", "members");

    // Anonymous token: enough for public/*.
    let public = reference(&reg, "public/app:v1");
    pull(&root.store, &public, &PullOptions::default(), &NoProgress).unwrap();
    let image = root.store.find(&public.to_string()).unwrap();
    assert_eq!(
        std::fs::read(image.layer_dirs[1].join("etc/marker")).unwrap(),
        b"anonymous"
    );

    // The private repository needs the token server to know who asks.
    let private = reference(&reg, "private/app:v1");
    let err = pull(&root.store, &private, &PullOptions::default(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("access denied") && err.contains(&private.to_string()),
        "{err}"
    );

    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        common::token::USER,
        common::token::PASSWORD
    ));
    let config = root.path().join("docker-config.json");
    std::fs::write(
        &config,
        json!({"auths": {format!("http://{}", reg.host): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let opts = PullOptions {
        docker_config: Some(config),
        ..PullOptions::default()
    };
    pull(&root.store, &private, &opts, &NoProgress).unwrap();
    let image = root.store.find(&private.to_string()).unwrap();
    assert_eq!(
        std::fs::read(image.layer_dirs[1].join("etc/marker")).unwrap(),
        b"members"
    );
}

#[test]
fn ensure_uses_the_local_image_and_pulls_only_when_missing() {
    let root = TestRoot::new();
    // A name on a registry nobody listens on: only the store can answer.
    let local = Reference::parse(&format!("127.0.0.1:{}/local:v1", free_port())).unwrap();
    let tar = root.path().join("rootfs.tar");
    std::fs::write(&tar, busybox_rootfs_tar()).unwrap();
    let rec =
        compose_runtime::image::import::import_rootfs(&root.store, &tar, Some(&local)).unwrap();
    let image = ensure(&root.store, &local, &PullOptions::default(), &NoProgress).unwrap();
    assert_eq!(image.id, rec.config);

    let reg = LocalRegistry::start(Auth::Anonymous);
    push_docker_image(&reg, "fresh", "latest", "fresh");
    let r = reference(&reg, "fresh");
    let image = ensure(&root.store, &r, &PullOptions::default(), &NoProgress).unwrap();
    assert_eq!(
        std::fs::read(image.layer_dirs[1].join("etc/marker")).unwrap(),
        b"fresh"
    );
}

#[test]
fn a_layer_whose_content_is_not_its_diff_id_is_refused_and_not_kept() {
    let root = TestRoot::new();
    let reg = LocalRegistry::start(Auth::Anonymous);
    // The config claims the diff ID of another tarball than the one pushed.
    let (claimed, sent) = (top_layer("claimed"), top_layer("sent"));
    let blob = gzip(&sent);
    let manifest = push_image(
        &reg,
        "lying",
        &[(claimed.clone(), blob.clone(), oci::OCI_LAYER_GZIP)],
        &Platform::host().architecture,
        oci::OCI_MANIFEST,
        oci::OCI_CONFIG,
    );
    reg.push_manifest("lying", "latest", oci::OCI_MANIFEST, &manifest);
    let r = reference(&reg, "lying");
    let err = pull(&root.store, &r, &PullOptions::default(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&r.to_string())
            && err.contains(&format!("unpacks to {}", sha256(&sent)))
            && err.contains(&format!("the image config says {}", sha256(&claimed))),
        "{err}"
    );
    assert!(
        !root.store.has_blob(&sha256(&blob)),
        "the layer blob is not kept"
    );
    assert_nothing_visible(&root, &r);
}
