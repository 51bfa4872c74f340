//! Project-level behaviours of compose-go's `loader/loader_test.go`: the
//! project name as a variable, several documents and files, names that look
//! like numbers or extensions, dependency cycles, and value forms (legacy
//! booleans, `-1` byte sizes, `build.ssh`, device request counts).

use super::support::{config, error, service, Project};
use serde_json::json;

#[test]
fn compose_project_name_is_interpolated_from_the_name() {
    let s = service(
        "name: interpolated\nservices:\n  web:\n    image: web\n    container_name: ${COMPOSE_PROJECT_NAME}-web\n",
        "web",
    );
    assert_eq!(s["container_name"], json!("interpolated-web"));
}

#[test]
fn the_last_name_among_the_files_is_the_project_name_everywhere() {
    let mut p = Project::files(&[
        ("a.yaml", "name: interpolated\nservices:\n  web:\n    image: web\n    container_name: ${COMPOSE_PROJECT_NAME}-web\n"),
        ("b.yaml", "name: overrided\nservices:\n  db:\n    image: db\n    container_name: ${COMPOSE_PROJECT_NAME}-db\n"),
        ("c.yaml", "services:\n  proxy:\n    image: proxy\n    container_name: ${COMPOSE_PROJECT_NAME}-proxy\n"),
    ]);
    p.opts.files = vec!["a.yaml".into(), "b.yaml".into(), "c.yaml".into()];
    let c = p.config();
    assert_eq!(c["name"], json!("overrided"));
    for s in ["web", "db", "proxy"] {
        assert_eq!(
            c["services"][s]["container_name"],
            json!(format!("overrided-{s}"))
        );
    }
}

#[test]
fn the_command_line_name_wins_over_the_file() {
    let mut p = Project::new("name: another_name\nservices:\n  web:\n    image: web\n    container_name: ${COMPOSE_PROJECT_NAME}-web\n");
    p.opts.project_name = Some("interpolated".into());
    let c = p.config();
    assert_eq!(
        c["services"]["web"]["container_name"],
        json!("interpolated-web")
    );
}

#[test]
fn a_later_document_of_the_same_file_overrides_an_earlier_one() {
    let s = service(
        "name: docs\nservices:\n  test:\n    image: nginx:latest\n---\nservices:\n  test:\n    image: nginx:override\n",
        "test",
    );
    assert_eq!(s["image"], json!("nginx:override"));
}

#[test]
fn an_empty_override_file_changes_nothing() {
    let mut p = Project::files(&[
        (
            "compose.yaml",
            "name: test-with-empty-file\nservices:\n  test:\n    image: foo\n",
        ),
        ("override.yaml", ""),
    ]);
    p.opts.files = vec!["compose.yaml".into(), "override.yaml".into()];
    assert_eq!(p.config()["name"], json!("test-with-empty-file"));
}

#[test]
fn an_empty_project_is_refused() {
    let err = error("");
    assert!(err.contains("empty compose file"), "{err}");
}

#[test]
fn the_project_name_must_be_a_string() {
    let err = error("name: 123\nservices:\n  a:\n    image: x\n");
    assert!(err.contains("name") && err.contains("string"), "{err}");
}

#[test]
fn yes_is_a_boolean_where_a_boolean_is_expected() {
    let s = service(
        "name: x\nservices:\n  test:\n    image: x\n    init: yes\n",
        "test",
    );
    assert_eq!(s["init"], json!(true));
}

#[test]
fn byte_sizes_accept_minus_one_and_units() {
    let c = config("name: x\nservices:\n  test1:\n    image: test\n    memswap_limit: -1\n  test2:\n    image: test\n    memswap_limit: 640kb\n");
    assert_eq!(c["services"]["test1"]["memswap_limit"], json!("-1"));
    assert_eq!(c["services"]["test2"]["memswap_limit"], json!("655360"));
}

/// compose-go prints an SSH key with a path as the string `id: path`
/// (`SSHKey.MarshalYAML`), which its own loader then refuses: printed as
/// docker compose prints it, without a round trip.
#[test]
fn build_ssh_forms() {
    let p = Project::new(concat!(
        "name: x\nservices:\n",
        "  none:\n    build: {context: .}\n",
        "  keys:\n    build:\n      context: .\n      ssh: [key1=value1, key2=value2, default]\n",
        "  map:\n    build:\n      context: .\n      ssh:\n        key1: value1\n",
    ));
    let c = super::support::yaml_value(&p.load().project.to_yaml().unwrap());
    let dir = p.dir_str();
    assert!(c["services"]["none"]["build"].get("ssh").is_none());
    assert_eq!(
        c["services"]["keys"]["build"]["ssh"],
        json!([
            format!("key1: {dir}/value1"),
            format!("key2: {dir}/value2"),
            "default"
        ])
    );
    assert_eq!(
        c["services"]["map"]["build"]["ssh"],
        json!([format!("key1: {dir}/value1")])
    );
}

#[test]
fn build_ssh_without_a_value_is_refused() {
    let err = error("name: x\nservices:\n  test:\n    build:\n      context: .\n      ssh:\n");
    assert!(err.contains("services.test.build.ssh"), "{err}");
}

#[test]
fn build_ulimits() {
    let s = service(
        "name: x\nservices:\n  test:\n    build:\n      context: .\n      ulimits:\n        nproc: 65535\n        nofile: {soft: 20000, hard: 40000}\n",
        "test",
    );
    assert_eq!(
        s["build"]["ulimits"],
        json!({"nproc": 65535, "nofile": {"soft": 20000, "hard": 40000}})
    );
}

#[test]
fn a_volume_may_be_named_like_a_number() {
    let s = service(
        "name: test-numeric-ids\nservices:\n  foo:\n    image: busybox\n    volumes:\n      - 0:/foo\nvolumes:\n  '0': {}\n",
        "foo",
    );
    assert_eq!(
        s["volumes"],
        json!([{"type": "volume", "source": "0", "target": "/foo", "volume": {}}])
    );
}

#[test]
fn resources_may_be_named_like_extensions() {
    let c = config(concat!(
        "name: test-x-service\nservices:\n  x-foo:\n    image: busybox\n",
        "    volumes: ['x-volume:/dev/null']\n    configs: [x-config]\n    secrets: [x-secret]\n    networks: [x-network]\n",
        "volumes:\n  x-volume:\nsecrets:\n  x-secret:\n    external: true\nnetworks:\n  x-network:\nconfigs:\n  x-config:\n    external: true\n",
    ));
    assert!(c["services"]["x-foo"].is_object());
    assert!(c["volumes"]["x-volume"].is_object());
    assert!(c["secrets"]["x-secret"].is_object());
    assert!(c["configs"]["x-config"].is_object());
    assert!(c["networks"]["x-network"].is_object());
}

#[test]
fn a_service_named_extension_is_a_service() {
    let s = service(
        "name: test\nservices:\n  extension:\n    image: web\n    x-foo: bar\n",
        "extension",
    );
    assert_eq!(s["x-foo"], json!("bar"));
}

#[test]
fn service_names_may_contain_dots() {
    let s = service(
        "name: x\nservices:\n  test.a.b.c:\n    image: foo\n    ports: ['5432']\n",
        "test.a.b.c",
    );
    assert_eq!(s["ports"][0]["target"], json!(5432));
}

#[test]
fn dependency_cycles_are_named() {
    let err = error("name: c\nservices:\n  service1:\n    image: s\n    depends_on: [service2]\n  service2:\n    image: s\n    depends_on: [service3]\n  service3:\n    image: s\n    depends_on: [service1]\n");
    assert!(
        err.contains("service1 -> service2 -> service3 -> service1"),
        "{err}"
    );
    let err = error("name: c\nservices:\n  service1:\n    image: s\n    depends_on: [service1]\n");
    assert!(err.contains("service1"), "{err}");
}

#[test]
fn depends_on_conditions_and_required() {
    let s = service(
        concat!(
            "name: d\nservices:\n  foo:\n    image: nginx\n    depends_on:\n",
            "      bar: {condition: service_started}\n",
            "      baz: {condition: service_healthy, required: false}\n",
            "      qux: {condition: service_completed_successfully, required: true}\n",
            "  bar: {image: x}\n  baz: {image: x}\n  qux: {image: x}\n",
        ),
        "foo",
    );
    assert_eq!(
        s["depends_on"],
        json!({
            "bar": {"condition": "service_started", "required": true},
            "baz": {"condition": "service_healthy", "required": false},
            "qux": {"condition": "service_completed_successfully", "required": true},
        })
    );
}

#[test]
fn network_mode_and_networks_are_exclusive() {
    let err = error("name: scratch\nservices:\n  redis:\n    image: redis\n    network_mode: bridge\n    networks:\n      gratheon: null\nnetworks:\n  gratheon:\n    name: scratch_gratheon\n");
    assert!(
        err.contains("network_mode") && err.contains("networks"),
        "{err}"
    );
}

#[test]
fn isolation_is_not_checked_by_the_loader() {
    let s = service(
        "name: x\nservices:\n  foo:\n    image: busybox\n    isolation: invalid\n",
        "foo",
    );
    assert_eq!(s["isolation"], json!("invalid"));
}

#[test]
fn device_request_counts() {
    let devices = |count: &str| {
        let s = service(
            &format!("name: x\nservices:\n  hw:\n    image: redis\n    deploy:\n      resources:\n        reservations:\n          devices:\n            - driver: nvidia\n              capabilities: [gpu]\n{count}"),
            "hw",
        );
        s["deploy"]["resources"]["reservations"]["devices"][0]["count"].clone()
    };
    assert_eq!(devices("              count: 1\n"), json!(1));
    assert_eq!(devices("              count: '1'\n"), json!(1));
    assert_eq!(devices("              count: all\n"), json!(-1));
    assert_eq!(
        devices(""),
        json!(-1),
        "no count and no device_ids means all"
    );
}

#[test]
fn device_request_errors() {
    let base = "name: x\nservices:\n  hw:\n    image: redis\n    deploy:\n      resources:\n        reservations:\n          devices:\n            - driver: nvidia\n";
    let err = error(&format!(
        "{base}              capabilities: [gpu]\n              count: some_string\n"
    ));
    assert!(err.contains("some_string"), "{err}");
    let err = error(&format!("{base}              capabilities: [gpu]\n              count: 2\n              device_ids: [my-device-id]\n"));
    assert!(err.contains("count") && err.contains("device_ids"), "{err}");
    let err = error(&format!("{base}              count: 2\n"));
    assert!(err.contains("capabilities"), "{err}");
}

#[test]
fn an_empty_ports_list_is_fine() {
    let s = service(
        "name: x\nservices:\n  test:\n    image: nginx\n    ports: []\n",
        "test",
    );
    assert!(s.get("ports").is_none_or(|p| p == &json!([])));
}

#[test]
fn bind_volume_device_option_is_made_absolute() {
    let p = Project::new("name: x\nservices:\n  web:\n    image: web\n    volumes: ['data:/data']\nvolumes:\n  data:\n    driver: local\n    driver_opts: {type: none, o: bind, device: ./data}\n");
    let c = p.config();
    assert_eq!(
        c["volumes"]["data"]["driver_opts"]["device"],
        json!(format!("{}/data", p.dir_str()))
    );
}

#[test]
fn extends_from_another_file_resolves_its_paths_there() {
    let p = Project::files(&[
        ("compose.yaml", "name: x\nservices:\n  importer:\n    extends:\n      file: subdir/imported.yaml\n      service: imported\n"),
        ("subdir/imported.yaml", "services:\n  imported:\n    image: nginx\n    container_name: ${SOURCE:-imported}\n    env_file: [./extra.env]\n    volumes: ['/opt/data:/var/lib/mysql']\n  remote:\n    build: https://github.com/docker/compose.git\n"),
        ("subdir/extra.env", "SOURCE=extends\n"),
    ]);
    let c = p.config();
    let s = &c["services"]["importer"];
    assert_eq!(s["container_name"], json!("imported"));
    assert_eq!(s["environment"], json!({"SOURCE": "extends"}));
    assert_eq!(
        s["env_file"],
        json!([{"path": format!("{}/subdir/extra.env", p.dir_str())}])
    );
    assert_eq!(s["volumes"][0]["source"], json!("/opt/data"));
}

#[test]
fn a_build_context_url_is_kept() {
    let s = service(
        "name: x\nservices:\n  web:\n    build: https://github.com/docker/compose.git\n",
        "web",
    );
    assert_eq!(
        s["build"],
        json!({"context": "https://github.com/docker/compose.git", "dockerfile": "Dockerfile"})
    );
}

/// compose-go `cli/options_test.go` TestProjectName.
#[test]
fn project_names_from_the_command_line_and_the_environment_are_checked() {
    for bad in ["-my_project", "_my_project", "www.my.project", "MY_PROJECT"] {
        let mut p = Project::new("services:\n  a:\n    image: x\n");
        p.opts.project_name = Some(bad.into());
        let err = p.error();
        assert!(err.contains(bad), "-p {bad}: {err}");
        let err = Project::new("services:\n  a:\n    image: x\n")
            .env("COMPOSE_PROJECT_NAME", bad)
            .error();
        assert!(err.contains(bad), "COMPOSE_PROJECT_NAME={bad}: {err}");
    }
    let mut p = Project::new("services:\n  a:\n    image: x\n");
    p.opts.project_name = Some("42my_project_num".into());
    assert_eq!(p.config()["name"], json!("42my_project_num"));
    let c = Project::new("services:\n  a:\n    image: x\n")
        .env("COMPOSE_PROJECT_NAME", "42my_project_env")
        .config();
    assert_eq!(c["name"], json!("42my_project_env"));
}

#[test]
fn the_default_name_is_the_first_file_directory_normalised() {
    let mut p = Project::files(&[(
        "UNNORMALIZED PATH/compose.yaml",
        "services:\n  a:\n    image: x\n",
    )]);
    p.opts.files = vec!["UNNORMALIZED PATH/compose.yaml".into()];
    assert_eq!(p.config()["name"], json!("unnormalizedpath"));
}

#[test]
fn a_name_with_a_variable_is_interpolated() {
    let c = Project::new("name: test-${TEST}-test\nservices:\n  a:\n    image: x\n")
        .env("TEST", "expected")
        .config();
    assert_eq!(c["name"], json!("test-expected-test"));
}

/// compose-go `cli/options_test.go` TestEnvVariablePrecedence: `.env` is
/// interpolated with the shell first.
#[test]
fn dotenv_values_see_the_shell_first() {
    let files = [
        (
            "compose.yaml",
            "name: e\nservices:\n  a:\n    image: ${FOO}-${BAR}\n",
        ),
        (".env", "FOO=foo\nBAR=${FOO}\n"),
    ];
    assert_eq!(
        Project::files(&files).config()["services"]["a"]["image"],
        json!("foo-foo")
    );
    let c = Project::files(&files).env("FOO", "zot").config();
    assert_eq!(c["services"]["a"]["image"], json!("zot-zot"));
}

/// TestProjectWithMultipleEnvFile and TestProjectWithDotEnv: `--env-file`
/// in order, later wins; `.env` may name the files and the project.
#[test]
fn env_files_and_dotenv_settings() {
    let files = [
        ("compose-with-env-files.yaml", "version: '3'\nservices:\n  simple:\n    image: nginx\n    env_file: [./simple-env, ./second-env]\n    ports:\n    - ${PORT}:80\n"),
        ("compose-with-env-file.yaml", "services:\n  simple:\n    image: nginx\n    env_file: [./simple-env]\n    ports:\n    - ${PORT}:80\n"),
        (".env", "COMPOSE_FILE=compose-with-env-file.yaml\nCOMPOSE_PROJECT_NAME=my_project_from_dot_env\nPORT=8000\n"),
        ("override.env", "PORT=9000\n"),
        ("simple-env", "DEFAULT_PORT=8080\n"),
        ("second-env", "DEFAULT_PORT=9090\n"),
    ];
    let c = Project::files(&files).config();
    assert_eq!(c["name"], json!("my_project_from_dot_env"));
    assert_eq!(
        c["services"]["simple"]["environment"],
        json!({"DEFAULT_PORT": "8080"})
    );
    assert_eq!(
        c["services"]["simple"]["ports"][0]["published"],
        json!("8000")
    );
    let mut p = Project::files(&files);
    p.opts.files = vec!["compose-with-env-files.yaml".into()];
    p.opts.env_files = vec![".env".into(), "override.env".into()];
    let c = p.config();
    assert_eq!(
        c["services"]["simple"]["environment"],
        json!({"DEFAULT_PORT": "9090"})
    );
    assert_eq!(
        c["services"]["simple"]["ports"][0]["published"],
        json!("9000")
    );
}

#[test]
fn a_compose_file_on_standard_input() {
    let mut p = Project::files(&[]);
    p.opts.files = vec!["-".into()];
    p.opts.project_name = Some("my_project".into());
    p.opts.stdin = Some("services:\n  simple:\n    image: nginx\n".into());
    let loaded = p.load();
    assert_eq!(loaded.project.services["simple"].image, "nginx");
}
