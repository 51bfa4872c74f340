//! `compose config` run as a program on small projects, compared with what
//! docker compose v2 prints for them (expectations written from compose-go's
//! types and docker compose's e2e `config_test.go`).

use std::path::Path;
use std::process::{Command, Output};

fn project(yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), yaml).unwrap();
    dir
}

fn compose(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(args)
        .current_dir(dir)
        .env_remove("COMPOSE_PROJECT_NAME")
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROFILES")
        .env_remove("COMPOSE_ENVIRONMENT")
        .output()
        .unwrap()
}

#[track_caller]
fn stdout_of(dir: &Path, args: &[&str]) -> String {
    let out = compose(dir, args);
    assert!(
        out.status.success(),
        "compose {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const WEB: &str = r#"name: test
services:
  web:
    image: nginx
    ports:
      - "8080:80"
    environment:
      - DEBUG=1
    depends_on:
      - db
    healthcheck:
      test: curl -f http://localhost
      interval: 90s
    mem_limit: 1g
    volumes:
      - data:/var/lib/data:nocopy
      - /srv/static:/static:ro
  db:
    image: postgres
    command: postgres -c max_connections=200
volumes:
  data:
"#;

#[test]
fn yaml_output_is_docker_compose_canonical_form() {
    let dir = project(WEB);
    let expected = r#"name: test
services:
  db:
    command:
      - postgres
      - -c
      - max_connections=200
    image: postgres
    networks:
      default: null
  web:
    depends_on:
      db:
        condition: service_started
        required: true
    environment:
      DEBUG: "1"
    healthcheck:
      test:
        - CMD-SHELL
        - curl -f http://localhost
      interval: 1m30s
    image: nginx
    mem_limit: "1073741824"
    networks:
      default: null
    ports:
      - mode: ingress
        target: 80
        published: "8080"
        protocol: tcp
    volumes:
      - type: volume
        source: data
        target: /var/lib/data
        volume:
          nocopy: true
      - type: bind
        source: /srv/static
        target: /static
        read_only: true
        bind: {}
networks:
  default:
    name: test_default
volumes:
  data:
    name: test_data
"#;
    assert_eq!(stdout_of(dir.path(), &["config"]), expected);
}

#[test]
fn json_output_is_marshal_indent_of_the_project() {
    let dir = project("name: test\nservices:\n  web:\n    image: nginx\n    ports: ['8080:80']\n");
    let expected = r#"{
  "name": "test",
  "networks": {
    "default": {
      "name": "test_default",
      "ipam": {}
    }
  },
  "services": {
    "web": {
      "command": null,
      "entrypoint": null,
      "image": "nginx",
      "networks": {
        "default": null
      },
      "ports": [
        {
          "mode": "ingress",
          "target": 80,
          "published": "8080",
          "protocol": "tcp"
        }
      ]
    }
  }
}"#;
    assert_eq!(
        stdout_of(dir.path(), &["config", "--format", "json"]),
        expected
    );
}

#[test]
fn printed_model_loads_back_to_the_same_output() {
    let dir = project(WEB);
    let first = stdout_of(dir.path(), &["config"]);
    let again = project(&first);
    assert_eq!(stdout_of(again.path(), &["config"]), first);
}

#[test]
fn listing_modes_print_one_name_per_line() {
    let yaml = "name: test\nservices:\n  web: {image: nginx, depends_on: [api], profiles: [front]}\n  api: {build: ., depends_on: [db], profiles: [back, front]}\n  db: {image: postgres}\nvolumes:\n  a: {}\n  b: {}\nnetworks:\n  n: {}\n";
    let dir = project(yaml);
    // Only active services are listed, dependencies first; a profile
    // brings its services in (docker compose `config --services`).
    assert_eq!(stdout_of(dir.path(), &["config", "--services"]), "db\n");
    assert_eq!(
        stdout_of(dir.path(), &["--profile", "front", "config", "--services"]),
        "db\napi\nweb\n"
    );
    assert_eq!(stdout_of(dir.path(), &["config", "--volumes"]), "a\nb\n");
    assert_eq!(
        stdout_of(dir.path(), &["config", "--networks"]),
        "n\ndefault\n"
    );
    assert_eq!(
        stdout_of(dir.path(), &["config", "--profiles"]),
        "back\nfront\n"
    );
    assert_eq!(stdout_of(dir.path(), &["config", "--images"]), "postgres\n");
    assert_eq!(
        stdout_of(dir.path(), &["--profile", "*", "config", "--images"]),
        "nginx\ntest-api\npostgres\n"
    );
}

#[test]
fn selected_services_come_with_their_dependencies() {
    let dir = project("name: test\nservices:\n  web: {image: nginx, depends_on: [db]}\n  db: {image: postgres}\n  other: {image: busybox}\n");
    let out = stdout_of(dir.path(), &["config", "web"]);
    assert!(out.contains("  web:\n") && out.contains("  db:\n"), "{out}");
    assert!(!out.contains("other"), "{out}");
    let err = compose(dir.path(), &["config", "nope"]);
    assert!(!err.status.success());
    assert!(String::from_utf8_lossy(&err.stderr).contains("no such service: nope"));
}

#[test]
fn hash_is_stable_and_ignores_what_does_not_change_containers() {
    let a = project("name: test\nservices:\n  web: {image: nginx, scale: 3, depends_on: [db]}\n  db: {image: postgres}\n");
    let b = project(
        "name: test\nservices:\n  web: {image: nginx, depends_on: [db]}\n  db: {image: postgres}\n",
    );
    let out = stdout_of(a.path(), &["config", "--hash", "*"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("db ") && lines[1].starts_with("web "),
        "{out}"
    );
    let hash = lines[1].split(' ').nth(1).unwrap();
    assert_eq!(hash.len(), 64);
    assert!(hash.bytes().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(
        stdout_of(b.path(), &["config", "--hash", "web"]),
        format!("web {hash}\n")
    );
}

#[test]
fn quiet_prints_nothing_and_output_writes_a_file() {
    let dir = project(WEB);
    assert_eq!(stdout_of(dir.path(), &["config", "-q"]), "");
    let target = dir.path().join("out.yaml");
    assert_eq!(
        stdout_of(dir.path(), &["config", "-o", target.to_str().unwrap()]),
        ""
    );
    let written = std::fs::read_to_string(&target).unwrap();
    assert_eq!(written, stdout_of(dir.path(), &["config"]));
}

#[test]
fn env_files_are_folded_into_environment() {
    let dir = project("name: test\nservices:\n  web:\n    image: nginx\n    env_file: [web.env]\n    environment: {B: own}\n");
    std::fs::write(dir.path().join("web.env"), "A=from-file\nB=from-file\n").unwrap();
    let out = stdout_of(dir.path(), &["config"]);
    assert!(
        out.contains("    environment:\n      A: from-file\n      B: own\n"),
        "{out}"
    );
    assert!(!out.contains("env_file"), "{out}");
    let kept = stdout_of(dir.path(), &["config", "--no-env-resolution"]);
    // Paths are resolved (docker compose's default), env files kept.
    let path = dir.path().join("web.env");
    assert!(
        kept.contains(&format!(
            "    env_file:\n      - path: {}\n",
            path.display()
        )),
        "{kept}"
    );
}

#[test]
fn errors_point_at_the_file_line_and_path() {
    let dir = project("services:\n  web:\n    image: nginx\n    ports:\n      - 'x:80'\n");
    let out = compose(dir.path(), &["config"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("compose.yaml:5:9: services.web.ports[0]"),
        "{err}"
    );
    assert!(err.contains("invalid host port \"x\""), "{err}");
    let dir =
        project("services:\n  web:\n    image: nginx\n    healthcheck:\n      retries: many\n");
    let err = String::from_utf8_lossy(&compose(dir.path(), &["config"]).stderr).into_owned();
    assert!(
        err.contains(
            "compose.yaml:5:16: services.web.healthcheck.retries: \"many\" is not an integer"
        ),
        "{err}"
    );
}

/// compose-go's `TestNormalizeNetworkNames`, printed as docker compose does.
#[test]
fn normalisation_names_networks_and_resolves_build_args() {
    let dir = project(
        "name: myproject\nservices:\n  foo:\n    build:\n      context: /srv/app\n      args:\n        FOO: null\n        ZOT: null\nnetworks:\n  myExternalnet:\n    external: true\n  myNamedNet:\n    name: CustomName\n  mynet: {}\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_compose"))
        .arg("config")
        .current_dir(dir.path())
        .env("FOO", "BAR")
        .env_remove("ZOT")
        .env_remove("COMPOSE_PROJECT_NAME")
        .output()
        .unwrap();
    let expected = "name: myproject
services:
  foo:
    build:
      context: /srv/app
      dockerfile: Dockerfile
      args:
        FOO: BAR
    networks:
      default: null
networks:
  default:
    name: myproject_default
  myExternalnet:
    name: myExternalnet
    external: true
  myNamedNet:
    name: CustomName
  mynet:
    name: myproject_mynet
";
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        expected,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Newer service keys (provider, models, gpus, hooks, develop.watch exec)
/// print in compose-go's field order with their defaults.
#[test]
fn newer_service_keys_print_in_compose_go_order() {
    let dir = project(
        r#"name: t
services:
  ai:
    provider:
      type: model
      options:
        model: ai/smollm2
        flags: [a, b]
  app:
    image: app
    models:
      llm:
        endpoint_var: LLM_URL
    gpus:
      - driver: nvidia
        count: 2
    deploy:
      mode: replicated
      labels: {a: b}
      resources:
        reservations:
          cpus: 0.25
          memory: 20M
      placement:
        constraints: [node.role==manager]
    pre_start:
      - command: ["init"]
        environment: [X=1]
    develop:
      watch:
        - path: /src
          action: sync+exec
          target: /app
          exec:
            command: reload
          initial_sync: true
models:
  llm:
    model: ai/smollm2
"#,
    );
    let expected = r#"name: t
services:
  ai:
    provider:
      type: model
      options:
        flags:
          - a
          - b
        model:
          - ai/smollm2
  app:
    develop:
      watch:
        - path: /src
          action: sync+exec
          target: /app
          exec:
            command:
              - reload
          initial_sync: true
    deploy:
      mode: replicated
      labels:
        a: b
      resources:
        reservations:
          cpus: 0.25
          memory: "20971520"
      placement:
        constraints:
          - node.role==manager
    gpus:
      - driver: nvidia
        count: 2
    image: app
    models:
      llm:
        endpoint_var: LLM_URL
    networks:
      default: null
    pre_start:
      - command:
          - init
        image: app
        environment:
          X: "1"
networks:
  default:
    name: t_default
models:
  llm:
    model: ai/smollm2
"#;
    assert_eq!(stdout_of(dir.path(), &["config"]), expected);
}
