//! The untyped Compose document tree the loader works on.
//!
//! Every stage before typing (interpolation, include, extends, merge, schema
//! validation, canonical transform) works on [`Node`]s rather than on the typed
//! model, as compose-go does on its `map[string]any`. Unlike a plain YAML value,
//! each node remembers where it was written ([`Span`]) and the Compose-specific
//! tags (`!reset`, `!override`), so that every later error can name the file,
//! line and column of the offending value.

use indexmap::IndexMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// Where a value was written: file, 1-based line and 1-based column.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: Arc<Path>,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// Compose's merge tags (13-merge.md): `!reset` removes the value inherited from
/// earlier files or `extends`, `!override` replaces it instead of merging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeTag {
    Reset,
    Override,
}

/// One value of the document, with where it came from.
#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    pub span: Option<Span>,
    pub tag: Option<MergeTag>,
}

/// A mapping keeps the order it was written in (YAML keys become strings).
pub type Mapping = IndexMap<String, Node>;

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    Map(Mapping),
}

impl PartialEq for Node {
    /// Equality of content only: spans and tags are ignored, so two values
    /// written in different files compare equal when they say the same thing.
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Int(a), Value::Float(b)) | (Value::Float(b), Value::Int(a)) => *a as f64 == *b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Seq(a), Value::Seq(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k) == Some(v))
            }
            _ => false,
        }
    }
}

impl Node {
    /// A node made by the loader itself (a default, a normalised form).
    pub fn new(value: Value) -> Self {
        Node {
            value,
            span: None,
            tag: None,
        }
    }

    pub fn with_span(value: Value, span: Option<Span>) -> Self {
        Node {
            value,
            span,
            tag: None,
        }
    }

    pub fn null() -> Self {
        Node::new(Value::Null)
    }

    pub fn string(s: impl Into<String>) -> Self {
        Node::new(Value::String(s.into()))
    }

    pub fn map(m: Mapping) -> Self {
        Node::new(Value::Map(m))
    }

    pub fn seq(items: Vec<Node>) -> Self {
        Node::new(Value::Seq(items))
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Mapping> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Mapping> {
        match &mut self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_seq_mut(&mut self) -> Option<&mut Vec<Node>> {
        match &mut self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value of `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map().and_then(|m| m.get(key))
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.as_map_mut().and_then(|m| m.get_mut(key))
    }

    /// A scalar written as text the way Compose reads it back: strings as is,
    /// numbers and booleans in their canonical spelling. `None` for null,
    /// sequences and mappings.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(format_float(*f)),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// A short name of the node's kind for error messages ("a string").
    pub fn kind_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The node as JSON (spans and tags dropped), for schema validation and
    /// for typing into the model with serde.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .unwrap_or(J::Null),
            Value::String(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
        }
    }

    /// A node from JSON (no spans): the inverse of [`Node::to_json`].
    pub fn from_json(value: &serde_json::Value) -> Node {
        use serde_json::Value as J;
        Node::new(match value {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(0.0)),
            },
            J::String(s) => Value::String(s.clone()),
            J::Array(a) => Value::Seq(a.iter().map(Node::from_json).collect()),
            J::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Node::from_json(v)))
                    .collect(),
            ),
        })
    }

    /// Follow a path from this node; `None` when a step is missing.
    pub fn at(&self, path: &NodePath) -> Option<&Node> {
        let mut node = self;
        for seg in &path.0 {
            node = match seg {
                Segment::Key(k) => node.get(k)?,
                Segment::Index(i) => node.as_seq()?.get(*i)?,
            };
        }
        Some(node)
    }

    /// The span of the deepest node along `path` that has one: the best place
    /// to point at when the exact value was made by the loader.
    pub fn span_at(&self, path: &NodePath) -> Option<Span> {
        let mut node = self;
        let mut best = self.span.clone();
        for seg in &path.0 {
            let next = match seg {
                Segment::Key(k) => node.get(k),
                Segment::Index(i) => node.as_seq().and_then(|s| s.get(*i)),
            };
            match next {
                Some(n) => {
                    if n.span.is_some() {
                        best = n.span.clone();
                    }
                    node = n;
                }
                None => break,
            }
        }
        best
    }
}

/// Go's and docker compose's spelling of a float: no trailing `.0` noise for
/// whole numbers beyond what is needed to stay a float.
fn format_float(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// One step of a [`NodePath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A path into the document, shown as users write it: `services.web.ports[1]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct NodePath(pub Vec<Segment>);

impl NodePath {
    pub fn root() -> Self {
        NodePath(Vec::new())
    }

    pub fn key(&self, k: impl Into<String>) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Key(k.into()));
        p
    }

    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Index(i));
        p
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The path as a pattern for rule tables: keys as written, every list
    /// index as `[]` (`services.web.ports[1]` → `services, web, ports, []`).
    pub fn pattern(&self) -> Vec<&str> {
        self.0
            .iter()
            .map(|s| match s {
                Segment::Key(k) => k.as_str(),
                Segment::Index(_) => "[]",
            })
            .collect()
    }

    /// Parse a dotted path (`services.web.ports[1]`, or a JSON pointer
    /// `/services/web/ports/1`) back into segments.
    pub fn parse(text: &str) -> Self {
        let mut segs = Vec::new();
        if let Some(pointer) = text.strip_prefix('/') {
            for part in pointer.split('/') {
                let part = part.replace("~1", "/").replace("~0", "~");
                match part.parse::<usize>() {
                    Ok(i) => segs.push(Segment::Index(i)),
                    Err(_) => segs.push(Segment::Key(part)),
                }
            }
            return NodePath(segs);
        }
        for part in text.split('.').filter(|p| !p.is_empty()) {
            let mut rest = part;
            if let Some(open) = rest.find('[') {
                segs.push(Segment::Key(rest[..open].to_string()));
                rest = &rest[open..];
                while let Some(stripped) = rest.strip_prefix('[') {
                    let close = stripped.find(']').unwrap_or(stripped.len());
                    if let Ok(i) = stripped[..close].parse() {
                        segs.push(Segment::Index(i));
                    }
                    rest = stripped.get(close + 1..).unwrap_or("");
                }
            } else {
                segs.push(Segment::Key(rest.to_string()));
            }
        }
        NodePath(segs)
    }
}

impl fmt::Display for NodePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                Segment::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Segment::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        if first {
            f.write_str("(top level)")?;
        }
        Ok(())
    }
}

/// Where an error is: the span when the YAML gives one, and the path always.
/// Displays as `compose.yaml:12:9: services.web.ports[1]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub span: Option<Span>,
    pub path: NodePath,
}

impl Location {
    pub fn new(span: Option<Span>, path: NodePath) -> Self {
        Location { span, path }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.span {
            Some(span) => write!(f, "{span}: {}", self.path),
            None => write!(f, "{}", self.path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_display_and_parse_round_trip() {
        let p = NodePath::root()
            .key("services")
            .key("web")
            .key("ports")
            .index(1);
        assert_eq!(p.to_string(), "services.web.ports[1]");
        assert_eq!(NodePath::parse("services.web.ports[1]"), p);
        assert_eq!(NodePath::parse("/services/web/ports/1"), p);
        assert_eq!(NodePath::root().to_string(), "(top level)");
    }

    #[test]
    fn json_round_trip_keeps_order_and_types() {
        let j: serde_json::Value =
            serde_json::from_str(r#"{"b":1,"a":[true,null,"x",1.5]}"#).unwrap();
        let n = Node::from_json(&j);
        assert_eq!(n.to_json(), j);
        let keys: Vec<_> = n.as_map().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["b", "a"]);
    }

    #[test]
    fn scalar_text_spells_numbers_like_compose() {
        assert_eq!(Node::new(Value::Float(2.0)).scalar_text().unwrap(), "2");
        assert_eq!(Node::new(Value::Float(0.5)).scalar_text().unwrap(), "0.5");
        assert_eq!(Node::new(Value::Bool(true)).scalar_text().unwrap(), "true");
        assert!(Node::null().scalar_text().is_none());
    }
}
