//! Normalisation on small documents (expectations from compose-go's
//! `loader/normalize_test.go`).

use super::*;
use crate::loader::environment::Origin;
use crate::loader::yaml::parse_str;
use std::path::Path;
use std::sync::Arc;

fn parse(text: &str) -> Node {
    let file: Arc<Path> = Arc::from(Path::new("compose.yaml"));
    parse_str(text, &file).unwrap()
}

fn normalized(text: &str, env: &Environment) -> Node {
    let mut doc = parse(text);
    normalize(&mut doc, "p", env).unwrap();
    doc
}

#[test]
fn default_network_and_names() {
    let got = normalized(
        "services:\n  web: {image: nginx}\n  host: {image: x, network_mode: host}\nvolumes:\n  data:\n  ext: {external: true}\n",
        &Environment::new(),
    );
    let want = parse(
        "services:\n  web: {image: nginx, networks: {default: null}}\n  host: {image: x, network_mode: host}\nvolumes:\n  data: {name: p_data}\n  ext: {external: true, name: ext}\nnetworks:\n  default: {name: p_default}\n",
    );
    assert_eq!(got, want, "{:?}", got.to_json());
}

#[test]
fn build_args_resolve_and_environment_is_left_to_service_env() {
    let mut env = Environment::new();
    env.set("FOO", "bar", Origin::Shell);
    let got = normalized(
        "services:\n  web:\n    build: {context: ., args: {FOO: null, MISSING: null}}\n    environment: {FOO: null, MISSING: null}\n    network_mode: none\n",
        &env,
    );
    let want = parse(
        "services:\n  web:\n    build: {context: ., dockerfile: Dockerfile, args: {FOO: bar}}\n    environment: {FOO: null, MISSING: null}\n    network_mode: none\n",
    );
    assert_eq!(got, want, "{:?}", got.to_json());
}

#[test]
fn links_and_shared_namespaces_imply_dependencies() {
    let got = normalized(
        "services:\n  web:\n    links: ['db:database']\n    ipc: 'service:shm'\n    volumes_from: ['data:ro', 'container:x']\n    network_mode: host\n",
        &Environment::new(),
    );
    let deps = got.at(&NodePath::parse("services.web.depends_on")).unwrap();
    let want = parse(
        "db: {condition: service_started, restart: true, required: true}\nshm: {condition: service_started, restart: true, required: true}\ndata: {condition: service_started, restart: false, required: true}\n",
    );
    assert_eq!(deps, &want);
}

#[test]
fn secrets_and_configs_from_environment_get_their_content() {
    let mut env = Environment::new();
    env.set("CFG", "hello", Origin::Shell);
    env.set("SEC", "s3cr3t", Origin::Shell);
    let mut got = parse("configs:\n  c: {environment: CFG}\nsecrets:\n  s: {environment: SEC}\n  u: {environment: UNSET}\n");
    content_from_environment(&mut got, &env);
    let want = parse("configs:\n  c: {environment: CFG, content: hello}\nsecrets:\n  s: {environment: SEC, content: s3cr3t}\n  u: {environment: UNSET}\n");
    assert_eq!(got, want);
}
