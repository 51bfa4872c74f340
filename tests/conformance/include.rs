//! `include` (compose-go `loader/include_test.go` and the include cases of
//! `loader_test.go`; spec 14-include.md): an included project brings its
//! own directory and environment, may be included twice, and is overridden
//! by the including files.

use super::support::Project;
use serde_json::json;

const IMPORTED: &str = "services:\n  imported:\n    image: nginx\n    container_name: ${SOURCE:-imported}\n    env_file:\n      - ./extra.env\n    volumes:\n      - /opt/data:/var/lib/mysql\n";

fn with_imported(main: &str) -> Project {
    Project::files(&[
        ("compose.yaml", main),
        ("subdir/imported.yaml", IMPORTED),
        ("subdir/extra.env", "SOURCE=extends\n"),
        (
            "compose-include.yaml",
            "include:\n  - path: ./subdir/imported.yaml\nservices:\n  bar:\n    image: bar\n    environment:\n      - FOO=BAR\n",
        ),
    ])
}

const MAIN: &str = "name: test-include\ninclude:\n  - path: ./subdir/imported.yaml\n    env_file: ./subdir/extra.env\nservices:\n  foo:\n    image: busybox\n    depends_on:\n      - imported\n";

#[test]
fn the_include_env_file_feeds_interpolation_of_the_included_file() {
    let p = with_imported(MAIN);
    let c = p.config();
    let imported = &c["services"]["imported"];
    assert_eq!(imported["container_name"], json!("extends"));
    assert_eq!(imported["environment"], json!({"SOURCE": "extends"}));
    assert_eq!(
        imported["env_file"],
        json!([{"path": format!("{}/subdir/extra.env", p.dir_str())}])
    );
    assert_eq!(
        c["services"]["foo"]["depends_on"],
        json!({"imported": {"condition": "service_started", "required": true}})
    );
}

#[test]
fn the_shell_wins_over_the_include_env_file() {
    let c = with_imported(MAIN).env("SOURCE", "override").config();
    assert_eq!(
        c["services"]["imported"]["container_name"],
        json!("override")
    );
}

#[test]
fn the_same_service_included_twice_is_not_a_conflict() {
    let main = "name: t\ninclude:\n  - path: ./subdir/imported.yaml\n    env_file: ./subdir/extra.env\n  - path: ./compose-include.yaml\nservices:\n  foo:\n    image: busybox\n    depends_on: [imported]\n";
    let c = with_imported(main).env("SOURCE", "override").config();
    assert_eq!(
        c["services"]["imported"]["container_name"],
        json!("override")
    );
    assert_eq!(c["services"]["bar"]["image"], json!("bar"));
}

#[test]
fn the_including_file_overrides_an_included_service() {
    let main = "name: t\ninclude:\n  - path: ./subdir/imported.yaml\n    env_file: ./subdir/extra.env\n  - path: ./compose-include.yaml\n    env_file: ./subdir/extra.env\nservices:\n  bar:\n    image: busybox\n    environment: !override\n      - ZOT=QIX\n";
    let c = with_imported(main).config();
    assert_eq!(c["services"]["bar"]["image"], json!("busybox"));
    assert_eq!(c["services"]["bar"]["environment"], json!({"ZOT": "QIX"}));
}

#[test]
fn a_later_file_overrides_an_included_service() {
    let mut p = with_imported("name: t\ninclude:\n  - ./subdir/imported.yaml\n");
    std::fs::write(
        p.path().join("override.yaml"),
        "services:\n  imported:\n    image: overridden\n",
    )
    .unwrap();
    p.opts.files = vec!["compose.yaml".into(), "override.yaml".into()];
    let c = p.config();
    assert_eq!(c["services"]["imported"]["image"], json!("overridden"));
}

#[test]
fn included_relative_paths_start_from_the_included_file() {
    let p = Project::files(&[
        (
            "compose.yaml",
            "name: t\ninclude:\n  - path: dir/included.yaml\n",
        ),
        (
            "dir/included.yaml",
            "services:\n  included:\n    build: .\n    volumes:\n      - ./:/mnt\n",
        ),
    ]);
    let c = p.config();
    let dir = format!("{}/dir", p.dir_str());
    assert_eq!(c["services"]["included"]["build"]["context"], json!(dir));
    assert_eq!(
        c["services"]["included"]["volumes"][0]["source"],
        json!(dir)
    );
}

#[test]
fn project_directory_sets_where_included_paths_start() {
    let p = Project::files(&[
        ("include/project-directory.yaml", "name: t\ninclude:\n  - project_directory: ../subdir\n    path: ./dir/compose.yaml\n"),
        (
            "include/dir/compose.yaml",
            "services:\n  service:\n    build:\n      dockerfile_inline: FROM busybox\n    volumes:\n      - type: bind\n        source: imported.yaml\n        target: /mnt/bind/compose.yaml\n    env_file:\n      - extra.env\n",
        ),
        ("subdir/imported.yaml", IMPORTED),
        ("subdir/extra.env", "SOURCE=extends\n"),
    ]);
    let mut p = p;
    p.opts.files = vec!["include/project-directory.yaml".into()];
    let c = p.config();
    let sub = format!("{}/subdir", p.dir_str());
    let s = &c["services"]["service"];
    assert_eq!(s["build"]["context"], json!(sub));
    assert_eq!(
        s["volumes"][0]["source"],
        json!(format!("{sub}/imported.yaml"))
    );
    assert_eq!(s["env_file"], json!([{"path": format!("{sub}/extra.env")}]));
}

#[test]
fn an_include_env_file_is_seen_only_by_the_included_project() {
    let c = Project::files(&[
        ("compose.yml", "name: project\ninclude:\n  - path:\n    - ./module/compose.yml\n    env_file:\n      - ./custom.env\nservices:\n  a:\n    image: alpine\n    environment:\n      - VAR_NAME\n"),
        ("custom.env", "VAR_NAME=value\n"),
        ("module/compose.yml", "services:\n  b:\n    image: alpine\n    environment:\n      - VAR_NAME\n  c:\n    image: alpine\n    environment:\n      - VAR_NAME\n"),
    ])
    .config();
    assert_eq!(c["services"]["a"]["environment"], json!({"VAR_NAME": null}));
    assert_eq!(
        c["services"]["b"]["environment"],
        json!({"VAR_NAME": "value"})
    );
    assert_eq!(
        c["services"]["c"]["environment"],
        json!({"VAR_NAME": "value"})
    );
}

#[test]
fn extends_inside_an_included_file_starts_from_its_project_directory() {
    let c = Project::files(&[
        ("compose.yml", "name: project\ninclude:\n  - project_directory: .\n    path: dir/included.yaml\n"),
        ("dir/included.yaml", "services:\n  included:\n    extends:\n      file: dir/extended.yaml\n      service: extended\n"),
        ("dir/extended.yaml", "services:\n  extended:\n    image: alpine\n"),
    ])
    .config();
    assert_eq!(c["services"]["included"]["image"], json!("alpine"));
}

#[test]
fn an_include_cycle_is_refused() {
    let err = Project::files(&[
        (
            "compose.yaml",
            "name: t\ninclude:\n  - other.yaml\nservices:\n  a:\n    image: x\n",
        ),
        (
            "other.yaml",
            "include:\n  - compose.yaml\nservices:\n  b:\n    image: x\n",
        ),
    ])
    .error();
    assert!(err.contains("cycle"), "{err}");
}

/// compose-go `GetEnvFromFile`: an include's env files are read in order, a
/// later one overriding an earlier one; several `path`s form one project.
#[test]
fn include_env_files_later_wins_and_paths_merge() {
    let c = Project::files(&[
        ("compose.yaml", "name: t\ninclude:\n  - path: [m/a.yaml, m/b.yaml]\n    env_file: [m/one.env, m/two.env]\n"),
        ("m/a.yaml", "services:\n  s:\n    image: ${IMG}\n    ports: ['${P}:80']\n"),
        ("m/b.yaml", "services:\n  s:\n    environment: [X=1]\n"),
        ("m/one.env", "IMG=one\nP=81\n"),
        ("m/two.env", "IMG=two\n"),
    ])
    .config();
    let s = &c["services"]["s"];
    assert_eq!(s["image"], json!("two"));
    assert_eq!(s["ports"][0]["published"], json!("81"));
    assert_eq!(s["environment"], json!({"X": "1"}));
}
