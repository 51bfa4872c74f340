//! `compose pull` end to end: a compose.yaml written by the test whose
//! images live on a local `docker-registry`, pulled through the binary
//! into a temporary `COMPOSE_ROOT`, with pull policies, service selection,
//! failures and `--ignore-pull-failures`.

mod image_support;

use compose_runtime::image::oci::{self, Platform};
use compose_runtime::testing::{gzip, push_image, random_layer, Auth, LocalRegistry};
use image_support::Root;

/// Push a one-layer image `repo:tag` (the layer named after `seed`).
fn push(reg: &LocalRegistry, repo: &str, tag: &str, seed: u64) {
    let plain = random_layer(seed, 4096);
    let layers = [(plain.clone(), gzip(&plain), oci::OCI_LAYER_GZIP)];
    let arch = Platform::host().architecture;
    let manifest = push_image(
        reg,
        repo,
        &layers,
        &arch,
        oci::OCI_MANIFEST,
        oci::OCI_CONFIG,
    );
    reg.push_manifest(repo, tag, oci::OCI_MANIFEST, &manifest);
}

fn project(root: &Root, reg: &LocalRegistry, extra: &str) {
    let h = &reg.host;
    let yaml = format!(
        "services:
  web:
    image: {h}/app:v1
    depends_on: [db]
  worker:
    image: {h}/app:v1
  db:
    image: {h}/db:v2
    pull_policy: missing
  tools:
    image: {h}/tools:latest
    pull_policy: missing
  local:
    image: {h}/never-pushed:v1
    pull_policy: never
  built:
    build: .
{extra}"
    );
    std::fs::write(root.path().join("compose.yaml"), yaml).unwrap();
}

fn images(root: &Root) -> Vec<String> {
    let out = root.ok(&["image", "ls", "--format", "json"]);
    let mut names: Vec<String> = out
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!(
                "{}:{}",
                v["Repository"].as_str().unwrap(),
                v["Tag"].as_str().unwrap()
            )
        })
        .collect();
    names.sort();
    names
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn pulls_each_distinct_image_once_and_honours_pull_policies() {
    let root = Root::new();
    let reg = LocalRegistry::start(Auth::Anonymous);
    push(&reg, "app", "v1", 1);
    push(&reg, "db", "v2", 2);
    push(&reg, "tools", "latest", 3);
    project(&root, &reg, "");
    let h = &reg.host;

    let out = root.compose(&["pull"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    for image in ["app:v1", "db:v2", "tools:latest"] {
        assert!(err.contains(&format!("Image {h}/{image} Pulled")), "{err}");
    }
    assert_eq!(
        err.matches(&format!("Image {h}/app:v1 Pulling")).count(),
        1,
        "{err}"
    );
    assert!(
        !err.contains("never-pushed"),
        "never is never pulled: {err}"
    );
    assert_eq!(
        images(&root),
        [
            format!("{h}/app:v1"),
            format!("{h}/db:v2"),
            format!("{h}/tools:latest")
        ]
    );

    // Present now: `missing` skips db, but docker compose re-pulls `latest`.
    let out = root.compose(&["pull"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "Image {h}/db:v2 Skipped - Image is already present locally"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("Image {h}/tools:latest Pulled")),
        "{err}"
    );
    assert!(err.contains(&format!("Image {h}/app:v1 Pulled")), "{err}");

    // `--policy always` overrides the file's `missing`.
    let err = stderr(&root.compose(&["pull", "--policy", "always", "db"]));
    assert!(err.contains(&format!("Image {h}/db:v2 Pulled")), "{err}");
}

#[test]
fn named_services_are_pulled_without_their_dependencies_unless_asked() {
    let root = Root::new();
    let reg = LocalRegistry::start(Auth::Anonymous);
    push(&reg, "app", "v1", 1);
    push(&reg, "db", "v2", 2);
    project(&root, &reg, "");
    let h = &reg.host;

    let out = root.compose(&["pull", "--quiet", "web"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        (out.stdout.len(), out.stderr.len()),
        (0, 0),
        "quiet prints nothing"
    );
    assert_eq!(images(&root), [format!("{h}/app:v1")]);

    root.ok(&["pull", "-q", "--include-deps", "web"]);
    assert_eq!(images(&root), [format!("{h}/app:v1"), format!("{h}/db:v2")]);
}

#[test]
fn a_failed_image_fails_the_command_unless_failures_are_ignored() {
    let root = Root::new();
    let reg = LocalRegistry::start(Auth::Anonymous);
    push(&reg, "app", "v1", 1);
    push(&reg, "db", "v2", 2);
    push(&reg, "tools", "latest", 3);
    let h = &reg.host;
    project(&root, &reg, &format!("  ghost:\n    image: {h}/ghost:v9\n"));

    let out = root.compose(&["pull", "-q"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("error: pulling ") && lines[0].contains(&format!("{h}/ghost:v9")),
        "{err}"
    );
    assert!(lines[0].contains("not found"), "{err}");
    // The other images were still pulled.
    assert_eq!(images(&root).len(), 3);

    let out = root.compose(&["pull", "-q", "--ignore-pull-failures"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{h}/ghost:v9")),
        "still reported"
    );
}

#[test]
fn an_invalid_image_reference_names_its_place_in_the_file() {
    let root = Root::new();
    std::fs::write(
        root.path().join("compose.yaml"),
        "services:\n  web:\n    image: 'No Such:Ref'\n",
    )
    .unwrap();
    let out = root.compose(&["pull"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(
            "compose.yaml:3:12: services.web.image: service \"web\" has an invalid image reference"
        ),
        "{err}"
    );
    assert_eq!(
        err.matches("must be lowercase").count(),
        1,
        "said once: {err}"
    );
    assert_eq!(root.entries("blobs/sha256"), Vec::<String>::new());
}
