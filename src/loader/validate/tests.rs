//! Semantic validation tests: one golden message per rule, all problems
//! collected and sorted, and the corpus free of false alarms.

use super::*;
use crate::loader::yaml;
use std::path::Path;
use std::sync::Arc;

fn messages(text: &str) -> Vec<String> {
    let file: Arc<Path> = Arc::from(Path::new("compose.yaml"));
    let doc = yaml::parse_str(text, &file).unwrap();
    issues(&doc).iter().map(ToString::to_string).collect()
}

#[test]
fn valid_canonical_document_has_no_issue() {
    let msgs = messages(
        "services:
  web:
    image: nginx
    networks:
      front: {}
    volumes:
      - {type: volume, source: data, target: /data}
      - {type: bind, source: ./src, target: /src}
    secrets:
      - {source: token, target: /run/secrets/token}
    configs: [{source: conf}]
    ports:
      - {target: 80, published: \"8080\", protocol: tcp, host_ip: 127.0.0.1}
      - {target: 90, published: \"9000-9010\"}
    depends_on:
      db: {condition: service_healthy, required: true}
  db:
    image: postgres
    container_name: pg
networks:
  front: {}
volumes:
  data: {}
secrets:
  token: {file: ./token}
configs:
  conf: {content: hello}
",
    );
    assert!(msgs.is_empty(), "{msgs:#?}");
}

#[test]
fn undefined_references_are_all_reported_in_file_order() {
    let msgs = messages(
        "services:
  web:
    image: nginx
    networks:
      back: {}
    volumes:
      - {type: volume, source: cache, target: /c}
      - logs:/logs
    secrets: [{source: key}]
    configs: [conf]
    depends_on:
      ghost: {condition: service_started}
    links: [spirit]
    volumes_from: [\"phantom:ro\", \"container:raw\"]
  side:
    image: x
    network_mode: service:nobody
",
    );
    assert_eq!(
        msgs,
        [
            "compose.yaml:5:13: services.web.networks.back: service `web` refers to undefined network `back`; define it under top-level `networks:`",
            "compose.yaml:7:32: services.web.volumes[0].source: service `web` refers to undefined volume `cache`; define it under top-level `volumes:`, or write a path such as `./cache` for a bind mount",
            "compose.yaml:8:9: services.web.volumes[1]: service `web` refers to undefined volume `logs`; define it under top-level `volumes:`, or write a path such as `./logs` for a bind mount",
            "compose.yaml:9:24: services.web.secrets[0].source: service `web` refers to undefined secret `key`; define it under top-level `secrets:`",
            "compose.yaml:10:15: services.web.configs[0]: service `web` refers to undefined config `conf`; define it under top-level `configs:`",
            "compose.yaml:12:14: services.web.depends_on.ghost: service `web` refers to undefined service `ghost` in `depends_on`; define it under `services:` (`required: false` only lets it be disabled by a profile)",
            "compose.yaml:13:13: services.web.links[0]: service `web` refers to undefined service `spirit` in `links`; define it under `services:`",
            "compose.yaml:14:20: services.web.volumes_from[0]: service `web` refers to undefined service `phantom` in `volumes_from`; define it under `services:`",
            "compose.yaml:17:19: services.side.network_mode: service `side` refers to undefined service `nobody` in `network_mode`; define it under `services:`",
        ]
    );
}

#[test]
fn default_network_needs_no_declaration() {
    let msgs = messages("services:\n  a:\n    image: x\n    networks: [default, other]\n");
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(msgs[0].contains("undefined network `other`"), "{msgs:?}");
}

#[test]
fn optional_dependency_needs_a_defined_service() {
    let text = "services:\n  a:\n    image: x\n    depends_on:\n      b: {condition: service_started, required: false}\n";
    let msgs = messages(text);
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(msgs[0].contains("undefined service `b`"), "{msgs:?}");
    // Disabled by a profile: tolerated (compose-go skips `ErrDisabled`).
    let doc = yaml::parse_str(text, &Arc::from(Path::new("compose.yaml"))).unwrap();
    let mut disabled = Mapping::new();
    disabled.insert("b".into(), Node::null());
    assert!(check_project(&doc, &disabled).is_ok());
}

#[test]
fn self_dependency_and_cycle() {
    let msgs = messages(
        "services:\n  a:\n    image: x\n    depends_on: [a, b]\n  b:\n    image: x\n    depends_on: [c]\n  c:\n    image: x\n    depends_on: [b]\n",
    );
    assert_eq!(
        msgs,
        [
            "compose.yaml:4:18: services.a.depends_on[0]: service `a` refers to itself in `depends_on`; a service cannot depend on itself",
            "compose.yaml:7:18: services.b.depends_on[0]: dependency cycle: b -> c -> b; remove one of these dependencies",
        ]
    );
}

#[test]
fn container_names_unique_and_single_replica() {
    let msgs = messages(
        "services:\n  a:\n    image: x\n    container_name: app\n  b:\n    image: x\n    container_name: app\n    scale: 3\n",
    );
    assert_eq!(
        msgs,
        [
            "compose.yaml:7:21: services.b.container_name: container name `app` is already used by service `a` (compose.yaml:4:21: services.a.container_name); container names must be unique",
            "compose.yaml:7:21: services.b.container_name: service `b` sets `container_name` and `scale: 3`; a container name must be unique, so remove `container_name` or run a single replica",
        ]
    );
}

#[test]
fn replicas_must_agree_and_be_positive() {
    let msgs = messages(
        "services:\n  a:\n    image: x\n    scale: 2\n    deploy: {replicas: 3}\n  b:\n    image: x\n    scale: -1\n",
    );
    assert_eq!(
        msgs,
        [
            "compose.yaml:4:12: services.a.scale: `scale: 2` and `deploy.replicas: 3` disagree; set only one of them",
            "compose.yaml:8:12: services.b.scale: must be greater than or equal to 0, found -1",
        ]
    );
}

#[test]
fn port_problems() {
    let msgs = messages(
        "services:
  a:
    image: x
    ports:
      - \"8080-8070:80\"
      - \"70000:80\"
      - \"8000-8001:80-82\"
      - \"999.1.1.1:80:80\"
      - {target: 0, published: \"80\"}
      - {target: 80, host_ip: nowhere}
      - \"9000-9010:80\"
      - \"[::1]:81:81/udp\"
",
    );
    assert_eq!(
        msgs,
        [
            "compose.yaml:5:9: services.a.ports[0]: the range 8080-8070 ends before it starts; write it as 8070-8080",
            "compose.yaml:6:9: services.a.ports[1]: port 70000 is out of range; ports go from 1 to 65535",
            "compose.yaml:7:9: services.a.ports[2]: the published range `8000-8001` and the container range `80-82` differ in size; give ranges of the same length",
            "compose.yaml:8:9: services.a.ports[3]: `999.1.1.1` is not an IP address; use one like `127.0.0.1` or `::1`",
            "compose.yaml:9:9: services.a.ports[4]: port 0 is out of range; ports go from 1 to 65535",
            "compose.yaml:10:31: services.a.ports[5].host_ip: `nowhere` is not an IP address; use one like `127.0.0.1` or `::1`",
        ]
    );
}

#[test]
fn service_consistency_rules() {
    let msgs = messages(
        "services:
  a:
    network_mode: host
    networks: [default]
  b:
    build:
      dockerfile: Dockerfile
      dockerfile_inline: FROM x
      additional_contexts:
        base: service:a
    healthcheck:
      test: [\"curl\", \"-f\", \"localhost\"]
    tmpfs: /data
    volumes: [\"./d:/data/\"]
    develop:
      watch:
        - {path: ./src, action: sync}
        - {path: \"\", action: rebuild}
    gpus:
      - {count: 1, device_ids: [\"0\"]}
    platform: linux/arm64
  c:
    image: x
    build: {context: ., platforms: [linux/amd64]}
    platform: linux/arm64
networks:
  default: {}
",
    );
    let expected = [
        "services.a: service `a` has neither an image nor a build context; set `image:` or `build:`",
        "services.a.network_mode: service `a` sets both `network_mode` and `networks`; they are mutually exclusive, keep one",
        "services.b.build.dockerfile_inline: `dockerfile` and `dockerfile_inline` are mutually exclusive; keep one",
        "services.b.build.additional_contexts.base: additional context `base` refers to service `a`, which has no `build:`; only buildable services can be used",
        "services.b.healthcheck.test[0]: a healthcheck test list must start with \"CMD\", \"CMD-SHELL\" or \"NONE\", found `curl`",
        "services.b.volumes[0]: `/data` is already mounted by services.b.tmpfs; each container path can be mounted once",
        "services.b.develop.watch[0]: a watch rule with `action: sync` needs a `target`; only rebuild and restart work without one",
        "services.b.develop.watch[1].path: a watch `path` cannot be blank",
        "services.b.gpus[0]: `count` and `device_ids` are mutually exclusive; keep one",
        "services.c.build.platforms: `build.platforms` must include the service's `platform: linux/arm64`; add it to the list",
    ];
    assert_eq!(msgs.len(), expected.len(), "{msgs:#?}");
    for (msg, want) in msgs.iter().zip(expected) {
        assert!(msg.ends_with(want), "{msg}\n  should end with\n{want}");
    }
}

#[test]
fn top_level_resource_rules() {
    let msgs = messages(
        "secrets:
  both: {file: ./a, environment: A}
  none: {}
  tpl: {external: true, template_driver: golang}
configs:
  ok: {content: x}
volumes:
  ext: {external: true, driver: local}
networks:
  ext: {external: true, name: real}
  ipam: {external: true, ipam: {}}
",
    );
    // Only volumes refuse extra keys with `external: true`, as compose-go.
    let expected = [
        "secrets.both: file, environment are mutually exclusive; keep one",
        "secrets.none: a secret must set one of file, environment, or `external: true`",
        "volumes.ext.driver: `external: true` cannot be combined with `driver`; an external resource is managed outside Compose, keep only `name`",
    ];
    assert_eq!(msgs.len(), expected.len(), "{msgs:#?}");
    for (msg, want) in msgs.iter().zip(expected) {
        assert!(msg.ends_with(want), "{msg}\n  should end with\n{want}");
    }
}

#[test]
fn check_returns_every_issue() {
    let file: Arc<Path> = Arc::from(Path::new("compose.yaml"));
    let doc = yaml::parse_str("services:\n  a:\n    image: x\n    links: [b, c]\n", &file).unwrap();
    let err = check(&doc).unwrap_err();
    assert_eq!(err.issues().len(), 2);
    assert_eq!(err.to_string().lines().count(), 2);
}

#[test]
fn corpus_files_have_no_false_alarm() {
    // Real-world files, not canonicalised here: the checks accept short
    // syntax too. `extends` is resolved by an earlier stage of the loader,
    // so a service that extends another may lack its own image here.
    let mut failures = Vec::new();
    for (case, path) in crate::loader::schema::tests::corpus_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let file: Arc<Path> = Arc::from(path.as_path());
        for doc in yaml::parse_documents(&text, &file).unwrap() {
            for issue in issues(&doc) {
                let extends = doc.at(&issue.location.path).and_then(|s| s.get("extends"));
                if matches!(issue.kind, IssueKind::NoImageOrBuild { .. }) && extends.is_some() {
                    continue;
                }
                failures.push(format!("{case}: {issue}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
