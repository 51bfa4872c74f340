//! Graph tests: levels, transitive queries, golden renderings and cycle
//! messages.

use super::*;
use crate::loader::yaml;
use std::path::Path;
use std::sync::Arc;

fn graph(text: &str) -> Result<ServiceGraph, GraphError> {
    let file: Arc<Path> = Arc::from(Path::new("compose.yaml"));
    ServiceGraph::from_document(&yaml::parse_str(text, &file).unwrap())
}

const STACK: &str = "\
services:
  web:
    image: nginx
    depends_on:
      api:
        condition: service_healthy
        restart: true
      cache:
        condition: service_started
        required: false
  api:
    image: api
    depends_on: [db, migrate]
    links: [\"db:database\"]
  migrate:
    image: api
    depends_on:
      db:
        condition: service_healthy
  db:
    image: postgres
  metrics:
    image: prom
    network_mode: service:web
  cache:
    image: redis
";

#[test]
fn levels_start_in_parallel_and_sorted() {
    let g = graph(STACK).unwrap();
    assert_eq!(
        g.start_levels(),
        [
            vec!["cache", "db"],
            vec!["migrate"],
            vec!["api"],
            vec!["web"],
            vec!["metrics"]
        ]
    );
    assert_eq!(g.stop_levels()[0], ["metrics"]);
    assert_eq!(g.stop_levels()[4], ["cache", "db"]);
}

#[test]
fn transitive_dependencies_and_dependents() {
    let g = graph(STACK).unwrap();
    assert_eq!(
        g.dependencies("web").unwrap(),
        ["cache", "db", "migrate", "api"]
    );
    assert_eq!(g.dependencies("db").unwrap(), Vec::<String>::new());
    assert_eq!(
        g.dependents("db").unwrap(),
        ["metrics", "web", "api", "migrate"]
    );
    assert_eq!(
        g.dependents("nope").unwrap_err().to_string(),
        "no such service: `nope`"
    );
    assert_eq!(
        g.dependencies("wbe").unwrap_err().to_string(),
        "no such service: `wbe`; did you mean `web`?"
    );
}

#[test]
fn explicit_depends_on_wins_over_implied_link() {
    let g = graph(STACK).unwrap();
    let deps = g.direct_dependencies("api").unwrap();
    let db = deps.iter().find(|e| e.to == "db").unwrap();
    assert_eq!(db.dependency.relation, Relation::DependsOn);
    assert!(!db.dependency.restart);
}

#[test]
fn a_normalised_dependency_is_reported_where_its_source_was_written() {
    let file: Arc<Path> = Arc::from(Path::new("compose.yaml"));
    let mut doc = yaml::parse_str("services:\n  a:\n    network_mode: service:b\n", &file).unwrap();
    // What normalisation adds: an entry with no position in the file.
    let entry = yaml::parse_str(
        "{condition: service_started, restart: true, required: true}",
        &file,
    )
    .unwrap();
    let mut deps = crate::loader::node::Mapping::new();
    deps.insert("b".into(), strip_spans(entry));
    let service = doc
        .get_mut("services")
        .and_then(|s| s.get_mut("a"))
        .unwrap();
    service
        .as_map_mut()
        .unwrap()
        .insert("depends_on".into(), crate::loader::node::Node::map(deps));
    let path = NodePath::root().key("services").key("a");
    let (refs, _) = edges::references(doc.get("services").unwrap().get("a").unwrap(), &path);
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0].dependency.relation, Relation::NetworkMode);
    assert_eq!(refs[0].path.to_string(), "services.a.network_mode");
    assert!(refs[0].dependency.restart);
}

fn strip_spans(mut node: crate::loader::node::Node) -> crate::loader::node::Node {
    node.span = None;
    if let Some(m) = node.as_map_mut() {
        for v in m.values_mut() {
            v.span = None;
        }
    }
    node
}

#[test]
fn text_rendering_golden() {
    let g = graph(STACK).unwrap();
    let expected = "\
level 1
├── cache
└── db
level 2
└── migrate
    └── db (service_healthy)
level 3
└── api
    ├── db (service_started)
    └── migrate (service_started)
level 4
└── web
    ├── api (service_healthy, restart)
    └── cache (service_started, optional)
level 5
└── metrics
    └── web (service_started, from network_mode, restart)
";
    assert_eq!(render::text(&g), expected);
}

#[test]
fn dot_rendering_golden() {
    let g = graph("services:\n  a:\n    image: x\n    depends_on:\n      b: {condition: service_completed_successfully, required: false}\n  b:\n    image: x\n    volumes_from: [\"c:ro\"]\n  c:\n    image: x\n").unwrap();
    let expected = r#"digraph compose {
  rankdir=BT;
  node [shape=box];
  "a";
  "b";
  "c";
  "a" -> "b" [label="service_completed_successfully, optional", style=dashed];
  "b" -> "c" [label="service_started, from volumes_from"];
}
"#;
    assert_eq!(render::dot(&g), expected);
}

#[test]
fn json_rendering_has_levels_and_edges() {
    let g =
        graph("services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n").unwrap();
    let v: serde_json::Value = serde_json::from_str(&render::json(&g)).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "levels": [["b"], ["a"]],
            "edges": [{"from": "a", "to": "b", "relation": "depends_on",
                       "condition": "service_started", "required": true, "restart": false}]
        })
    );
}

#[test]
fn cycle_names_the_whole_cycle_from_its_smallest_service() {
    let err = graph(
        "services:\n  c:\n    image: x\n    depends_on: [a]\n  b:\n    image: x\n    depends_on:\n      c:\n        condition: service_started\n  a:\n    image: x\n    depends_on:\n      - b\n",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "compose.yaml:13:9: services.a.depends_on[0]: dependency cycle: a -> b -> c -> a"
    );
}

#[test]
fn self_dependency_is_a_cycle() {
    let err = graph("services:\n  a:\n    image: x\n    links: [a]\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "compose.yaml:4:13: services.a.links[0]: dependency cycle: a -> a"
    );
}

#[test]
fn cycle_through_network_mode_is_found() {
    let err = graph(
        "services:\n  x:\n    image: i\n    network_mode: \"service:y\"\n  y:\n    image: i\n    ipc: service:x\n",
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("services.x.network_mode: dependency cycle: x -> y -> x"),
        "{err}"
    );
}

#[test]
fn undefined_required_dependency_is_an_error_optional_is_dropped() {
    let err = graph("services:\n  a:\n    image: x\n    depends_on: [ghost]\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "compose.yaml:4:18: services.a.depends_on[0]: service `a` depends on undefined service `ghost` (via depends_on); define it under `services:` or remove the reference"
    );
    let g =
        graph("services:\n  a:\n    image: x\n    depends_on:\n      ghost: {required: false}\n")
            .unwrap();
    assert_eq!(g.start_levels(), [vec!["a"]]);
}

#[test]
fn unknown_condition_is_an_error() {
    let err = graph("services:\n  a:\n    image: x\n    depends_on:\n      b: {condition: ready}\n  b:\n    image: x\n").unwrap_err();
    assert!(
        err.to_string()
            .contains("services.a.depends_on.b.condition: unknown condition `ready`"),
        "{err}"
    );
}

#[test]
fn empty_and_missing_services() {
    assert_eq!(render::text(&graph("name: x\n").unwrap()), "no services\n");
    assert!(graph("services: [a]\n").is_err());
}

#[test]
fn graph_never_changes_the_document() {
    let file: Arc<Path> = Arc::from(Path::new("compose.yaml"));
    let doc = yaml::parse_str(STACK, &file).unwrap();
    let before = doc.clone();
    ServiceGraph::from_document(&doc).unwrap();
    assert_eq!(doc, before);
}

#[test]
fn every_corpus_file_has_an_acyclic_graph() {
    for (case, path) in crate::loader::schema::tests::corpus_yaml_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let file: Arc<Path> = Arc::from(path.as_path());
        for doc in yaml::parse_documents(&text, &file).unwrap() {
            if let Err(e) = ServiceGraph::from_document(&doc) {
                panic!("{case}: {e}");
            }
        }
    }
}
