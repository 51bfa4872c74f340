//! A service's `volumes` short syntax (`[SOURCE:]TARGET[:OPTIONS]`) to the
//! long form, as compose-go's `format.ParseVolume`: the type is `bind` when
//! the source looks like a path (`.`, `/`, `~`, a Windows drive or pipe),
//! else `volume`; options `ro`/`rw`, `nocopy`, SELinux `z`/`Z` and bind
//! propagations are understood. Long-form binds get
//! `create_host_path: true` by default.

use super::{located, set_default, type_error, CanonicalError};
use crate::loader::node::{Mapping, Node, NodePath, Span, Value};

/// A parsed short volume spec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeSpec {
    pub kind: &'static str,
    pub source: String,
    pub target: String,
    pub read_only: bool,
    /// `Some` for a bind: (selinux, propagation).
    pub bind: Option<(String, String)>,
    /// `Some(nocopy)` for a volume.
    pub volume: Option<bool>,
}

const PROPAGATIONS: &[&str] = &[
    "rprivate", "private", "rshared", "shared", "rslave", "slave",
];

/// Rewrite one entry of a service's `volumes` in place.
pub fn transform(item: &mut Node, path: &NodePath) -> Result<(), CanonicalError> {
    match &item.value {
        Value::Map(_) => {
            if let Some(bind) = item.get_mut("bind").and_then(Node::as_map_mut) {
                set_default(bind, "create_host_path", Node::new(Value::Bool(true)));
            }
            Ok(())
        }
        Value::String(spec) => {
            let parsed = parse(spec).map_err(|reason| CanonicalError::Volume {
                location: located(item, path),
                spec: spec.clone(),
                reason,
            })?;
            *item = to_node(&parsed, item.span.clone());
            Ok(())
        }
        _ => Err(type_error(item, path, "a volume (string or mapping)")),
    }
}

fn to_node(v: &VolumeSpec, span: Option<Span>) -> Node {
    let s = |t: &str| Node::with_span(Value::String(t.to_string()), span.clone());
    let b = |x: bool| Node::with_span(Value::Bool(x), span.clone());
    let mut m = Mapping::new();
    m.insert("type".into(), s(v.kind));
    if !v.source.is_empty() {
        m.insert("source".into(), s(&v.source));
    }
    m.insert("target".into(), s(&v.target));
    if v.read_only {
        m.insert("read_only".into(), b(true));
    }
    if let Some((selinux, propagation)) = &v.bind {
        let mut bind = Mapping::new();
        if !selinux.is_empty() {
            bind.insert("selinux".into(), s(selinux));
        }
        if !propagation.is_empty() {
            bind.insert("propagation".into(), s(propagation));
        }
        // docker-compose v1 created missing host paths for the short syntax.
        bind.insert("create_host_path".into(), b(true));
        m.insert(
            "bind".into(),
            Node::with_span(Value::Map(bind), span.clone()),
        );
    }
    if let Some(nocopy) = v.volume {
        let mut vol = Mapping::new();
        if nocopy {
            vol.insert("nocopy".into(), b(true));
        }
        m.insert(
            "volume".into(),
            Node::with_span(Value::Map(vol), span.clone()),
        );
    }
    Node::with_span(Value::Map(m), span)
}

/// Parse a short volume spec.
pub fn parse(spec: &str) -> Result<VolumeSpec, &'static str> {
    let mut v = VolumeSpec::default();
    match spec.chars().count() {
        0 => return Err("empty volume spec"),
        1 | 2 => {
            v.kind = "volume";
            v.target = spec.to_string();
            return Ok(v);
        }
        _ => {}
    }
    let mut sections: Vec<String> = Vec::new();
    let mut buf = String::new();
    let mut depth = 0usize; // inside `${...}`, colons are not separators
    let chars: Vec<char> = spec.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == '$' && chars.get(i + 1) == Some(&'{') {
            depth += 1;
            buf.push(c);
        } else if c == '}' && depth > 0 {
            depth -= 1;
            buf.push(c);
        } else if c == ':' && is_windows_drive(&buf) {
            buf.push(c);
        } else if c == ':' && depth == 0 {
            sections.push(std::mem::take(&mut buf));
        } else {
            buf.push(c);
        }
    }
    sections.push(buf);
    if sections.iter().any(String::is_empty) {
        return Err("empty section between colons");
    }
    match sections.len() {
        1 => v.target = sections.remove(0),
        2 => {
            v.source = sections.remove(0);
            v.target = sections.remove(0);
        }
        3 => {
            v.source = sections.remove(0);
            v.target = sections.remove(0);
            apply_options(&mut v, &sections[0]);
        }
        _ => return Err("too many colons"),
    }
    v.target = clean_path(&v.target);
    if is_file_path(&v.source) {
        v.kind = "bind";
        v.bind.get_or_insert_with(Default::default);
        v.volume = None;
    } else {
        v.kind = "volume";
        v.volume.get_or_insert(false);
    }
    Ok(v)
}

fn apply_options(v: &mut VolumeSpec, options: &str) {
    for option in options.split(',') {
        match option {
            "ro" => v.read_only = true,
            "rw" => v.read_only = false,
            "nocopy" => v.volume = Some(true),
            "z" | "Z" => v.bind.get_or_insert_with(Default::default).0 = option.to_string(),
            p if PROPAGATIONS.contains(&p) => {
                v.bind.get_or_insert_with(Default::default).1 = p.to_string()
            }
            // compose-go ignores options it does not know.
            _ => {}
        }
    }
}

fn is_windows_drive(buf: &str) -> bool {
    let mut it = buf.chars();
    matches!((it.next(), it.next()), (Some(c), None) if c.is_alphabetic())
}

fn is_file_path(source: &str) -> bool {
    match source.chars().next() {
        None => false,
        Some('.' | '/' | '~') => true,
        _ if source.starts_with("\\\\") => true,
        Some(c) => {
            let rest = &source[c.len_utf8()..];
            c.is_alphabetic() && rest.starts_with(':')
        }
    }
}

/// Go's `path.Clean` (slash-separated).
pub fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return String::new();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            x => out.push(x),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_types_and_options() {
        let v = parse("./data:/data:ro,z").unwrap();
        assert_eq!(
            (v.kind, v.source.as_str(), v.target.as_str()),
            ("bind", "./data", "/data")
        );
        assert!(v.read_only);
        assert_eq!(v.bind, Some(("z".into(), String::new())));
        let v = parse("db:/var/lib/db:nocopy").unwrap();
        assert_eq!((v.kind, v.volume), ("volume", Some(true)));
        let v = parse("/anon/").unwrap();
        assert_eq!(
            (v.kind, v.target.as_str(), v.source.as_str()),
            ("volume", "/anon", "")
        );
        let v = parse("C:\\data:/data").unwrap();
        assert_eq!((v.kind, v.source.as_str()), ("bind", "C:\\data"));
        let v = parse("${HOME}/x:/x").unwrap();
        assert_eq!(v.source, "${HOME}/x");
    }

    #[test]
    fn rejects_malformed_specs() {
        assert_eq!(parse("/a::/b"), Err("empty section between colons"));
        assert_eq!(parse("/a:/b:ro:x"), Err("too many colons"));
        assert_eq!(parse(""), Err("empty volume spec"));
    }

    #[test]
    fn cleans_paths_like_go() {
        assert_eq!(clean_path("/a/b/../c/"), "/a/c");
        assert_eq!(clean_path("a/./b"), "a/b");
        assert_eq!(clean_path("/.."), "/");
    }
}
