//! References from services to other services and to top-level resources
//! (compose-go loader/validate.go: "refers to undefined ...").

use super::{Checker, IssueKind, Section};
use crate::graph::{self, GraphError};
use crate::loader::node::{Node, NodePath};

pub(super) fn check(c: &mut Checker<'_>) {
    for (name, service, path) in c.services() {
        services(c, name, service, &path);
        networks(c, name, service, &path);
        volumes(c, name, service, &path);
        sources(
            c,
            name,
            service.get("secrets"),
            &path.key("secrets"),
            Section::Secrets,
            false,
        );
        sources(
            c,
            name,
            service.get("configs"),
            &path.key("configs"),
            Section::Configs,
            false,
        );
        let build = service.get("build");
        let build_path = path.key("build").key("secrets");
        sources(
            c,
            name,
            build.and_then(|b| b.get("secrets")),
            &build_path,
            Section::Secrets,
            true,
        );
        models(c, name, service, &path);
    }
    if let Err(GraphError::Cycle { location, cycle }) = graph::check_cycles(c.doc) {
        c.issues.push(super::Issue {
            location,
            kind: IssueKind::Cycle { cycle },
        });
    }
}

/// depends_on, links, volumes_from and `service:` namespaces.
fn services(c: &mut Checker<'_>, name: &str, service: &Node, path: &NodePath) {
    let (refs, _bad_conditions) = graph::references(service, path);
    for r in refs {
        let relation = r.dependency.relation;
        if r.target == name {
            let kind = IssueKind::SelfReference {
                service: name.to_string(),
                relation,
            };
            c.report(r.path, kind);
        } else if !c.defines("services", &r.target)
            && (r.dependency.required || !c.disabled.contains_key(&r.target))
        {
            let kind = IssueKind::UndefinedService {
                service: name.to_string(),
                target: r.target,
                relation,
            };
            c.report(r.path, kind);
        }
    }
}

fn undefined(
    c: &mut Checker<'_>,
    service: &str,
    section: Section,
    name: &str,
    build: bool,
    at: NodePath,
) {
    if !c.defines(section.key(), name) {
        let kind = IssueKind::UndefinedResource {
            service: service.to_string(),
            section,
            name: name.to_string(),
            build,
        };
        c.report(at, kind);
    }
}

/// `networks:` as a map (canonical) or a list of names (short form).
fn networks(c: &mut Checker<'_>, name: &str, service: &Node, path: &NodePath) {
    let path = path.key("networks");
    for (network, at) in names(service.get("networks"), &path) {
        // `default` exists without being declared: normalisation creates
        // `<project>_default` for every service that names it (compose-go
        // loader/normalize.go), and checkConsistency runs after that.
        if network == "default" {
            continue;
        }
        undefined(c, name, Section::Networks, &network, false, at);
    }
}

/// `models:` as a map or a list of names.
fn models(c: &mut Checker<'_>, name: &str, service: &Node, path: &NodePath) {
    let path = path.key("models");
    for (model, at) in names(service.get("models"), &path) {
        undefined(c, name, Section::Models, &model, false, at);
    }
}

/// The names of a map-or-list attribute, with where each was written.
fn names(node: Option<&Node>, path: &NodePath) -> Vec<(String, NodePath)> {
    let Some(node) = node else {
        return Vec::new();
    };
    if let Some(map) = node.as_map() {
        return map
            .keys()
            .map(|k| (k.clone(), path.key(k.clone())))
            .collect();
    }
    node.as_seq()
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.as_str().map(|s| (s.to_string(), path.index(i))))
        .collect()
}

/// Named volumes: long form `{type: volume, source: NAME}`, or the short
/// form `NAME:/target[:mode]` (a source without `/`, `.` or `~` start).
fn volumes(c: &mut Checker<'_>, name: &str, service: &Node, path: &NodePath) {
    let list = service.get("volumes").and_then(Node::as_seq).unwrap_or(&[]);
    for (i, volume) in list.iter().enumerate() {
        let at = path.key("volumes").index(i);
        let source = if let Some(text) = volume.as_str() {
            short_volume_source(text)
        } else if volume.get("type").and_then(Node::as_str) == Some("volume") {
            volume.get("source").and_then(Node::as_str)
        } else {
            None
        };
        if let Some(source) = source.filter(|s| !s.is_empty()) {
            let at = if volume.get("source").is_some() {
                at.key("source")
            } else {
                at
            };
            undefined(c, name, Section::Volumes, source, false, at);
        }
    }
}

/// The named volume of a short volume spec, `None` for a bind mount or an
/// anonymous volume (compose-go format/volume.go).
pub(super) fn short_volume_source(text: &str) -> Option<&str> {
    let (source, _rest) = text.split_once(':')?;
    let is_path = source.starts_with(['.', '/', '~', '$']) || source.contains('/');
    (!is_path).then_some(source)
}

/// Secrets and configs: `NAME` or `{source: NAME, target: ...}`.
fn sources(
    c: &mut Checker<'_>,
    name: &str,
    list: Option<&Node>,
    path: &NodePath,
    section: Section,
    build: bool,
) {
    for (i, entry) in list
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let at = path.index(i);
        if let Some(source) = entry.as_str() {
            undefined(c, name, section, source, build, at);
        } else if let Some(source) = entry.get("source").and_then(Node::as_str) {
            undefined(c, name, section, source, build, at.key("source"));
        }
    }
}
