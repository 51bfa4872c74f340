//! Per-service consistency (compose-go loader/validate.go
//! `checkConsistency` and validation/validation.go): container names,
//! replicas, exclusive attributes, build, healthcheck, ports, mounts,
//! watch rules and device requests.

use super::{int_of, ports, Checker, IssueKind};
use crate::loader::node::{Location, Node, NodePath, Value};
use indexmap::IndexMap;

pub(super) fn check(c: &mut Checker<'_>) {
    let mut container_names: IndexMap<String, (String, Location)> = IndexMap::new();
    for (name, service, path) in c.services() {
        container_name(c, name, service, &path, &mut container_names);
        replicas(c, service, &path);
        exclusive_network(c, name, service, &path);
        image_or_build(c, name, service, &path);
        build(c, service, &path);
        healthcheck(c, service, &path);
        ports::check(c, service, &path);
        mounts(c, service, &path);
        watch(c, service, &path);
        devices(c, service, &path);
    }
}

/// The number of containers the service runs: `scale`, else
/// `deploy.replicas`, with the attribute that said so.
fn replica_count(service: &Node) -> Option<(&'static str, i64)> {
    if let Some(n) = int_of(service.get("scale")) {
        return Some(("scale", n));
    }
    let replicas = service.get("deploy").and_then(|d| d.get("replicas"));
    int_of(replicas).map(|n| ("deploy.replicas", n))
}

fn container_name(
    c: &mut Checker<'_>,
    name: &str,
    service: &Node,
    path: &NodePath,
    seen: &mut IndexMap<String, (String, Location)>,
) {
    let Some(container) = service.get("container_name").and_then(Node::as_str) else {
        return;
    };
    let at = path.key("container_name");
    if let Some((first_service, first)) = seen.get(container) {
        let kind = IssueKind::DuplicateContainerName {
            name: container.to_string(),
            first_service: first_service.clone(),
            first: first.clone(),
        };
        c.report(at.clone(), kind);
    } else {
        let location = c.location(at.clone());
        seen.insert(container.to_string(), (name.to_string(), location));
    }
    if let Some((attribute, replicas)) = replica_count(service).filter(|(_, n)| *n > 1) {
        let kind = IssueKind::ContainerNameWithReplicas {
            service: name.to_string(),
            attribute,
            replicas,
        };
        c.report(at, kind);
    }
}

fn replicas(c: &mut Checker<'_>, service: &Node, path: &NodePath) {
    let scale = int_of(service.get("scale"));
    let replicas = int_of(service.get("deploy").and_then(|d| d.get("replicas")));
    if let Some(value) = scale.filter(|n| *n < 0) {
        c.report(path.key("scale"), IssueKind::NegativeReplicas { value });
    }
    if let Some(value) = replicas.filter(|n| *n < 0) {
        let at = path.key("deploy").key("replicas");
        c.report(at, IssueKind::NegativeReplicas { value });
    }
    if let (Some(scale), Some(replicas)) = (scale, replicas) {
        if scale != replicas {
            c.report(
                path.key("scale"),
                IssueKind::DistinctReplicas { scale, replicas },
            );
        }
    }
}

fn exclusive_network(c: &mut Checker<'_>, name: &str, service: &Node, path: &NodePath) {
    let has_networks = match service.get("networks").map(|n| &n.value) {
        Some(Value::Map(m)) => !m.is_empty(),
        Some(Value::Seq(s)) => !s.is_empty(),
        _ => false,
    };
    if service.get("network_mode").is_some_and(|n| !n.is_null()) && has_networks {
        let kind = IssueKind::NetworkModeWithNetworks {
            service: name.to_string(),
        };
        c.report(path.key("network_mode"), kind);
    }
}

fn image_or_build(c: &mut Checker<'_>, name: &str, service: &Node, path: &NodePath) {
    let set = |key: &str| service.get(key).is_some_and(|n| !n.is_null());
    if !set("image") && !set("build") && !set("provider") {
        let kind = IssueKind::NoImageOrBuild {
            service: name.to_string(),
        };
        c.report(path.clone(), kind);
    }
}

fn build(c: &mut Checker<'_>, service: &Node, path: &NodePath) {
    let Some(build) = service.get("build").filter(|b| b.as_map().is_some()) else {
        return;
    };
    let at = path.key("build");
    if build.get("dockerfile").is_some() && build.get("dockerfile_inline").is_some() {
        c.report(at.key("dockerfile_inline"), IssueKind::DockerfileConflict);
    }
    additional_contexts(c, build, &at);
    let platform = service.get("platform").and_then(Node::as_str);
    let platforms = build.get("platforms").and_then(Node::as_seq).unwrap_or(&[]);
    if let Some(platform) = platform {
        if !platforms.is_empty() && !platforms.iter().any(|p| p.as_str() == Some(platform)) {
            let kind = IssueKind::PlatformNotBuilt {
                platform: platform.to_string(),
            };
            c.report(at.key("platforms"), kind);
        }
    }
}

/// `additional_contexts: {name: "service:other"}` needs a buildable service.
fn additional_contexts(c: &mut Checker<'_>, build: &Node, at: &NodePath) {
    let Some(contexts) = build.get("additional_contexts").and_then(Node::as_map) else {
        return;
    };
    for (context, value) in contexts {
        let Some(target) = value.as_str().and_then(crate::graph::service_ref) else {
            continue;
        };
        let target_service = c.doc.get("services").and_then(|s| s.get(target));
        let buildable = target_service.is_some_and(|t| t.get("build").is_some());
        if !buildable {
            let kind = IssueKind::AdditionalContext {
                context: context.clone(),
                target: target.to_string(),
                buildable_target_exists: target_service.is_some(),
            };
            c.report(at.key("additional_contexts").key(context.clone()), kind);
        }
    }
}

fn healthcheck(c: &mut Checker<'_>, service: &Node, path: &NodePath) {
    let test = service.get("healthcheck").and_then(|h| h.get("test"));
    let Some(first) = test.and_then(Node::as_seq).and_then(|s| s.first()) else {
        return;
    };
    let word = first.scalar_text().unwrap_or_default();
    if !matches!(word.as_str(), "CMD" | "CMD-SHELL" | "NONE") {
        let at = path.key("healthcheck").key("test").index(0);
        c.report(at, IssueKind::HealthcheckTest { first: word });
    }
}

/// Two mounts (tmpfs or volumes) on one container path.
fn mounts(c: &mut Checker<'_>, service: &Node, path: &NodePath) {
    let mut seen: IndexMap<String, NodePath> = IndexMap::new();
    let tmpfs = service.get("tmpfs");
    let tmpfs_list: Vec<(NodePath, &Node)> = match tmpfs.map(|t| &t.value) {
        Some(Value::Seq(items)) => items
            .iter()
            .enumerate()
            .map(|(i, n)| (path.key("tmpfs").index(i), n))
            .collect(),
        Some(Value::String(_)) => vec![(path.key("tmpfs"), tmpfs.unwrap_or(service))],
        _ => Vec::new(),
    };
    let mut targets: Vec<(NodePath, String)> = tmpfs_list
        .into_iter()
        .filter_map(|(at, n)| {
            n.as_str()
                .map(|s| (at, s.split(':').next().unwrap_or(s).to_string()))
        })
        .collect();
    let volumes = service.get("volumes").and_then(Node::as_seq).unwrap_or(&[]);
    for (i, volume) in volumes.iter().enumerate() {
        let target = match volume.as_str() {
            Some(text) => text.split(':').nth(1).or(Some(text)).map(str::to_string),
            None => volume
                .get("target")
                .and_then(Node::as_str)
                .map(str::to_string),
        };
        if let Some(target) = target {
            targets.push((path.key("volumes").index(i), target));
        }
    }
    for (at, target) in targets {
        let clean = clean_path(&target);
        if clean.is_empty() || clean.contains('$') {
            continue;
        }
        if let Some(first) = seen.get(&clean) {
            let kind = IssueKind::DuplicateMountTarget {
                target: clean.clone(),
                first: first.to_string(),
            };
            c.report(at, kind);
        } else {
            seen.insert(clean, at);
        }
    }
}

/// A container path without `.` segments, doubled or trailing slashes
/// (compose-go compares targets after `path.Clean`).
fn clean_path(p: &str) -> String {
    let absolute = p.starts_with('/');
    let parts: Vec<&str> = p
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

fn watch(c: &mut Checker<'_>, service: &Node, path: &NodePath) {
    let rules = service.get("develop").and_then(|d| d.get("watch"));
    let at = path.key("develop").key("watch");
    for (i, rule) in rules
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let action = rule
            .get("action")
            .and_then(Node::as_str)
            .unwrap_or_default();
        let has_target = rule
            .get("target")
            .and_then(Node::as_str)
            .is_some_and(|t| !t.is_empty());
        if !has_target && !matches!(action, "rebuild" | "restart") {
            let kind = IssueKind::WatchTargetRequired {
                action: action.to_string(),
            };
            c.report(at.index(i), kind);
        }
        if rule.get("path").and_then(Node::as_str) == Some("") {
            c.report(at.index(i).key("path"), IssueKind::BlankWatchPath);
        }
    }
}

/// GPU/device requests: `count` or `device_ids`, not both.
fn devices(c: &mut Checker<'_>, service: &Node, path: &NodePath) {
    let reservations = service
        .get("deploy")
        .and_then(|d| d.get("resources"))
        .and_then(|r| r.get("reservations"))
        .and_then(|r| r.get("devices"));
    let reservations_path = path
        .key("deploy")
        .key("resources")
        .key("reservations")
        .key("devices");
    let lists = [
        (reservations, reservations_path),
        (service.get("gpus"), path.key("gpus")),
    ];
    for (list, at) in lists {
        for (i, device) in list
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            if device.get("count").is_some() && device.get("device_ids").is_some() {
                c.report(at.index(i), IssueKind::DeviceCountAndIds);
            }
        }
    }
}
