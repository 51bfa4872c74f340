//! `compose image …` end to end: the real binary against a temporary
//! `COMPOSE_ROOT`, with a busybox rootfs, a `docker save` archive and a
//! local `docker-registry` the tests push to. Failures must be one line on
//! stderr naming the reference, exit code 1, and leave the store untouched.

mod image_support;

use compose_runtime::image::oci::{self, Platform};
use compose_runtime::image::Digest;
use compose_runtime::testing::{
    busybox_rootfs_tar, free_port, gzip, push_image, random_layer, Auth, LocalRegistry,
};
use image_support::{one_line, Root};
use serde_json::{json, Value};

fn inspect(root: &Root, what: &str) -> Value {
    let out = root.ok(&["image", "inspect", what]);
    let v: Value = serde_json::from_str(&out).expect("inspect prints JSON");
    v[0].clone()
}

/// The `image ls` row (columns split on runs of spaces) of `repository`.
fn ls_row(root: &Root, repository: &str) -> Vec<String> {
    let out = root.ok(&["image", "ls"]);
    let mut lines = out.lines();
    assert!(lines.next().unwrap().starts_with("REPOSITORY"), "{out}");
    lines
        .map(|l| {
            l.split("   ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .find(|cols| cols[0] == repository)
        .unwrap_or_else(|| panic!("{repository} not in:\n{out}"))
}

#[test]
fn imported_rootfs_is_listed_inspected_removed_and_pruned() {
    let root = Root::new();
    let tar = root.path().join("rootfs.tar");
    std::fs::write(&tar, busybox_rootfs_tar()).unwrap();
    let busybox_len = std::fs::metadata("/usr/bin/busybox")
        .or_else(|_| std::fs::metadata("/bin/busybox"))
        .unwrap()
        .len();

    let id = root.ok(&["image", "import", "rootfs.tar", "local/busybox:1"]);
    let id = id.trim();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");

    let row = ls_row(&root, "local/busybox");
    assert_eq!(row[1], "1");
    assert_eq!(row[2], id["sha256:".len()..][..12]);
    assert!(row[3].ends_with("ago"), "{row:?}");
    assert!(row[4].ends_with("MB"), "busybox is megabytes: {row:?}");

    let info = inspect(&root, "local/busybox:1");
    assert_eq!(info["Id"], id);
    assert_eq!(info["RepoTags"], json!(["local/busybox:1"]));
    assert_eq!(info["Os"], "linux");
    assert_eq!(info["Architecture"], Platform::host().architecture);
    assert_eq!(info["RootFS"]["Layers"].as_array().unwrap().len(), 1);
    assert!(info["Config"].is_object(), "{info}");
    assert!(info["Size"].as_u64().unwrap() >= busybox_len);
    let lower = info["GraphDriver"]["Data"]["LowerDir"].as_str().unwrap();
    assert!(std::path::Path::new(lower).join("bin/busybox").is_file());

    // A second, untagged image: dangling, so prune takes it.
    std::fs::write(root.path().join("extra.tar"), random_layer(7, 200_000)).unwrap();
    let dangling = root.ok(&["image", "import", "extra.tar"]);
    assert_eq!(ls_row(&root, "<none>")[2], dangling.trim()[7..][..12]);
    assert_eq!(
        root.entries("layers").len(),
        4,
        "two layers and their .json"
    );

    let rm = root.ok(&["image", "rm", "local/busybox:1"]);
    assert_eq!(
        rm,
        format!("Untagged: local/busybox:1\nDeleted: {id}\n"),
        "docker's rm output"
    );
    let failed = root.compose(&["image", "inspect", "local/busybox:1"]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(one_line(&failed.stderr).contains("No such image: local/busybox:1"));
    assert_eq!(root.entries("layers").len(), 2, "rm collects its layer");

    let prune = root.ok(&["image", "prune", "--force"]);
    assert!(
        prune.contains(&format!("deleted: {}", dangling.trim())),
        "{prune}"
    );
    let reclaimed = prune.lines().last().unwrap();
    assert!(
        reclaimed.starts_with("Total reclaimed space: ") && reclaimed.ends_with("kB"),
        "{prune}"
    );
    root.assert_store_empty();
}

fn add_file(b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, name, data).unwrap();
}

/// An archive laid out as `docker save` writes one: `manifest.json`, the
/// config as `<hex>.json`, each layer as `<dir>/layer.tar`.
fn docker_save_archive() -> (Vec<u8>, Digest) {
    let layer = busybox_rootfs_tar();
    let config = serde_json::to_vec(&json!({
        "architecture": Platform::host().architecture, "os": "linux",
        "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin", "SAVED=yes"]},
        "rootfs": {"type": "layers", "diff_ids": [Digest::of(&layer)]},
    }))
    .unwrap();
    let config_digest = Digest::of(&config);
    let config_name = format!("{}.json", config_digest.hex());
    let manifest = json!([{
        "Config": config_name, "RepoTags": ["saved/app:v2"], "Layers": ["l1/layer.tar"],
    }]);
    let mut b = tar::Builder::new(Vec::new());
    add_file(&mut b, "l1/layer.tar", &layer);
    add_file(&mut b, &config_name, &config);
    add_file(&mut b, "manifest.json", manifest.to_string().as_bytes());
    (b.into_inner().unwrap(), config_digest)
}

#[test]
fn load_reads_a_docker_save_archive() {
    let root = Root::new();
    let (archive, id) = docker_save_archive();
    std::fs::write(root.path().join("saved.tar"), archive).unwrap();
    let out = root.ok(&["image", "load", "-i", "saved.tar"]);
    assert_eq!(out, "Loaded image: saved/app:v2\n");
    let info = inspect(&root, "saved/app:v2");
    assert_eq!(info["Id"], id.to_string());
    assert_eq!(info["Config"]["Env"], json!(["PATH=/bin", "SAVED=yes"]));
    assert_eq!(info["Config"]["Cmd"], json!(["/bin/sh"]));
    root.assert_blobs_whole();
}

/// Push a two-layer busybox image as `repo:tag`; returns its manifest digest.
fn push_busybox(reg: &LocalRegistry, repo: &str, tag: &str) -> Digest {
    let plain = busybox_rootfs_tar();
    let extra = random_layer(1, 10_000);
    let layers = [
        (plain.clone(), gzip(&plain), oci::DOCKER_LAYER_GZIP),
        (extra.clone(), gzip(&extra), oci::DOCKER_LAYER_GZIP),
    ];
    let arch = Platform::host().architecture;
    let manifest = push_image(
        reg,
        repo,
        &layers,
        &arch,
        oci::DOCKER_MANIFEST,
        oci::DOCKER_CONFIG,
    );
    reg.push_manifest(repo, tag, oci::DOCKER_MANIFEST, &manifest)
}

#[test]
fn pull_quiet_prints_the_reference_and_a_second_pull_is_up_to_date() {
    let root = Root::new();
    let reg = LocalRegistry::start(Auth::Anonymous);
    let digest = push_busybox(&reg, "team/app", "v1");
    let name = format!("{}/team/app:v1", reg.host);

    let out = root.compose(&["image", "pull", "--quiet", &name]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{name}\n"));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "quiet means quiet"
    );

    let row = ls_row(&root, &format!("{}/team/app", reg.host));
    assert_eq!(row[1], "v1");
    assert!(row[4].ends_with("MB"), "{row:?}");
    let info = inspect(&root, &name);
    assert_eq!(
        info["RepoDigests"],
        json!([format!("{}/team/app@{digest}", reg.host)])
    );

    let again = root.ok(&["image", "pull", &name]);
    assert!(again.contains(&format!("Digest: {digest}")), "{again}");
    assert!(
        again.contains(&format!("Status: Image is up to date for {name}")),
        "{again}"
    );
    root.assert_blobs_whole();
}

#[test]
fn an_unknown_image_is_one_line_naming_it_and_nothing_is_stored() {
    let root = Root::new();
    let reg = LocalRegistry::start(Auth::Anonymous);
    let name = format!("{}/nothing/here:nope", reg.host);
    let out = root.compose(&["image", "pull", &name]);
    assert_eq!(out.status.code(), Some(1));
    let line = one_line(&out.stderr);
    assert!(line.contains(&name) && line.contains("not found"), "{line}");
    root.assert_store_empty();
}

#[test]
fn an_unreachable_registry_is_one_line_naming_the_reference() {
    let root = Root::new();
    // Bound then released: nothing listens there.
    let name = format!("127.0.0.1:{}/app:v1", free_port());
    let out = root.compose(&["image", "pull", "-q", &name]);
    assert_eq!(out.status.code(), Some(1));
    let line = one_line(&out.stderr);
    assert!(
        line.contains(&name) && line.contains("cannot reach registry 127.0.0.1:"),
        "{line}"
    );
    root.assert_store_empty();
}

#[test]
fn two_pulls_of_one_reference_at_once_both_succeed() {
    let root = Root::new();
    let reg = LocalRegistry::start(Auth::Anonymous);
    push_busybox(&reg, "race", "latest");
    let name = format!("{}/race", reg.host);
    let children: Vec<_> = (0..2)
        .map(|_| {
            root.command(&["image", "pull", &name])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut statuses: Vec<String> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let stdout = String::from_utf8(out.stdout).unwrap();
            stdout
                .lines()
                .find(|l| l.starts_with("Status: "))
                .unwrap_or_else(|| panic!("no status in {stdout}"))
                .to_string()
        })
        .collect();
    statuses.sort();
    let want = format!("{name}:latest");
    assert_eq!(
        statuses,
        [
            format!("Status: Downloaded newer image for {want}"),
            format!("Status: Image is up to date for {want}"),
        ]
    );
    assert_eq!(root.ok(&["image", "ls", "-q"]).lines().count(), 1);
    assert_eq!(root.entries("tmp"), Vec::<String>::new());
    root.assert_blobs_whole();
}

/// A 48 MB image of incompressible layers, served through a proxy at
/// ~16 MB/s: a 3 s download, long enough to interrupt.
struct BigImage {
    _registry: LocalRegistry,
    name: String,
    layer_blobs: Vec<String>,
}

fn big_image() -> BigImage {
    let reg = LocalRegistry::start(Auth::Anonymous);
    let layers: Vec<_> = (0..2)
        .map(|seed| {
            let plain = random_layer(100 + seed, 24 << 20);
            (plain.clone(), plain, oci::OCI_LAYER)
        })
        .collect();
    let arch = Platform::host().architecture;
    let manifest = push_image(
        &reg,
        "big",
        &layers,
        &arch,
        oci::OCI_MANIFEST,
        oci::OCI_CONFIG,
    );
    reg.push_manifest("big", "v1", oci::OCI_MANIFEST, &manifest);
    let proxy = image_support::throttling_proxy(&reg.host, 16 << 20);
    BigImage {
        name: format!("{proxy}/big:v1"),
        layer_blobs: layers
            .iter()
            .map(|l| Digest::of(&l.1).hex().to_string())
            .collect(),
        _registry: reg,
    }
}

fn spawn_pull(root: &Root, name: &str) -> std::process::Child {
    root.command(&["image", "pull", "--quiet", name])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Wait until `child` has more than 1 MB of a download in `tmp/`; its name.
fn wait_for_partial(root: &Root, child: &mut std::process::Child) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let big = root.entries("tmp").into_iter().find(|f| {
            std::fs::metadata(root.images().join("tmp").join(f)).is_ok_and(|m| m.len() > 1 << 20)
        });
        if let Some(f) = big {
            return f;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no download seen in tmp/"
        );
        assert!(child.try_wait().unwrap().is_none(), "pull ended too soon");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// No partial layer blob in `blobs/`, no image recorded, no layer unpacked.
fn assert_nothing_committed(root: &Root, big: &BigImage) {
    root.assert_blobs_whole();
    for blob in root.entries("blobs/sha256") {
        assert!(
            !big.layer_blobs.contains(&blob),
            "no layer blob before its download ends"
        );
    }
    assert_eq!(root.ok(&["image", "ls", "-q"]), "", "no tag recorded");
    assert_eq!(root.entries("layers"), Vec::<String>::new());
}

#[test]
fn a_killed_pull_leaves_no_partial_blob_or_tag_and_the_next_pull_completes() {
    let root = Root::new();
    let big = big_image();
    let name = big.name.clone();
    let mut child = spawn_pull(&root, &name);
    let partial = wait_for_partial(&root, &mut child);
    // Child::kill sends SIGKILL to exactly this child: no cleanup runs.
    child.kill().unwrap();
    child.wait().unwrap();

    assert!(
        root.entries("tmp").contains(&partial),
        "the partial file stays in tmp/"
    );
    assert_nothing_committed(&root, &big);

    let out = root.ok(&["image", "pull", "--quiet", &name]);
    assert_eq!(out, format!("{name}\n"));
    assert_eq!(
        root.entries("tmp"),
        Vec::<String>::new(),
        "the dead pull's file is swept"
    );
    for blob in &big.layer_blobs {
        assert!(root.entries("blobs/sha256").contains(blob));
    }
    root.assert_blobs_whole();
    let info = inspect(&root, &name);
    assert_eq!(info["RootFS"]["Layers"].as_array().unwrap().len(), 2);
}

#[test]
fn killing_one_of_two_concurrent_pulls_lets_the_other_complete() {
    let root = Root::new();
    let big = big_image();
    let mut first = spawn_pull(&root, &big.name);
    wait_for_partial(&root, &mut first);
    // The second waits on the reference's lock the first holds.
    let second = spawn_pull(&root, &big.name);
    std::thread::sleep(std::time::Duration::from_millis(300));
    first.kill().unwrap();
    first.wait().unwrap();
    assert_nothing_committed(&root, &big);

    let out = second.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n", big.name)
    );
    root.assert_blobs_whole();
    for blob in &big.layer_blobs {
        assert!(root.entries("blobs/sha256").contains(blob));
    }
    assert_eq!(root.ok(&["image", "ls", "-q"]).lines().count(), 1);
}
