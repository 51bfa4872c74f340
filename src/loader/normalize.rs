//! Normalisation after merge and path resolution (compose-go's
//! `loader/normalize.go`), what `compose config` shows on top of the
//! canonical form:
//! - services without `networks` (and without `network_mode` or `provider`)
//!   join the `default` network, declared at the top level when used;
//! - `networks`, `volumes`, `secrets`, `configs` get a `name`:
//!   `<project>_<key>`, or the key itself when external;
//! - `build` gets `context: .` and `dockerfile: Dockerfile`, and its `args`
//!   without a value take one from the environment (or are dropped);
//! - (`environment` entries without a value are left to the service
//!   environment stage, `service_env`, which records where each came from);
//! - `links`, `network_mode|ipc|pid|uts|cgroup: service:x` and
//!   `volumes_from` imply `depends_on`;
//! - `pull_policy: if_not_present` is spelled `missing`; volume targets are
//!   cleaned; `pre_start` hooks inherit the service image;
//! - secrets and configs read from an environment variable get it as
//!   `content` ([`content_from_environment`], run by `load` after the
//!   consistency checks, which must see the user's sources only).

use super::environment::Environment;
use super::node::{Location, Mapping, Node, NodePath, Value};

/// A value normalisation cannot work with.
#[derive(Debug, thiserror::Error)]
pub enum NormalizeError {
    #[error("{location}: expected {expected}, found {found}")]
    Type {
        location: Location,
        expected: &'static str,
        found: &'static str,
    },
}

/// Normalise the merged, path-resolved document in place.
pub fn normalize(
    doc: &mut Node,
    project_name: &str,
    env: &Environment,
) -> Result<(), NormalizeError> {
    let root = NodePath::root();
    let Some(top) = doc.as_map_mut() else {
        return Ok(());
    };
    default_network(top);
    if let Some(services) = top.get_mut("services").and_then(Node::as_map_mut) {
        let path = root.key("services");
        for (name, svc) in services.iter_mut() {
            service(svc, &path.key(name), env)?;
        }
    }
    resource_names(top, project_name);
    Ok(())
}

/// A secret or config with `environment: VAR` gets its content from that
/// variable (compose-go's `resolveSecretsEnvironment` and
/// `resolveConfigsEnvironment`, run after validation); the printers leave
/// that content out.
pub fn content_from_environment(doc: &mut Node, env: &Environment) {
    for section in ["secrets", "configs"] {
        let Some(objects) = doc.get_mut(section).and_then(Node::as_map_mut) else {
            continue;
        };
        for obj in objects.values_mut().filter_map(Node::as_map_mut) {
            let var = obj.get("environment").and_then(Node::as_str);
            if let Some(value) = var.and_then(|v| env.get(v)).map(str::to_string) {
                obj.insert("content".into(), Node::string(value));
            }
        }
    }
}

/// Attach network-less services to `default` and declare it when used.
fn default_network(top: &mut Mapping) {
    let mut uses_default = false;
    if let Some(services) = top.get_mut("services").and_then(Node::as_map_mut) {
        for svc in services.values_mut() {
            let Some(s) = svc.as_map_mut() else { continue };
            if s.contains_key("provider") || s.contains_key("network_mode") {
                continue;
            }
            match s.get("networks").and_then(Node::as_map) {
                Some(nets) if !nets.is_empty() => {
                    uses_default |= nets.contains_key("default");
                }
                _ => {
                    let mut nets = Mapping::new();
                    nets.insert("default".into(), Node::null());
                    s.insert("networks".into(), Node::map(nets));
                    uses_default = true;
                }
            }
        }
    }
    if uses_default {
        let networks = top
            .entry("networks".to_string())
            .or_insert_with(|| Node::map(Mapping::new()));
        if networks.is_null() {
            networks.value = Value::Map(Mapping::new());
        }
        if let Some(nets) = networks.as_map_mut() {
            nets.entry("default".to_string()).or_insert_with(Node::null);
        }
    }
}

fn type_error(node: &Node, path: &NodePath, expected: &'static str) -> NormalizeError {
    NormalizeError::Type {
        location: Location::new(node.span.clone(), path.clone()),
        expected,
        found: node.kind_name(),
    }
}

fn service(svc: &mut Node, path: &NodePath, env: &Environment) -> Result<(), NormalizeError> {
    let Some(s) = svc.as_map_mut() else {
        return Ok(());
    };
    if s.get("pull_policy").and_then(Node::as_str) == Some("if_not_present") {
        s.insert("pull_policy".into(), Node::string("missing"));
    }
    if let Some(build) = s.get_mut("build").and_then(Node::as_map_mut) {
        if build.get("context").is_none_or(Node::is_null) {
            build.insert("context".into(), Node::string("."));
        }
        let has_dockerfile = |k: &str| build.get(k).is_some_and(|n| !n.is_null());
        if !has_dockerfile("dockerfile") && !has_dockerfile("dockerfile_inline") {
            build.insert("dockerfile".into(), Node::string("Dockerfile"));
        }
        if let Some(args) = build.get_mut("args").and_then(Node::as_map_mut) {
            resolve_from_env(args, env);
        }
    }
    implied_dependencies(s, path)?;
    if let Some(vols) = s.get_mut("volumes").and_then(Node::as_seq_mut) {
        for v in vols.iter_mut() {
            if let Some(t) = v.get_mut("target") {
                if let Value::String(target) = &t.value {
                    t.value = Value::String(super::canonical::clean_path(target));
                }
            }
        }
    }
    inherit_pre_start_image(s);
    Ok(())
}

/// Build args without a value take the environment's; missing ones are
/// dropped (compose-go `Normalize`).
fn resolve_from_env(vars: &mut Mapping, env: &Environment) {
    vars.retain(|key, value| {
        if !value.is_null() {
            return true;
        }
        match env.get(key) {
            Some(v) => {
                value.value = Value::String(v.to_string());
                true
            }
            None => false,
        }
    });
}

/// A dependency compose adds for a link or a shared namespace.
fn implied(restart: bool) -> Node {
    let mut m = Mapping::new();
    m.insert("condition".into(), Node::string("service_started"));
    m.insert("restart".into(), Node::new(Value::Bool(restart)));
    m.insert("required".into(), Node::new(Value::Bool(true)));
    Node::map(m)
}

fn implied_dependencies(s: &mut Mapping, path: &NodePath) -> Result<(), NormalizeError> {
    let mut deps: Vec<(String, bool)> = Vec::new();
    if let Some(links) = s.get("links") {
        let items = links
            .as_seq()
            .ok_or_else(|| type_error(links, &path.key("links"), "a list of links"))?;
        for link in items.iter().filter_map(Node::as_str) {
            let parts: Vec<&str> = link.split(':').collect();
            let target = if parts.len() == 2 { parts[0] } else { link };
            deps.push((target.to_string(), true));
        }
    }
    for ns in ["network_mode", "ipc", "pid", "uts", "cgroup"] {
        if let Some(shared) = s
            .get(ns)
            .and_then(Node::as_str)
            .and_then(|r| r.strip_prefix("service:"))
        {
            deps.push((shared.to_string(), true));
        }
    }
    if let Some(from) = s.get("volumes_from") {
        let items = from
            .as_seq()
            .ok_or_else(|| type_error(from, &path.key("volumes_from"), "a list of services"))?;
        for v in items.iter().filter_map(Node::as_str) {
            if !v.starts_with("container:") {
                let name = v.split(':').next().unwrap_or(v);
                deps.push((name.to_string(), false));
            }
        }
    }
    if deps.is_empty() {
        return Ok(());
    }
    let depends_on = s
        .entry("depends_on".to_string())
        .or_insert_with(|| Node::map(Mapping::new()));
    if depends_on.is_null() {
        depends_on.value = Value::Map(Mapping::new());
    }
    let dep_path = path.key("depends_on");
    let m = match depends_on.as_map_mut() {
        Some(m) => m,
        None => return Err(type_error(depends_on, &dep_path, "a mapping of services")),
    };
    for (name, restart) in deps {
        m.entry(name).or_insert_with(|| implied(restart));
    }
    Ok(())
}

fn inherit_pre_start_image(s: &mut Mapping) {
    let Some(image) = s.get("image").and_then(Node::as_str).map(str::to_string) else {
        return;
    };
    if image.is_empty() {
        return;
    }
    if let Some(hooks) = s.get_mut("pre_start").and_then(Node::as_seq_mut) {
        for hook in hooks.iter_mut().filter_map(Node::as_map_mut) {
            hook.entry("image".to_string())
                .or_insert_with(|| Node::string(image.clone()));
        }
    }
}

/// `name:` for top-level resources: the key when external, else
/// `<project>_<key>`.
fn resource_names(top: &mut Mapping, project: &str) {
    for kind in ["networks", "volumes", "configs", "secrets"] {
        let Some(section) = top.get_mut(kind).and_then(Node::as_map_mut) else {
            continue;
        };
        for (key, res) in section.iter_mut() {
            if res.is_null() {
                res.value = Value::Map(Mapping::new());
            }
            let Some(m) = res.as_map_mut() else { continue };
            if m.get("name").is_some_and(|n| !n.is_null()) {
                continue;
            }
            let external = m.get("external").is_some_and(is_true);
            let name = if external {
                key.clone()
            } else {
                format!("{project}_{key}")
            };
            m.insert("name".into(), Node::string(name));
        }
    }
}

/// Go's `strconv.ParseBool(fmt.Sprint(x))`.
fn is_true(n: &Node) -> bool {
    matches!(
        n.scalar_text().as_deref(),
        Some("1" | "t" | "T" | "true" | "TRUE" | "True")
    )
}

#[cfg(test)]
mod tests;
