//! The model typed from canonical documents (after compose-go's
//! `loader/tests/*_test.go`), its printed form, and round trips through the
//! YAML and JSON printers.

use super::*;
use crate::loader::canonical::canonical;
use crate::loader::yaml::parse_str;
use std::path::Path;
use std::sync::Arc;

fn node(text: &str) -> Node {
    let file: Arc<Path> = Arc::from(Path::new("compose.yaml"));
    let mut doc = parse_str(text, &file).unwrap();
    canonical(&mut doc, &mut Vec::new()).unwrap();
    doc
}

fn load(text: &str) -> Project {
    Project::from_node(&node(text)).unwrap()
}

fn load_err(text: &str) -> String {
    Project::from_node(&node(text)).unwrap_err().to_string()
}

/// Print as YAML and as JSON, load each back: the same project.
#[track_caller]
fn assert_round_trips(p: &Project) {
    let yaml = p.to_yaml().unwrap();
    assert_eq!(&load(&yaml), p, "YAML round trip of:\n{yaml}");
    let json = p.to_json().unwrap();
    // compose-go's JSON leaves out service extensions and `models`.
    let mut without_ext = p.clone();
    without_ext.models.clear();
    for s in without_ext.services.values_mut() {
        s.extensions.clear();
    }
    let back = load(&json);
    for (name, s) in &without_ext.services {
        assert_eq!(
            &back.services[name], s,
            "JSON round trip of service {name}:\n{json}"
        );
    }
    assert_eq!(back, without_ext, "JSON round trip of:\n{json}");
}

const FULL: &str = r#"
name: full
services:
  web:
    image: nginx:1.25
    build:
      context: ./web
      dockerfile: Dockerfile.dev
      args: [VERSION=1, DEBUG]
      target: dev
      cache_from: [type=local]
      ssh: [default]
      ulimits: {nofile: 1024}
      shm_size: 64m
    command: nginx -g "daemon off;"
    entrypoint: []
    environment: {A: 1, B: null, C: "x y"}
    env_file: [.env, {path: opt.env, required: false}]
    ports: ["127.0.0.1:8080:80", "9000-9001:9000-9001/udp"]
    expose: [3000, "4000"]
    volumes:
      - ./html:/usr/share/nginx/html:ro
      - type: tmpfs
        target: /tmp
        tmpfs: {size: 10m}
    depends_on:
      db: {condition: service_healthy, restart: true}
    healthcheck:
      test: [CMD, curl, -f, http://localhost]
      interval: 30s
      timeout: 1m30s
      retries: 3
      start_period: 0s
    deploy:
      replicas: 2
      resources:
        limits: {cpus: "0.5", memory: 512M, pids: 10}
        reservations:
          devices: [{capabilities: [gpu], driver: nvidia}]
      restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3}
      update_config: {parallelism: 1, delay: 10s}
    ulimits:
      nproc: 65535
      nofile: {soft: 20000, hard: 40000}
    extra_hosts: ["somehost=162.242.195.82", "otherhost:50.31.209.229"]
    labels: [com.example.a=1, com.example.b]
    logging: {driver: json-file, options: {max-size: 10m}}
    networks:
      front: {aliases: [www], ipv4_address: 172.16.0.10}
      back:
    secrets: [token]
    configs: [{source: cfg, target: /etc/cfg, mode: 0o440}]
    devices: ["/dev/fuse"]
    mem_limit: 1g
    shm_size: "2gb"
    stop_grace_period: 1m
    cpus: 1.5
    init: true
    read_only: true
    restart: unless-stopped
    pull_policy: every_12h
    gpus: all
    post_start: [{command: echo started, user: root}]
    pre_stop: [{command: [echo, bye]}]
    develop:
      watch:
        - {path: ./src, action: sync, target: /app, ignore: node_modules}
        - {path: package.json, action: rebuild}
    x-custom: {a: 1}
  db:
    image: postgres
    profiles: [storage]
    scale: 1
    sysctls: [net.core.somaxconn=1024]
    tmpfs: /run
    dns: 8.8.8.8
networks:
  front:
    driver: bridge
    ipam:
      config: [{subnet: 172.16.0.0/24, gateway: 172.16.0.1}]
  back:
    external: true
    name: shared
volumes:
  data:
    driver_opts: {type: nfs, o: "addr=10.0.0.1"}
    labels: [backup=daily]
secrets:
  token: {file: ./token.txt}
configs:
  cfg: {content: "hello"}
models:
  llm: {model: ai/smollm2, context_size: 2048}
x-project: true
"#;

#[test]
fn full_document_types() {
    let p = load(FULL);
    let web = &p.services["web"];
    assert_eq!(web.name, "web");
    assert_eq!(
        web.command.as_deref().unwrap(),
        ["nginx", "-g", "daemon off;"]
    );
    assert_eq!(web.entrypoint.as_deref(), Some(&[][..]));
    assert_eq!(web.environment["A"].as_deref(), Some("1"));
    assert_eq!(web.environment["B"], None);
    assert_eq!(web.ports.len(), 3);
    assert_eq!(web.ports[0].host_ip, "127.0.0.1");
    assert_eq!(web.ports[2].protocol, "udp");
    assert_eq!(web.expose, ["3000", "4000"]);
    assert_eq!(web.volumes[0].kind, "bind");
    assert!(web.volumes[0].read_only);
    assert_eq!(web.volumes[1].tmpfs.as_ref().unwrap().size.0, 10 << 20);
    assert_eq!(web.depends_on["db"].condition, "service_healthy");
    assert!(web.depends_on["db"].required);
    let hc = web.healthcheck.as_ref().unwrap();
    assert_eq!(hc.timeout.unwrap().to_string(), "1m30s");
    assert_eq!(hc.retries, Some(3));
    let deploy = web.deploy.as_ref().unwrap();
    let limits = deploy.resources.limits.as_ref().unwrap();
    assert_eq!((limits.cpus, limits.memory.0), (0.5, 512 << 20));
    assert_eq!(web.ulimits["nproc"], types::Ulimit::Single(65535));
    assert_eq!(
        web.extra_hosts.as_list("="),
        ["otherhost=50.31.209.229", "somehost=162.242.195.82"]
    );
    assert_eq!(web.labels["com.example.b"], "");
    assert_eq!(web.configs[0].mode, Some(types::FileMode(0o440)));
    assert_eq!(web.secrets[0].target, "/run/secrets/token");
    assert_eq!(web.devices[0].target, "/dev/fuse");
    assert_eq!(web.mem_limit.0, 1 << 30);
    assert_eq!(web.gpus[0].count, types::DeviceCount(-1));
    assert_eq!(web.replicas(), 2);
    assert_eq!(
        web.develop.as_ref().unwrap().watch[0].ignore,
        ["node_modules"]
    );
    assert_eq!(web.extensions["x-custom"], serde_json::json!({"a": 1}));
    assert!(p.networks["back"].external);
    assert_eq!(p.models["llm"].context_size, 2048);
    assert_eq!(p.extensions["x-project"], serde_json::json!(true));
}

#[test]
fn full_document_round_trips() {
    assert_round_trips(&load(FULL));
}

#[test]
fn prints_fields_in_compose_go_order() {
    let p = load(
        "name: p\nservices:\n  web:\n    x-z: 1\n    volumes: ['./a:/a']\n    image: nginx\n    environment: [B=2, A=1]\n    command: echo hi\n",
    );
    assert_eq!(
        p.to_yaml().unwrap(),
        "name: p\nservices:\n  web:\n    command:\n      - echo\n      - hi\n    environment:\n      A: \"1\"\n      B: \"2\"\n    image: nginx\n    volumes:\n      - type: bind\n        source: ./a\n        target: /a\n        bind: {}\n    x-z: 1\n"
    );
}

#[test]
fn json_keeps_go_struct_values_and_null_commands() {
    let p = load("name: p\nservices:\n  web:\n    image: nginx\n    deploy: {replicas: 1}\nnetworks:\n  n: {}\n");
    assert_eq!(
        p.to_json().unwrap(),
        r#"{
  "name": "p",
  "networks": {
    "n": {
      "ipam": {}
    }
  },
  "services": {
    "web": {
      "command": null,
      "deploy": {
        "replicas": 1,
        "resources": {},
        "placement": {}
      },
      "entrypoint": null,
      "image": "nginx"
    }
  }
}"#
    );
}

#[test]
fn secrets_never_print_content() {
    let p =
        load("services: {}\nsecrets:\n  s: {content: hidden}\nconfigs:\n  c: {content: shown}\n");
    let yaml = p.to_yaml().unwrap();
    assert!(!yaml.contains("hidden"), "{yaml}");
    assert!(yaml.contains("content: shown"), "{yaml}");
}

#[test]
fn errors_carry_path_span_and_expectation() {
    let e = load_err("services:\n  web:\n    ports:\n      - target: eighty\n");
    assert_eq!(
        e,
        "compose.yaml:4:17: services.web.ports[0].target: expected an integer (u32), found string \"eighty\""
    );
    let e = load_err("services:\n  web:\n    mem_limit: lots\n");
    assert!(
        e.starts_with("compose.yaml:3:16: services.web.mem_limit: invalid size"),
        "{e}"
    );
    let e = load_err("services:\n  web:\n    healthcheck: {interval: 10}\n");
    assert!(
        e.contains("services.web.healthcheck.interval: invalid duration \"10\": missing unit"),
        "{e}"
    );
    let e = load_err("services:\n  web:\n    command: {a: 1}\n");
    assert_eq!(
        e,
        "compose.yaml:3:14: services.web.command: expected a command string or a list of strings, found a mapping"
    );
    let e = load_err("services:\n  web:\n    ulimits: {nofile: {soft: lots}}\n");
    assert!(
        e.contains("services.web.ulimits.nofile: soft: expected a number"),
        "{e}"
    );
    let e = load_err("services:\n  web:\n    extra_hosts: [nohost]\n");
    assert!(
        e.contains("services.web.extra_hosts: invalid extra host \"nohost\""),
        "{e}"
    );
    let e = load_err("services:\n  web:\n    privileged: maybe\n");
    assert!(
        e.contains("services.web.privileged: expected a boolean"),
        "{e}"
    );
}

#[test]
fn service_hash_ignores_scale_build_and_dependencies() {
    let a = load("services:\n  web: {image: nginx, scale: 2, depends_on: [db], build: .}\n  db: {image: x}\n");
    let b = load("services:\n  web: {image: nginx}\n  db: {image: x}\n");
    let c = load("services:\n  web: {image: nginx:2}\n");
    let h = |p: &Project| hash::service_hash(&p.services["web"]).unwrap();
    assert_eq!(h(&a), h(&b));
    assert_ne!(h(&b), h(&c));
    assert_eq!(h(&b).len(), 64);
}

#[test]
fn blkio_devices_print_go_field_names_in_json_only() {
    let p = load("services:\n  web:\n    blkio_config:\n      weight_device: [{path: /dev/sda, weight: 400}]\n      device_read_bps: [{path: /dev/sda, rate: 1mb}]\n");
    let yaml = p.to_yaml().unwrap();
    assert!(
        yaml.contains("- path: /dev/sda\n          weight: 400\n"),
        "{yaml}"
    );
    assert!(yaml.contains("rate: \"1048576\""), "{yaml}");
    let json = p.to_json().unwrap();
    assert!(
        json.contains("\"Path\": \"/dev/sda\",\n            \"Weight\": 400"),
        "{json}"
    );
    assert_round_trips(&p);
}

/// compose-go's `TestLoadWithInterpolationCastFull`, after interpolation:
/// every value is a string that must be read as the field's type.
#[test]
fn interpolated_strings_cast_to_field_types() {
    let p = load(
        r#"
services:
  web:
    configs: [{source: appconfig, mode: "555"}]
    healthcheck: {retries: "555", disable: "true"}
    deploy:
      replicas: "555"
      update_config: {parallelism: "555", max_failure_ratio: "0.25"}
      restart_policy: {max_attempts: "555"}
      placement: {max_replicas_per_node: "555"}
    ports: ["555", "34567", {target: "555", published: "555", x-foo-bar: true}]
    ulimits: {nproc: "555", nofile: {hard: "555", soft: "555"}}
    privileged: "true"
    shm_size: "2gb"
    stop_grace_period: "60s"
    volumes: [{source: data, type: volume, target: /data, read_only: "true", volume: {nocopy: "true"}}]
networks:
  front: {external: "true", internal: "true", attachable: "true"}
"#,
    );
    let web = &p.services["web"];
    assert_eq!(web.configs[0].mode, Some(types::FileMode(0o555)));
    let hc = web.healthcheck.as_ref().unwrap();
    assert_eq!((hc.retries, hc.disable), (Some(555), true));
    let d = web.deploy.as_ref().unwrap();
    assert_eq!(d.replicas, Some(555));
    assert_eq!(d.update_config.as_ref().unwrap().max_failure_ratio, 0.25);
    assert_eq!(d.placement.max_replicas, 555);
    assert_eq!(web.ports[2].published, "555");
    assert_eq!(
        web.ports[2].extensions["x-foo-bar"],
        serde_json::json!(true)
    );
    assert_eq!(
        web.ulimits["nofile"],
        types::Ulimit::Range {
            soft: 555,
            hard: 555
        }
    );
    assert!(web.privileged);
    assert_eq!(web.shm_size.0, 2 << 30);
    assert_eq!(web.stop_grace_period.unwrap().to_string(), "1m0s");
    assert!(web.volumes[0].read_only && web.volumes[0].volume.as_ref().unwrap().nocopy);
    let front = &p.networks["front"];
    assert!(front.external && front.internal && front.attachable);
}

/// State files store the model with serde_json directly (no printer): it
/// must read back to the same project.
#[test]
fn model_round_trips_through_serde_json() {
    let mut p = load(FULL);
    p.services
        .get_mut("web")
        .unwrap()
        .build
        .as_mut()
        .unwrap()
        .ssh = vec![
        types::SshKey {
            id: "default".into(),
            path: String::new(),
        },
        types::SshKey {
            id: "key".into(),
            path: "/k".into(),
        },
    ];
    let text = serde_json::to_string(&p).unwrap();
    let mut back: Project = serde_json::from_str(&text).unwrap();
    back.set_service_names();
    assert_eq!(back, p);
}

/// compose-go's `TestXService`: `x-` names inside maps are names, not
/// extensions.
#[test]
fn x_prefixed_names_in_maps_are_resources() {
    let p = load("services:\n  x-foo:\n    image: busybox\n    networks: [x-network]\n    x-ext: 1\nnetworks:\n  x-network:\nvolumes:\n  x-volume:\n");
    assert_eq!(p.service_names(), ["x-foo"]);
    let svc = &p.services["x-foo"];
    assert!(svc.networks.contains_key("x-network"));
    assert_eq!(svc.extensions["x-ext"], serde_json::json!(1));
    assert!(p.networks.contains_key("x-network") && p.volumes.contains_key("x-volume"));
}

#[test]
fn a_global_service_runs_one_container_here() {
    let mut s = ServiceConfig {
        scale: Some(3),
        ..Default::default()
    };
    assert_eq!(s.replicas(), 3);
    s.deploy = Some(crate::model::DeployConfig {
        mode: "global".into(),
        replicas: Some(4),
        ..Default::default()
    });
    assert_eq!(s.replicas(), 1, "one per node, and this is one node");
}
