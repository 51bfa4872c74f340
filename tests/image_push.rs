//! `compose image tag`, `compose image push` and `compose push` against a
//! local `docker-registry` (anonymous and bearer-token auth): images pushed
//! and pulled back into a fresh `COMPOSE_ROOT` keep their digest, a second
//! push sends no layer again, a sibling repository mounts the blobs, and
//! every failure is one line naming the reference. Needs root (the store
//! unpacks layers).

mod image_support;

use compose_runtime::image::oci::{self, Platform};
use compose_runtime::image::{Digest, ImageStore};
use compose_runtime::testing::{free_port, gzip, push_image, random_layer, Auth, LocalRegistry};
use image_support::{one_line, token, Root};
use serde_json::Value;

fn inspect(root: &Root, what: &str) -> Value {
    let out = root.ok(&["image", "inspect", what]);
    let v: Value = serde_json::from_str(&out).expect("inspect prints JSON");
    v[0].clone()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `compose image push name` must succeed; its standard output.
fn push_ok(root: &Root, name: &str) -> String {
    let out = root.compose(&["image", "push", name]);
    assert!(out.status.success(), "push {name} failed: {}", stderr(&out));
    stdout(&out)
}

/// The digest of the `TAG: digest: sha256:… size: N` line, checking the
/// tag and that the size is the manifest's.
fn pushed_digest(out: &str, tag: &str) -> Digest {
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("{tag}: digest: ")))
        .unwrap_or_else(|| panic!("no digest line for {tag} in: {out}"));
    let parts: Vec<&str> = line.split(' ').collect();
    assert_eq!(parts.len(), 5, "{line}");
    assert_eq!(parts[3], "size:", "{line}");
    parts[2].parse().expect("a digest")
}

/// Layer outcome lines (`<12 hex>: Pushed`), sorted.
fn layer_lines(out: &str) -> Vec<String> {
    let mut lines: Vec<String> = out
        .lines()
        .filter(|l| l.len() > 14 && l.as_bytes()[12] == b':' && !l.contains("digest:"))
        .map(|l| l[14..].to_string())
        .collect();
    lines.sort();
    lines
}

#[test]
fn a_tagged_import_is_pushed_pulled_back_with_its_digest_and_pushed_again_without_uploads() {
    let root = Root::new();
    let reg = LocalRegistry::start(Auth::Anonymous);
    root.import_busybox("busybox:test");
    let name = format!("{}/team/busybox:v1", reg.host);
    root.ok(&["image", "tag", "busybox:test", &name]);
    let local = inspect(&root, &name);
    assert_eq!(local["Id"], inspect(&root, "busybox:test")["Id"]);

    let out = push_ok(&root, &name);
    assert!(
        out.starts_with(&format!(
            "The push refers to repository [{}/team/busybox]\n",
            reg.host
        )),
        "{out}"
    );
    assert_eq!(layer_lines(&out), ["Pushed"], "{out}");
    let digest = pushed_digest(&out, "v1");
    // The manifest went up byte for byte: the registry serves the same digest.
    let fresh = Root::new();
    let pulled = fresh.ok(&["image", "pull", &name]);
    assert!(pulled.contains(&format!("Digest: {digest}")), "{pulled}");
    assert_eq!(inspect(&fresh, &name)["Id"], local["Id"]);
    assert_eq!(
        inspect(&root, &name)["RepoDigests"],
        serde_json::json!([format!("{}/team/busybox@{digest}", reg.host)])
    );

    // Everything is there already: no layer is sent again.
    let again = push_ok(&root, &name);
    assert_eq!(layer_lines(&again), ["Layer already exists"], "{again}");
    assert_eq!(pushed_digest(&again, "v1"), digest);

    // A sibling repository gets the layer by a cross-repository mount.
    let sibling = format!("{}/team/copy:v2", reg.host);
    root.ok(&["image", "tag", &name, &sibling]);
    let mounted = push_ok(&root, &sibling);
    assert_eq!(
        layer_lines(&mounted),
        ["Mounted from team/busybox"],
        "{mounted}"
    );
    assert_eq!(pushed_digest(&mounted, "v2"), digest);
    let pulled = fresh.ok(&["image", "pull", &sibling]);
    assert!(pulled.contains(&format!("Digest: {digest}")), "{pulled}");

    // --all-tags: every tag of the repository, each with its digest line.
    root.ok(&[
        "image",
        "tag",
        &name,
        &format!("{}/team/busybox:v3", reg.host),
    ]);
    let repo = format!("{}/team/busybox", reg.host);
    let all = root.ok(&["image", "push", "--all-tags", &repo]);
    assert_eq!(pushed_digest(&all, "v1"), digest);
    assert_eq!(pushed_digest(&all, "v3"), digest);
    let out = root.compose(&["image", "push", "-a", &name]);
    assert_eq!(out.status.code(), Some(1));
    assert!(one_line(&out.stderr).contains("tag can't be used with --all-tags"));
    root.assert_blobs_whole();
}

#[test]
fn a_pulled_docker_schema2_image_is_pushed_as_it_is_and_quiet_prints_the_reference() {
    let root = Root::new();
    let reg = LocalRegistry::start(Auth::Anonymous);
    let plain = random_layer(7, 20_000);
    let layers = [(plain.clone(), gzip(&plain), oci::DOCKER_LAYER_GZIP)];
    let arch = Platform::host().architecture;
    let manifest = push_image(
        &reg,
        "upstream/app",
        &layers,
        &arch,
        oci::DOCKER_MANIFEST,
        oci::DOCKER_CONFIG,
    );
    let digest = reg.push_manifest("upstream/app", "v1", oci::DOCKER_MANIFEST, &manifest);
    let upstream = format!("{}/upstream/app:v1", reg.host);
    root.ok(&["image", "pull", "-q", &upstream]);

    // The ID prefix names the image, as `docker tag` takes it.
    let id = inspect(&root, &upstream)["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let mine = format!("{}/mine/app:release", reg.host);
    root.ok(&[
        "image",
        "tag",
        &id["sha256:".len().."sha256:".len() + 12],
        &mine,
    ]);
    let out = root.compose(&["image", "push", "--quiet", &mine]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{mine}\n"));
    assert_eq!(stderr(&out), "", "quiet means quiet");

    let fresh = Root::new();
    let pulled = fresh.ok(&["image", "pull", &mine]);
    assert!(pulled.contains(&format!("Digest: {digest}")), "{pulled}");
}

#[test]
fn bearer_token_push_needs_credentials_that_may_push() {
    let tokens = token::TokenServer::start();
    let reg = LocalRegistry::start(Auth::Token(tokens.auth()));
    let root = Root::new();
    root.import_busybox("busybox:test");
    let name = format!("{}/private/app:v1", reg.host);
    root.ok(&["image", "tag", "busybox:test", &name]);

    // Anonymous tokens grant no push: one line naming the reference.
    let out = root.compose(&["image", "push", &name]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let line = one_line(&out.stderr);
    assert!(
        line.contains(&format!("pushing {name}"))
            && line.contains("denied")
            && line.contains("private/app"),
        "{line}"
    );

    root.login(&reg.host, token::USER, token::PASSWORD);
    let out = push_ok(&root, &name);
    assert_eq!(layer_lines(&out), ["Pushed"], "{out}");
    let digest = pushed_digest(&out, "v1");

    let fresh = Root::new();
    fresh.login(&reg.host, token::USER, token::PASSWORD);
    let pulled = fresh.ok(&["image", "pull", &name]);
    assert!(pulled.contains(&format!("Digest: {digest}")), "{pulled}");
}

#[test]
fn failures_are_one_line_naming_the_reference() {
    let root = Root::new();
    let reg = LocalRegistry::start(Auth::Anonymous);
    root.import_busybox("busybox:test");

    let missing = format!("{}/nothing:here", reg.host);
    let out = root.compose(&["image", "push", &missing]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        one_line(&out.stderr),
        format!("error: An image does not exist locally with the tag: {missing}")
    );

    let out = root.compose(&["image", "tag", "nope:1", "x:1"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(one_line(&out.stderr), "error: No such image: nope:1");

    let unreachable = format!("127.0.0.1:{}/app:v1", free_port());
    root.ok(&["image", "tag", "busybox:test", &unreachable]);
    let out = root.compose(&["image", "push", &unreachable]);
    assert_eq!(out.status.code(), Some(1));
    let line = one_line(&out.stderr);
    assert!(
        line.contains(&format!("pushing {unreachable}"))
            && line.contains("cannot reach registry 127.0.0.1:"),
        "{line}"
    );

    let id = inspect(&root, "busybox:test")["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let pinned = format!("{}/app@{id}", reg.host);
    let out = root.compose(&["image", "push", &pinned]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        one_line(&out.stderr).contains("push a tag"),
        "{}",
        stderr(&out)
    );

    // A blob gone from the store is named before anything is sent.
    let store = ImageStore::open(&root.path().join("state")).unwrap();
    let image = store.find("busybox:test").unwrap();
    let layer = store.manifest(&image.manifest).unwrap().layers[0]
        .digest
        .clone();
    std::fs::remove_file(store.blob_path(&layer)).unwrap();
    let name = format!("{}/broken:v1", reg.host);
    root.ok(&["image", "tag", "busybox:test", &name]);
    let out = root.compose(&["image", "push", &name]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        one_line(&out.stderr),
        format!("error: pushing {name}: blob {layer} is not in the image store")
    );
}

const DOCKERFILE: &str = "FROM busybox:test\nCOPY hello.txt /hello.txt\n";

fn built_project(root: &Root, reg: &LocalRegistry) {
    let h = &reg.host;
    let yaml = format!(
        "services:
  app:
    image: {h}/built/app:v1
    build:
      context: .
      tags: [\"{h}/built/app:extra\"]
    depends_on: [helper]
  helper:
    image: {h}/built/helper:v1
    build: .
  db:
    image: {h}/never/pushed:v1
"
    );
    std::fs::write(root.path().join("compose.yaml"), yaml).unwrap();
    std::fs::write(root.path().join("Dockerfile"), DOCKERFILE).unwrap();
    std::fs::write(root.path().join("hello.txt"), "hello\n").unwrap();
}

#[test]
fn compose_push_sends_built_images_and_their_build_tags() {
    let root = Root::new();
    let reg = LocalRegistry::start(Auth::Anonymous);
    root.import_busybox("busybox:test");
    built_project(&root, &reg);
    let out = root.compose(&["build"]);
    assert!(out.status.success(), "build failed: {}", stderr(&out));

    // Named: without its dependency unless --include-deps.
    let out = root.compose(&["push", "app"]);
    assert!(out.status.success(), "push failed: {}", stderr(&out));
    let err = stderr(&out);
    let h = &reg.host;
    for line in [
        format!("Image {h}/built/app:v1 Pushed"),
        format!("Image {h}/built/app:extra Pushed"),
    ] {
        assert!(err.contains(&line), "{line} missing from: {err}");
    }
    assert!(!err.contains("helper"), "{err}");

    let fresh = Root::new();
    let local = inspect(&root, &format!("{h}/built/app:v1"));
    for tag in ["v1", "extra"] {
        let name = format!("{h}/built/app:{tag}");
        fresh.ok(&["image", "pull", "-q", &name]);
        assert_eq!(inspect(&fresh, &name)["Id"], local["Id"], "{name}");
    }
    let fetched = fresh.compose(&["image", "pull", "-q", &format!("{h}/built/helper:v1")]);
    assert!(!fetched.status.success(), "helper was not pushed");

    // All services: the helper too; `db` (not built) is skipped.
    let out = root.compose(&["push", "--include-deps", "app"]);
    assert!(out.status.success(), "push failed: {}", stderr(&out));
    assert!(stderr(&out).contains(&format!("Image {h}/built/helper:v1 Pushed")));
    let out = root.compose(&["push", "-q"]);
    assert!(out.status.success(), "push failed: {}", stderr(&out));
    assert_eq!(stderr(&out), "", "quiet means quiet");
}

#[test]
fn compose_push_failures_name_the_image_and_can_be_ignored() {
    let root = Root::new();
    let reg = LocalRegistry::start(Auth::Anonymous);
    root.import_busybox("busybox:test");
    built_project(&root, &reg);
    let h = &reg.host;
    // Only the helper is built; app's images do not exist locally.
    let out = root.compose(&["build", "helper"]);
    assert!(out.status.success(), "build failed: {}", stderr(&out));

    let out = root.compose(&["push", "--include-deps", "app"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "error: An image does not exist locally with the tag: {h}/built/app:v1"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("Image {h}/built/helper:v1 Pushed")),
        "{err}"
    );

    let out = root.compose(&["push", "--ignore-push-failures"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("WARN"), "{}", stderr(&out));

    // A built service without an image name cannot be pushed.
    std::fs::write(
        root.path().join("compose.yaml"),
        "services:\n  local:\n    build: .\n",
    )
    .unwrap();
    let out = root.compose(&["push", "local"]);
    assert_eq!(out.status.code(), Some(1));
    let line = stderr(&out);
    assert!(
        line.contains("services.local.image") && line.contains("service \"local\" has no image"),
        "{line}"
    );
}

#[test]
fn big_layers_go_up_in_chunks_and_come_back_whole() {
    let root = Root::new();
    let reg = LocalRegistry::start(Auth::Anonymous);
    root.import_busybox("busybox:test");
    let name = format!("{}/chunked/busybox:v1", reg.host);
    root.ok(&["image", "tag", "busybox:test", &name]);
    // The busybox layer is about two megabytes: a few dozen PATCHes, each
    // with the Content-Range the registry checks against what it has.
    let out = root
        .command(&["image", "push", &name])
        .env("COMPOSE_PUSH_CHUNK_SIZE", "65536")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let digest = pushed_digest(&stdout(&out), "v1");
    let fresh = Root::new();
    let pulled = fresh.ok(&["image", "pull", &name]);
    assert!(pulled.contains(&format!("Digest: {digest}")), "{pulled}");
    fresh.assert_blobs_whole();

    let bad = root
        .command(&["image", "push", &name])
        .env("COMPOSE_PUSH_CHUNK_SIZE", "lots")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(one_line(&bad.stderr).contains("COMPOSE_PUSH_CHUNK_SIZE"));
}

#[test]
fn basic_auth_push_uses_the_docker_config_credentials() {
    let reg = LocalRegistry::start(Auth::Basic("bob", "hunter2"));
    let root = Root::new();
    root.import_busybox("busybox:test");
    let name = format!("{}/basic/app:v1", reg.host);
    root.ok(&["image", "tag", "busybox:test", &name]);
    let out = root.compose(&["image", "push", "-q", &name]);
    assert_eq!(out.status.code(), Some(1));
    assert!(one_line(&out.stderr).contains("denied"), "{}", stderr(&out));

    root.login(&reg.host, "bob", "hunter2");
    let out = push_ok(&root, &name);
    assert_eq!(layer_lines(&out), ["Pushed"], "{out}");
}

fn add_file(b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
    let mut h = compose_runtime::testing::header(tar::EntryType::Regular, 0o644, data.len() as u64);
    b.append_data(&mut h, name, data).unwrap();
}

#[test]
fn a_loaded_docker_save_image_with_uncompressed_layers_is_pushed_as_stored() {
    // `docker save` keeps layers as plain tar: the manifest `image load`
    // writes says so (`…rootfs.diff.tar`), and the push keeps it.
    let layer = compose_runtime::testing::busybox_rootfs_tar();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": Platform::host().architecture, "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [Digest::of(&layer)]},
    }))
    .unwrap();
    let config_name = format!("{}.json", Digest::of(&config).hex());
    let manifest = serde_json::json!([{
        "Config": config_name, "RepoTags": ["saved/app:v2"], "Layers": ["l1/layer.tar"],
    }]);
    let mut b = tar::Builder::new(Vec::new());
    add_file(&mut b, "l1/layer.tar", &layer);
    add_file(&mut b, &config_name, &config);
    add_file(&mut b, "manifest.json", manifest.to_string().as_bytes());
    let root = Root::new();
    let archive = root.path().join("saved.tar");
    std::fs::write(&archive, b.into_inner().unwrap()).unwrap();
    root.ok(&["image", "load", "-q", "-i", archive.to_str().unwrap()]);

    let reg = LocalRegistry::start(Auth::Anonymous);
    let name = format!("{}/saved/app:v2", reg.host);
    root.ok(&["image", "tag", "saved/app:v2", &name]);
    let digest = pushed_digest(&push_ok(&root, &name), "v2");
    let fresh = Root::new();
    let pulled = fresh.ok(&["image", "pull", &name]);
    assert!(pulled.contains(&format!("Digest: {digest}")), "{pulled}");
    assert_eq!(
        inspect(&fresh, &name)["Id"],
        inspect(&root, "saved/app:v2")["Id"]
    );
}
