//! Which services a service refers to, read from its (canonical) node.
//!
//! A service depends on another through `depends_on` (with a condition) and
//! implicitly through `links`, `volumes_from` and the `service:NAME` form of
//! `network_mode`, `ipc`, `pid`, `uts` and `cgroup`. compose-go adds those
//! implicit ones to `depends_on` during normalisation (loader/normalize.go):
//! condition `service_started`, required, restarting with the target except
//! for `volumes_from`. We read them here without rewriting the document, so
//! the graph and the validator see the same references either way.

use crate::loader::node::{Node, NodePath};
use std::fmt;

/// How a service waits for one it depends on (05-services.md, depends_on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Condition {
    #[serde(rename = "service_started")]
    Started,
    #[serde(rename = "service_healthy")]
    Healthy,
    #[serde(rename = "service_completed_successfully")]
    CompletedSuccessfully,
}

impl Condition {
    pub fn parse(text: &str) -> Option<Condition> {
        match text {
            "service_started" => Some(Condition::Started),
            "service_healthy" => Some(Condition::Healthy),
            "service_completed_successfully" => Some(Condition::CompletedSuccessfully),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Started => "service_started",
            Condition::Healthy => "service_healthy",
            Condition::CompletedSuccessfully => "service_completed_successfully",
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The attribute a reference was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    DependsOn,
    Links,
    VolumesFrom,
    NetworkMode,
    Ipc,
    Pid,
    Uts,
    Cgroup,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::DependsOn => "depends_on",
            Relation::Links => "links",
            Relation::VolumesFrom => "volumes_from",
            Relation::NetworkMode => "network_mode",
            Relation::Ipc => "ipc",
            Relation::Pid => "pid",
            Relation::Uts => "uts",
            Relation::Cgroup => "cgroup",
        }
    }

    /// The namespace-sharing attributes that take `service:NAME`.
    const NAMESPACES: [Relation; 5] = [
        Relation::NetworkMode,
        Relation::Ipc,
        Relation::Pid,
        Relation::Uts,
        Relation::Cgroup,
    ];
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an edge of the graph says about the dependency.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Dependency {
    pub relation: Relation,
    pub condition: Condition,
    /// `required: false`: a missing target is tolerated (compose 2.20+).
    pub required: bool,
    /// `restart: true`: restart this service when the target is restarted.
    pub restart: bool,
}

/// One reference from a service to another, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub target: String,
    pub dependency: Dependency,
    pub path: NodePath,
}

/// A `depends_on` entry whose condition is not one Compose knows.
#[derive(Debug, Clone, PartialEq)]
pub struct BadCondition {
    pub path: NodePath,
    pub value: String,
}

/// Every reference of `service` (at `path`), explicit `depends_on` first;
/// an implicit reference to a service already listed there is dropped, as
/// compose-go keeps the explicit entry.
pub fn references(service: &Node, path: &NodePath) -> (Vec<Reference>, Vec<BadCondition>) {
    let mut refs = Vec::new();
    let mut bad = Vec::new();
    depends_on(service, &path.key("depends_on"), &mut refs, &mut bad);
    let implied = implied(service, path);
    for r in implied {
        match refs.iter_mut().find(|e| e.target == r.target) {
            None => refs.push(r),
            // An entry normalisation added (it has no position in any file)
            // is reported where the user wrote the reference: a
            // `network_mode: service:ghost` error names `network_mode`.
            Some(e) if written_nowhere(service, &e.target) => {
                e.dependency.relation = r.dependency.relation;
                e.path = r.path;
            }
            Some(_) => {}
        }
    }
    (refs, bad)
}

/// Whether the `depends_on` entry for `target` was added by normalisation
/// rather than read from a file.
fn written_nowhere(service: &Node, target: &str) -> bool {
    service
        .get("depends_on")
        .and_then(|d| d.get(target))
        .is_some_and(|entry| entry.span.is_none())
}

fn depends_on(
    service: &Node,
    path: &NodePath,
    refs: &mut Vec<Reference>,
    bad: &mut Vec<BadCondition>,
) {
    let Some(node) = service.get("depends_on") else {
        return;
    };
    // The short form (a list of names) is `service_started`, required.
    if let Some(items) = node.as_seq() {
        for (i, item) in items.iter().enumerate() {
            if let Some(name) = item.as_str() {
                let dependency = implied_dependency(Relation::DependsOn, false);
                push_unique(refs, name, dependency, path.index(i));
            }
        }
    }
    if let Some(map) = node.as_map() {
        for (name, entry) in map {
            let here = path.key(name.clone());
            let condition = match entry.get("condition") {
                None => Condition::Started,
                Some(c) => match c.as_str().and_then(Condition::parse) {
                    Some(c) => c,
                    None => {
                        let value = c.scalar_text().unwrap_or_else(|| c.kind_name().into());
                        bad.push(BadCondition {
                            path: here.key("condition"),
                            value,
                        });
                        continue;
                    }
                },
            };
            let dependency = Dependency {
                relation: Relation::DependsOn,
                condition,
                required: flag(entry, "required", true),
                restart: flag(entry, "restart", false),
            };
            push_unique(refs, name, dependency, here);
        }
    }
}

fn flag(entry: &Node, key: &str, default: bool) -> bool {
    match entry.get(key).map(|n| &n.value) {
        Some(crate::loader::node::Value::Bool(b)) => *b,
        _ => default,
    }
}

fn implied_dependency(relation: Relation, restart: bool) -> Dependency {
    Dependency {
        relation,
        condition: Condition::Started,
        required: true,
        restart,
    }
}

fn push_unique(refs: &mut Vec<Reference>, target: &str, dependency: Dependency, path: NodePath) {
    if !refs.iter().any(|r| r.target == target) {
        refs.push(Reference {
            target: target.to_string(),
            dependency,
            path,
        });
    }
}

/// The references compose-go turns into `depends_on` entries.
fn implied(service: &Node, path: &NodePath) -> Vec<Reference> {
    let mut refs = Vec::new();
    // `links: [db, "cache:redis"]`: the service name is before the colon.
    for (i, text) in strings(service.get("links")) {
        let name = text.split(':').next().unwrap_or(text);
        let dep = implied_dependency(Relation::Links, true);
        push_unique(&mut refs, name, dep, path.key("links").index(i));
    }
    for relation in Relation::NAMESPACES {
        let key = relation.as_str();
        if let Some(name) = service
            .get(key)
            .and_then(Node::as_str)
            .and_then(service_ref)
        {
            let dep = implied_dependency(relation, true);
            push_unique(&mut refs, name, dep, path.key(key));
        }
    }
    // `volumes_from: [db, "db:ro", "container:raw"]`: a bare name (with an
    // optional access mode) is a service; `container:` names are not ours.
    for (i, text) in strings(service.get("volumes_from")) {
        if text.starts_with("container:") {
            continue;
        }
        let name = text.split(':').next().unwrap_or(text);
        let dep = implied_dependency(Relation::VolumesFrom, false);
        push_unique(&mut refs, name, dep, path.key("volumes_from").index(i));
    }
    refs
}

/// `service:NAME` → `NAME`.
pub fn service_ref(text: &str) -> Option<&str> {
    text.strip_prefix("service:")
}

fn strings(node: Option<&Node>) -> impl Iterator<Item = (usize, &str)> {
    node.and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.as_str().map(|s| (i, s)))
}
