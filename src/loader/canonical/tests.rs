//! The canonical transform on small documents: each test writes the input
//! and the long form compose-go produces for it.

use super::*;
use crate::loader::yaml::parse_str;
use std::path::Path;
use std::sync::Arc;

fn parse(text: &str) -> Node {
    let file: Arc<Path> = Arc::from(Path::new("compose.yaml"));
    parse_str(text, &file).unwrap()
}

fn canon(text: &str) -> Node {
    let mut doc = parse(text);
    let mut warnings = Vec::new();
    canonical(&mut doc, &mut warnings).unwrap();
    doc
}

fn err(text: &str) -> String {
    let mut doc = parse(text);
    canonical(&mut doc, &mut Vec::new())
        .unwrap_err()
        .to_string()
}

#[track_caller]
fn assert_canon(input: &str, expected: &str) {
    let got = canon(input);
    let want = parse(expected);
    assert_eq!(
        got,
        want,
        "\ngot:  {:?}\nwant: {:?}",
        got.to_json(),
        want.to_json()
    );
}

#[test]
fn ports_short_syntax_expands() {
    assert_canon(
        "services:\n  web:\n    ports: ['8080:80', 53/udp, {target: 9000}]\n",
        "services:\n  web:\n    ports:\n      - {mode: ingress, target: 80, published: '8080', protocol: tcp}\n      - {mode: ingress, target: 53, protocol: udp}\n      - {target: 9000, protocol: tcp, mode: ingress}\n",
    );
}

#[test]
fn volumes_short_syntax_expands() {
    assert_canon(
        "services:\n  web:\n    volumes: ['./src:/app:ro', 'data:/data', '/cache']\n",
        "services:\n  web:\n    volumes:\n      - {type: bind, source: ./src, target: /app, read_only: true, bind: {create_host_path: true}}\n      - {type: volume, source: data, target: /data, volume: {}}\n      - {type: volume, target: /cache, volume: {}}\n",
    );
}

#[test]
fn lists_become_maps() {
    assert_canon(
        "services:\n  web:\n    environment: [A=1, B]\n    labels: [x=y, z]\n    networks: [front]\n    depends_on: [db]\n",
        "services:\n  web:\n    environment: {A: '1', B: null}\n    labels: {x: y, z: ''}\n    networks: {front: null}\n    depends_on: {db: {condition: service_started, required: true}}\n",
    );
}

#[test]
fn build_env_file_secrets_devices_gpus() {
    assert_canon(
        "services:\n  web:\n    build: ./app\n    env_file: .env\n    secrets: [token]\n    configs: [cfg]\n    devices: ['/dev/sda:/dev/xvda']\n    gpus: all\n    extends: base\n",
        "services:\n  web:\n    build: {context: ./app}\n    env_file: [{path: .env, required: true}]\n    secrets: [{source: token, target: /run/secrets/token}]\n    configs: [{source: cfg}]\n    devices: [{source: /dev/sda, target: /dev/xvda, permissions: rwm}]\n    gpus: [{count: all}]\n    extends: {service: base}\n",
    );
}

#[test]
fn external_legacy_form_warns() {
    let mut doc = parse("volumes:\n  data:\n    external:\n      name: real\n");
    let mut warnings = Vec::new();
    canonical(&mut doc, &mut warnings).unwrap();
    assert_eq!(
        doc,
        parse("volumes:\n  data:\n    external: true\n    name: real\n")
    );
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0]
        .to_string()
        .contains("volumes.data.external.name"));
}

#[test]
fn canonical_is_idempotent() {
    let input = "services:\n  web:\n    ports: ['80-81:80-81']\n    volumes: ['./a:/a']\n    environment: [A=1]\n    build: .\n";
    let once = canon(input);
    let mut twice = once.clone();
    canonical(&mut twice, &mut Vec::new()).unwrap();
    assert_eq!(once, twice);
}

#[test]
fn errors_name_the_place() {
    let e = err("services:\n  web:\n    ports:\n      - '80'\n      - 'x:80'\n");
    assert!(
        e.starts_with("compose.yaml:5:9: services.web.ports[1]"),
        "{e}"
    );
    assert!(e.contains("invalid host port"), "{e}");
    let e = err("services:\n  web:\n    environment: ['A =1']\n");
    assert!(e.contains("trailing space"), "{e}");
    let e = err("services:\n  web:\n    volumes: ['/a::/b']\n");
    assert!(e.contains("empty section"), "{e}");
}

#[test]
fn device_options_and_volume_labels_lists_become_mappings() {
    let mut doc = parse("services:\n  web:\n    gpus: [{driver: nvidia, options: [k=v, flag]}]\n    volumes: [{type: volume, source: v, target: /v, volume: {labels: [a=b]}}]\n");
    canonical(&mut doc, &mut Vec::new()).unwrap();
    let web = doc
        .get("services")
        .and_then(|s| s.get("web"))
        .unwrap()
        .to_json();
    assert_eq!(
        web["gpus"][0]["options"],
        serde_json::json!({"k": "v", "flag": ""})
    );
    assert_eq!(
        web["volumes"][0]["volume"]["labels"],
        serde_json::json!({"a": "b"})
    );
}

#[test]
fn lenient_mode_keeps_key_value_lists() {
    let mut doc = parse(
        "services:\n  web:\n    environment: [A=1, B]\n    labels: [x=y]\n    sysctls: [k=v]\n",
    );
    let want = doc.clone();
    canonical_lenient(&mut doc, &mut Vec::new()).unwrap();
    assert_eq!(doc, want, "{:?}", doc.to_json());
}

#[test]
fn lenient_mode_keeps_uninterpolated_short_syntax() {
    let mut doc = parse("services:\n  web:\n    ports: ['${PORT:-8080}:80']\n    volumes: ['${SRC}:/src', 'data:/data']\n");
    canonical_lenient(&mut doc, &mut Vec::new()).unwrap();
    let want = parse("services:\n  web:\n    ports: ['${PORT:-8080}:80']\n    volumes: [{type: volume, source: '${SRC}', target: /src, volume: {}}, {type: volume, source: data, target: /data, volume: {}}]\n");
    assert_eq!(doc, want, "{:?}", doc.to_json());
}
