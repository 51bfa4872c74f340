//! The variables a model refers to, for `compose config --variables`, as
//! compose-go's `template.ExtractVariables` finds them: every `$NAME` and
//! `${NAME...}` in a string value (keys are not interpolated), with the
//! default of `-`/`:-`, the alternate value of `+`/`:+`, and whether `?`/`:?`
//! makes it required; variables inside defaults and alternates count too.
//! `$$` is an escaped dollar, not a variable.

use crate::loader::node::{Node, Value};
use std::collections::BTreeMap;

/// One variable of the model.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Variable {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "DefaultValue")]
    pub default_value: String,
    #[serde(rename = "PresenceValue")]
    pub presence_value: String,
    #[serde(rename = "Required")]
    pub required: bool,
}

/// Every variable of `document`, by name. A name used more than once keeps
/// its last use in document order (compose-go keeps one of them).
pub fn of_document(document: &Node) -> BTreeMap<String, Variable> {
    let mut out = BTreeMap::new();
    walk(document, &mut out);
    out
}

fn walk(node: &Node, out: &mut BTreeMap<String, Variable>) {
    match &node.value {
        Value::String(text) => {
            for v in of_template(text) {
                out.insert(v.name.clone(), v);
            }
        }
        Value::Seq(items) => items.iter().for_each(|n| walk(n, out)),
        Value::Map(map) => map.values().for_each(|n| walk(n, out)),
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
    }
}

/// The variables of one string, in order.
pub fn of_template(text: &str) -> Vec<Variable> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'$') => i += 2,
            Some(b'{') => match closing(bytes, i + 2) {
                Some(close) => {
                    braced(&text[i + 2..close], &mut out);
                    i = close + 1;
                }
                None => i += 2,
            },
            Some(&c) if c == b'_' || c.is_ascii_alphabetic() => {
                let end = name_end(bytes, i + 1);
                out.push(plain(&text[i + 1..end]));
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}

/// `NAME`, `NAME:-default`, `NAME?err`… (the inside of `${…}`).
fn braced(inner: &str, out: &mut Vec<Variable>) {
    let end = name_end(inner.as_bytes(), 0);
    if end == 0 {
        return;
    }
    let mut v = plain(&inner[..end]);
    let rest = &inner[end..];
    let nested = if let Some(d) = rest.strip_prefix(":-").or_else(|| rest.strip_prefix('-')) {
        v.default_value = d.to_string();
        Some(d)
    } else if let Some(p) = rest.strip_prefix(":+").or_else(|| rest.strip_prefix('+')) {
        v.presence_value = p.to_string();
        Some(p)
    } else {
        v.required = rest.starts_with(":?") || rest.starts_with('?');
        None
    };
    out.push(v);
    if let Some(text) = nested {
        out.extend(of_template(text));
    }
}

fn plain(name: &str) -> Variable {
    Variable {
        name: name.to_string(),
        default_value: String::new(),
        presence_value: String::new(),
        required: false,
    }
}

fn name_end(bytes: &[u8], start: usize) -> usize {
    let mut end = start;
    while end < bytes.len() && (bytes[end] == b'_' || bytes[end].is_ascii_alphanumeric()) {
        end += 1;
    }
    end
}

/// The `}` closing a `${` whose inside starts at `from`, nested braces
/// (`${A:-${B}}`) counted.
fn closing(bytes: &[u8], from: usize) -> Option<usize> {
    let mut depth = 1;
    for (i, &b) in bytes.iter().enumerate().skip(from) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(String, String, String, bool)> {
        of_template(text)
            .into_iter()
            .map(|v| (v.name, v.default_value, v.presence_value, v.required))
            .collect()
    }

    fn v(
        name: &str,
        default: &str,
        presence: &str,
        required: bool,
    ) -> (String, String, String, bool) {
        (name.into(), default.into(), presence.into(), required)
    }

    #[test]
    fn every_form_reads_like_compose_go() {
        assert_eq!(
            names("$A ${B}"),
            [v("A", "", "", false), v("B", "", "", false)]
        );
        assert_eq!(names("${A:-1.27}"), [v("A", "1.27", "", false)]);
        assert_eq!(names("${A-x}"), [v("A", "x", "", false)]);
        assert_eq!(
            names("${A:+on}${B+y}"),
            [v("A", "", "on", false), v("B", "", "y", false)]
        );
        assert_eq!(
            names("${A:?set A}${B?}"),
            [v("A", "", "", true), v("B", "", "", true)]
        );
        assert_eq!(
            names("${A:-${B:-inner}}:80"),
            [v("A", "${B:-inner}", "", false), v("B", "inner", "", false)]
        );
        assert!(names("$$A ${ broken $").is_empty());
    }

    #[test]
    fn a_document_is_walked_values_only() {
        let yaml = "services:\n  web:\n    image: \"nginx:${TAG:-1.27}\"\n    environment:\n      $KEY: \"${DB:?db please}\"\n    ports: [\"${PORT}:80\"]\n";
        let file: std::sync::Arc<std::path::Path> = std::path::Path::new("compose.yaml").into();
        let doc = crate::loader::yaml::parse_str(yaml, &file).unwrap();
        let vars = of_document(&doc);
        let keys: Vec<&str> = vars.keys().map(String::as_str).collect();
        assert_eq!(keys, ["DB", "PORT", "TAG"]);
        assert!(vars["DB"].required);
        assert_eq!(vars["TAG"].default_value, "1.27");
    }
}
