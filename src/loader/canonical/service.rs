//! Long forms and defaults inside one service (compose-go's transformers on
//! `services.*.…` and its `DefaultValues`), plus the list-to-map conversions
//! its decoders do (`environment`, `labels`, `sysctls`, ...).

use super::{located, map_node, ports, set_default, text, type_error, volumes, CanonicalError};
use crate::loader::node::{Mapping, Node, NodePath, Value};

/// Rewrite one service in place. When `lenient`, a short syntax that cannot
/// be parsed (often because it is not interpolated yet) is left as written,
/// as compose-go does for `config --no-interpolate`.
pub fn transform(svc: &mut Node, path: &NodePath, lenient: bool) -> Result<(), CanonicalError> {
    let Some(m) = svc.as_map_mut() else {
        return Ok(());
    };
    for (key, value) in m.iter_mut() {
        let p = path.key(key);
        match key.as_str() {
            "build" => build(value, &p)?,
            "depends_on" => depends_on(value, &p)?,
            "env_file" => env_file(value, &p)?,
            "extends" => wrap_string(value, "service"),
            "gpus" => gpus(value, &p)?,
            "networks" | "models" => list_to_null_map(value, &p)?,
            "ports" => keep_if_unparsable(lenient, value, |v| ports::transform(v, &p))?,
            "volumes" => each(value, &p, |v, p| {
                keep_if_unparsable(lenient, v, |v| volumes::transform(v, p))?;
                volume_labels(v, p)
            })?,
            "devices" => each(value, &p, |v, p| {
                keep_if_unparsable(lenient, v, |v| device(v, p))
            })?,
            "secrets" => each(value, &p, |n, p| file_mount(n, p, true))?,
            "configs" => each(value, &p, |n, p| file_mount(n, p, false))?,
            // The list-to-map conversions are compose-go's decoders, not its
            // transformers: its raw model (`config --no-interpolate`) keeps
            // these lists as written.
            "environment" if !lenient => equals_map(value, &p, EqualsMissing::Null)?,
            "labels" | "annotations" | "sysctls" if !lenient => {
                equals_map(value, &p, EqualsMissing::Empty)?
            }
            "dns" | "dns_search" | "tmpfs" | "label_file" => string_to_list(value),
            "deploy" => deploy(value, &p)?,
            "develop" => develop(value, &p)?,
            "pre_start" | "post_start" | "pre_stop" => each(value, &p, hook)?,
            _ => {}
        }
    }
    Ok(())
}

/// Run a parsing transform; when `lenient` and the text cannot be parsed,
/// restore the value as it was written.
fn keep_if_unparsable(
    lenient: bool,
    node: &mut Node,
    f: impl FnOnce(&mut Node) -> Result<(), CanonicalError>,
) -> Result<(), CanonicalError> {
    if !lenient {
        return f(node);
    }
    let before = node.clone();
    match f(node) {
        Err(
            CanonicalError::Port { .. }
            | CanonicalError::Volume { .. }
            | CanonicalError::Device { .. },
        ) => {
            *node = before;
            Ok(())
        }
        other => other,
    }
}

/// Apply `f` to each item of a list.
fn each(
    node: &mut Node,
    path: &NodePath,
    mut f: impl FnMut(&mut Node, &NodePath) -> Result<(), CanonicalError>,
) -> Result<(), CanonicalError> {
    if let Some(items) = node.as_seq_mut() {
        for (i, item) in items.iter_mut().enumerate() {
            f(item, &path.index(i))?;
        }
    }
    Ok(())
}

/// A string becomes `{key: string}` (`build`, `extends`).
fn wrap_string(node: &mut Node, key: &str) {
    if let Value::String(_) = node.value {
        let span = node.span.clone();
        let inner = std::mem::replace(node, Node::null());
        *node = map_node([(key, inner)], span);
    }
}

/// A single string becomes a list of one.
fn string_to_list(node: &mut Node) {
    if let Value::String(_) = node.value {
        let span = node.span.clone();
        let inner = std::mem::replace(node, Node::null());
        *node = Node::with_span(Value::Seq(vec![inner]), span);
    }
}

fn build(node: &mut Node, path: &NodePath) -> Result<(), CanonicalError> {
    wrap_string(node, "context");
    let Some(m) = node.as_map_mut() else {
        return Err(type_error(node, path, "a build context path or a mapping"));
    };
    // No `context: .` default here: compose-go sets it once every file and
    // `extends` is merged (`SetDefaultValues`), or an extending service's
    // `build: {target: x}` would override the context it inherits.
    for (key, value) in m.iter_mut() {
        let p = path.key(key);
        match key.as_str() {
            "args" => equals_map(value, &p, EqualsMissing::Null)?,
            "labels" => equals_map(value, &p, EqualsMissing::Empty)?,
            "additional_contexts" => strict_key_values(value, &p)?,
            "ssh" => ssh(value, &p)?,
            "secrets" => each(value, &p, |n, p| file_mount(n, p, false))?,
            "provenance" | "sbom" => {
                if let (Some(t), false) = (text(value), matches!(value.value, Value::String(_))) {
                    value.value = Value::String(t);
                }
            }
            "cache_from" | "cache_to" | "no_cache_filter" | "tags" | "platforms" => {
                string_to_list(value)
            }
            _ => {}
        }
    }
    Ok(())
}

/// `depends_on`: a list means `condition: service_started, required: true`.
fn depends_on(node: &mut Node, path: &NodePath) -> Result<(), CanonicalError> {
    if let Some(items) = node.as_seq() {
        let mut m = Mapping::new();
        for (i, item) in items.iter().enumerate() {
            let Some(name) = item.as_str() else {
                return Err(type_error(item, &path.index(i), "a service name"));
            };
            m.insert(
                name.to_string(),
                Node::with_span(Value::Map(Mapping::new()), item.span.clone()),
            );
        }
        node.value = Value::Map(m);
    }
    let Some(m) = node.as_map_mut() else {
        return Err(type_error(node, path, "a list of services or a mapping"));
    };
    for (name, dep) in m.iter_mut() {
        if dep.is_null() {
            dep.value = Value::Map(Mapping::new());
        }
        let Some(d) = dep.as_map_mut() else {
            return Err(type_error(
                dep,
                &path.key(name),
                "a mapping (condition, required, restart)",
            ));
        };
        set_default(d, "condition", Node::string("service_started"));
        set_default(d, "required", Node::new(Value::Bool(true)));
    }
    Ok(())
}

/// `env_file`: each entry becomes `{path, required: true}`.
fn env_file(node: &mut Node, path: &NodePath) -> Result<(), CanonicalError> {
    string_to_list(node);
    let Some(items) = node.as_seq_mut() else {
        return Err(type_error(node, path, "a file path or a list"));
    };
    for (i, item) in items.iter_mut().enumerate() {
        wrap_string(item, "path");
        let Some(m) = item.as_map_mut() else {
            return Err(type_error(item, &path.index(i), "a file path or a mapping"));
        };
        set_default(m, "required", Node::new(Value::Bool(true)));
    }
    Ok(())
}

/// `gpus: all` means one request for every GPU.
fn gpus(node: &mut Node, path: &NodePath) -> Result<(), CanonicalError> {
    if let Value::String(_) = node.value {
        let span = node.span.clone();
        let all = map_node([("count", Node::string("all"))], span.clone());
        *node = Node::with_span(Value::Seq(vec![all]), span);
    }
    each(node, path, device_request)
}

/// A device request without `count` or `device_ids` asks for all devices.
fn device_request(node: &mut Node, path: &NodePath) -> Result<(), CanonicalError> {
    let Some(m) = node.as_map_mut() else {
        return Err(type_error(node, path, "a device request mapping"));
    };
    if !m.contains_key("count") && !m.contains_key("device_ids") {
        m.insert("count".into(), Node::string("all"));
    }
    if let Some(caps) = m.get_mut("capabilities") {
        string_to_list(caps);
    }
    // `options` is a compose-go `Mapping`: a `k=v` list reads as a mapping.
    if let Some(options) = m.get_mut("options") {
        equals_map(options, &path.key("options"), EqualsMissing::Empty)?;
    }
    Ok(())
}

/// `volume.labels` of a long-syntax volume, a list or a mapping.
fn volume_labels(item: &mut Node, path: &NodePath) -> Result<(), CanonicalError> {
    if let Some(labels) = item.get_mut("volume").and_then(|v| v.get_mut("labels")) {
        equals_map(
            labels,
            &path.key("volume").key("labels"),
            EqualsMissing::Empty,
        )?;
    }
    Ok(())
}

/// `networks`/`models` lists become mappings with null values.
fn list_to_null_map(node: &mut Node, path: &NodePath) -> Result<(), CanonicalError> {
    if let Some(items) = node.as_seq() {
        let mut m = Mapping::new();
        for (i, item) in items.iter().enumerate() {
            let Some(name) = text(item) else {
                return Err(type_error(item, &path.index(i), "a name"));
            };
            m.insert(name, Node::with_span(Value::Null, item.span.clone()));
        }
        node.value = Value::Map(m);
    }
    Ok(())
}

/// `devices` short syntax `SOURCE[:TARGET[:PERMISSIONS]]`.
fn device(node: &mut Node, path: &NodePath) -> Result<(), CanonicalError> {
    let Value::String(spec) = &node.value else {
        return Ok(());
    };
    let parts: Vec<&str> = spec.split(':').collect();
    let (src, dst, perms) = match parts.as_slice() {
        [s] => (*s, *s, "rwm"),
        [s, d] => (*s, *d, "rwm"),
        [s, d, p] => (*s, *d, *p),
        _ => {
            return Err(CanonicalError::Device {
                location: located(node, path),
                spec: spec.clone(),
            })
        }
    };
    let dst = if dst.is_empty() { src } else { dst };
    let span = node.span.clone();
    let s = |t: &str| Node::with_span(Value::String(t.to_string()), span.clone());
    *node = map_node(
        [
            ("source", s(src)),
            ("target", s(dst)),
            ("permissions", s(perms)),
        ],
        span.clone(),
    );
    Ok(())
}

/// A service's `secrets`/`configs` entry: a name means `{source: name}`;
/// secrets are mounted under `/run/secrets/` by default.
fn file_mount(node: &mut Node, path: &NodePath, secret: bool) -> Result<(), CanonicalError> {
    wrap_string(node, "source");
    let Some(m) = node.as_map_mut() else {
        return Err(type_error(node, path, "a name or a mapping"));
    };
    if secret && !m.contains_key("target") {
        let source = m.get("source").and_then(text).unwrap_or_default();
        m.insert(
            "target".into(),
            Node::string(format!("/run/secrets/{source}")),
        );
    }
    Ok(())
}

/// What a list item without `=` means.
#[derive(Clone, Copy)]
enum EqualsMissing {
    /// `environment`, `args`: the variable is taken from the environment.
    Null,
    /// `labels`: an empty value.
    Empty,
}

/// A `KEY=VALUE` list becomes a mapping (compose-go's `MappingWithEquals`
/// and `Labels` decoders); mapping values are kept.
fn equals_map(
    node: &mut Node,
    path: &NodePath,
    missing: EqualsMissing,
) -> Result<(), CanonicalError> {
    let Some(items) = node.as_seq() else {
        return Ok(());
    };
    let mut m = Mapping::new();
    for (i, item) in items.iter().enumerate() {
        let Some(entry) = text(item) else {
            return Err(type_error(item, &path.index(i), "a KEY=VALUE string"));
        };
        let (key, value) = match entry.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (entry.clone(), None),
        };
        if matches!(missing, EqualsMissing::Null) && key.ends_with(char::is_whitespace) {
            return Err(CanonicalError::TrailingSpace {
                location: located(item, &path.index(i)),
                key: key.trim_end().to_string(),
            });
        }
        let value = match (value, missing) {
            (Some(v), _) => Value::String(v),
            (None, EqualsMissing::Null) => Value::Null,
            (None, EqualsMissing::Empty) => Value::String(String::new()),
        };
        m.insert(key, Node::with_span(value, item.span.clone()));
    }
    node.value = Value::Map(m);
    Ok(())
}

/// `additional_contexts` list: every item must be `KEY=VALUE`.
fn strict_key_values(node: &mut Node, path: &NodePath) -> Result<(), CanonicalError> {
    let Some(items) = node.as_seq() else {
        return Ok(());
    };
    let mut m = Mapping::new();
    for (i, item) in items.iter().enumerate() {
        let entry = text(item).unwrap_or_default();
        let Some((k, v)) = entry.split_once('=') else {
            return Err(CanonicalError::KeyValue {
                location: located(item, &path.index(i)),
                entry,
            });
        };
        m.insert(
            k.to_string(),
            Node::with_span(Value::String(v.to_string()), item.span.clone()),
        );
    }
    node.value = Value::Map(m);
    Ok(())
}

/// `build.ssh` list: `default` or `ID=PATH` items become a mapping.
fn ssh(node: &mut Node, path: &NodePath) -> Result<(), CanonicalError> {
    string_to_list(node);
    let Some(items) = node.as_seq() else {
        return Ok(());
    };
    let mut m = Mapping::new();
    for (i, item) in items.iter().enumerate() {
        let entry = text(item).unwrap_or_default();
        match entry.split_once('=') {
            Some((id, p)) => {
                m.insert(
                    id.to_string(),
                    Node::with_span(Value::String(p.to_string()), item.span.clone()),
                );
            }
            None if entry == "default" => {
                m.insert(entry, Node::with_span(Value::Null, item.span.clone()));
            }
            None => {
                return Err(CanonicalError::SshKey {
                    location: located(item, &path.index(i)),
                    entry,
                })
            }
        }
    }
    node.value = Value::Map(m);
    Ok(())
}

fn deploy(node: &mut Node, path: &NodePath) -> Result<(), CanonicalError> {
    if let Some(labels) = node.get_mut("labels") {
        equals_map(labels, &path.key("labels"), EqualsMissing::Empty)?;
    }
    let devices_path = path.key("resources").key("reservations").key("devices");
    if let Some(devices) = node
        .get_mut("resources")
        .and_then(|r| r.get_mut("reservations"))
        .and_then(|r| r.get_mut("devices"))
    {
        each(devices, &devices_path, device_request)?;
    }
    Ok(())
}

fn develop(node: &mut Node, path: &NodePath) -> Result<(), CanonicalError> {
    let watch_path = path.key("watch");
    if let Some(watch) = node.get_mut("watch") {
        each(watch, &watch_path, |rule, p| {
            for key in ["ignore", "include"] {
                if let Some(v) = rule.get_mut(key) {
                    string_to_list(v);
                }
            }
            if let Some(exec) = rule.get_mut("exec") {
                hook(exec, &p.key("exec"))?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

fn hook(node: &mut Node, path: &NodePath) -> Result<(), CanonicalError> {
    if let Some(env) = node.get_mut("environment") {
        equals_map(env, &path.key("environment"), EqualsMissing::Null)?;
    }
    Ok(())
}
