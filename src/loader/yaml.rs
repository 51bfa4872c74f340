//! YAML text to [`Node`] trees, keeping every value's position.
//!
//! Built on yaml-rust2's event parser (which reports a marker per event) rather
//! than on serde_yaml's `Value`, which forgets positions. Scalars resolve as
//! YAML 1.2's core schema does, like the yaml.v3 decoder docker compose uses:
//! `yes`/`no`/`on`/`off` stay strings here, and the few Compose fields that
//! take a boolean accept them later, with a warning. Anchors, aliases and merge
//! keys (`<<`) are expanded here; `!reset` and `!override` are kept on the node.

use super::node::{Mapping, MergeTag, Node, Span, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// How many nodes one file may expand to through aliases before it is
/// refused: a guard against "billion laughs" documents.
const MAX_NODES: usize = 1_000_000;

/// How deeply collections may nest. Real Compose files nest a dozen levels;
/// the limit keeps the recursive walks over [`Node`] (clone, drop, merge)
/// far from the stack's end.
const MAX_DEPTH: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    #[error("{span}: invalid YAML: {message}")]
    Syntax { span: Span, message: String },
    #[error("{span}: mapping key {key:?} is already defined at line {first_line}")]
    DuplicateKey {
        span: Span,
        key: String,
        first_line: usize,
    },
    #[error("{span}: {message}")]
    Structure { span: Span, message: String },
    #[error("{span}: mapping key {key} is {kind}, not a string; quote it (\"{key}\") to use it as a name")]
    NonStringKey {
        span: Span,
        key: String,
        kind: &'static str,
    },
    #[error("{span}: unknown alias: no anchor was defined before this `*` reference")]
    UnknownAlias { span: Span },
    #[error("{file}: document expands to more than {MAX_NODES} values through aliases", file = .file.display())]
    TooLarge { file: Arc<Path> },
    #[error("{span}: lists and mappings nest more than {MAX_DEPTH} levels deep here")]
    TooDeep { span: Span },
}

/// Parse every document of a YAML stream. An empty stream gives no documents.
pub fn parse_documents(text: &str, file: &Arc<Path>) -> Result<Vec<Node>, YamlError> {
    // A UTF-8 byte order mark is allowed at the start, as yaml.v3 allows it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut builder = Builder::new(file.clone());
    let mut parser = Parser::new_from_str(text);
    // Events are pulled one at a time rather than through `Parser::load`,
    // which recurses once per nesting level and so overflows the stack on a
    // deeply nested document (found by fuzzing); the builder's own stack is
    // on the heap and bounded by MAX_DEPTH.
    loop {
        let (event, mark) = parser.next_token().map_err(|e| YamlError::Syntax {
            span: builder.span(e.marker()),
            message: e.info().to_string(),
        })?;
        let end = event == Event::StreamEnd;
        builder.on_event(event, mark);
        if let Some(err) = builder.error.take() {
            return Err(err);
        }
        if end {
            return Ok(builder.docs);
        }
    }
}

/// Parse a YAML stream that must hold at most one document (the usual case
/// for `.env`-adjacent helpers and tests). Returns `Null` for an empty stream.
pub fn parse_str(text: &str, file: &Arc<Path>) -> Result<Node, YamlError> {
    let mut docs = parse_documents(text, file)?;
    Ok(if docs.is_empty() {
        Node::null()
    } else {
        docs.swap_remove(0)
    })
}

// The frames live on a stack as deep as the document's nesting, so the
// size difference between variants costs nothing worth a Box.
#[allow(clippy::large_enum_variant)]
enum Frame {
    Seq {
        items: Vec<Node>,
        /// Values in this subtree so far (aliases counted expanded).
        size: usize,
        span: Span,
        anchor: usize,
        tag: Option<MergeTag>,
    },
    Map {
        entries: Mapping,
        size: usize,
        /// Line where each key was first written, for duplicate-key errors.
        key_lines: HashMap<String, usize>,
        /// Values of `<<` merge keys, applied when the mapping closes.
        merges: Vec<(Node, Span)>,
        pending_key: Option<(Node, Span)>,
        span: Span,
        anchor: usize,
        tag: Option<MergeTag>,
    },
}

struct Builder {
    file: Arc<Path>,
    stack: Vec<Frame>,
    docs: Vec<Node>,
    anchors: HashMap<usize, (Node, usize)>,
    nodes: usize,
    error: Option<YamlError>,
}

impl Builder {
    fn new(file: Arc<Path>) -> Self {
        Builder {
            file,
            stack: Vec::new(),
            docs: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            error: None,
        }
    }

    fn span(&self, m: &Marker) -> Span {
        Span {
            file: self.file.clone(),
            line: m.line(),
            // yaml-rust2 counts columns from 0.
            column: m.col() + 1,
        }
    }

    fn handle(&mut self, ev: Event, mark: Marker) -> Result<(), YamlError> {
        let span = self.span(&mark);
        match ev {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => Ok(()),
            // Anchors do not reach across documents (YAML 1.2, 9.1).
            Event::DocumentStart => {
                self.anchors.clear();
                Ok(())
            }
            Event::Alias(id) => {
                let (node, size) = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or(YamlError::UnknownAlias { span: span.clone() })?;
                self.count(size)?;
                self.push(node, 0, size)
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1)?;
                let node = scalar(text, style, tag.as_ref(), span)?;
                self.push(node, anchor, 1)
            }
            Event::SequenceStart(anchor, tag) => {
                self.check_depth(&span)?;
                let tag = merge_tag(tag.as_ref());
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    size: 1,
                    span,
                    anchor,
                    tag,
                });
                Ok(())
            }
            Event::MappingStart(anchor, tag) => {
                self.check_depth(&span)?;
                let tag = merge_tag(tag.as_ref());
                self.stack.push(Frame::Map {
                    entries: Mapping::new(),
                    size: 1,
                    key_lines: HashMap::new(),
                    merges: Vec::new(),
                    pending_key: None,
                    span,
                    anchor,
                    tag,
                });
                Ok(())
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Seq {
                    items,
                    size,
                    span,
                    anchor,
                    tag,
                }) => {
                    self.count(1)?;
                    let node = Node {
                        value: Value::Seq(items),
                        span: Some(span),
                        tag,
                    };
                    self.push(node, anchor, size)
                }
                _ => Err(YamlError::Structure {
                    span,
                    message: "unbalanced sequence end".into(),
                }),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Map {
                    mut entries,
                    size,
                    merges,
                    span,
                    anchor,
                    tag,
                    ..
                }) => {
                    self.count(1)?;
                    apply_merge_keys(&mut entries, merges)?;
                    let node = Node {
                        value: Value::Map(entries),
                        span: Some(span),
                        tag,
                    };
                    self.push(node, anchor, size)
                }
                _ => Err(YamlError::Structure {
                    span,
                    message: "unbalanced mapping end".into(),
                }),
            },
        }
    }

    fn check_depth(&self, span: &Span) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError::TooDeep { span: span.clone() });
        }
        Ok(())
    }

    fn count(&mut self, n: usize) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            return Err(YamlError::TooLarge {
                file: self.file.clone(),
            });
        }
        Ok(())
    }

    /// Place a finished node into its parent (or as a document).
    fn push(&mut self, node: Node, anchor: usize, size: usize) -> Result<(), YamlError> {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => {
                self.docs.push(node);
                Ok(())
            }
            Some(Frame::Seq {
                items, size: total, ..
            }) => {
                *total = total.saturating_add(size);
                items.push(node);
                Ok(())
            }
            Some(Frame::Map {
                entries,
                size: total,
                key_lines,
                merges,
                pending_key,
                span: map_span,
                ..
            }) => {
                *total = total.saturating_add(size);
                let Some((key, key_span)) = pending_key.take() else {
                    let span = node.span.clone().unwrap_or_else(|| Span {
                        file: self.file.clone(),
                        line: 0,
                        column: 0,
                    });
                    // yaml-rust2 marks a block mapping at its first key's `:`;
                    // users expect the key itself, so move the span back to it.
                    if entries.is_empty()
                        && merges.is_empty()
                        && (span.line, span.column) < (map_span.line, map_span.column)
                    {
                        *map_span = span.clone();
                    }
                    *pending_key = Some((node, span));
                    return Ok(());
                };
                // yaml.v3 reads `123:` or `true:` as a number or boolean key,
                // which compose-go refuses ("non-string key"): a service named
                // 123 must be written "123".
                if matches!(key.value, Value::Int(_) | Value::Float(_) | Value::Bool(_)) {
                    return Err(YamlError::NonStringKey {
                        span: key_span,
                        key: key.scalar_text().unwrap_or_default(),
                        kind: key.kind_name(),
                    });
                }
                let key_text = match key.scalar_text() {
                    Some(k) => k,
                    None if key.is_null() => String::new(),
                    None => {
                        return Err(YamlError::Structure {
                            span: key_span,
                            message: format!(
                                "a mapping key must be a scalar, found {}",
                                key.kind_name()
                            ),
                        })
                    }
                };
                if key_text == "<<" && matches!(key.value, Value::String(_)) {
                    merges.push((node, key_span));
                    return Ok(());
                }
                if let Some(first_line) = key_lines.get(&key_text) {
                    return Err(YamlError::DuplicateKey {
                        span: key_span,
                        key: key_text,
                        first_line: *first_line,
                    });
                }
                key_lines.insert(key_text.clone(), key_span.line);
                entries.insert(key_text, node);
                Ok(())
            }
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.handle(ev, mark) {
            self.error = Some(e);
        }
    }
}

/// YAML merge keys: keys written in the mapping win over merged ones, and
/// among several merged mappings (`<<: [*a, *b]`) the first one wins.
fn apply_merge_keys(entries: &mut Mapping, merges: Vec<(Node, Span)>) -> Result<(), YamlError> {
    for (value, span) in merges {
        let sources: Vec<Node> = match value.value {
            Value::Map(_) => vec![value],
            Value::Seq(items) => items,
            _ => {
                return Err(YamlError::Structure {
                    span,
                    message: format!(
                        "merge key `<<` takes a mapping or a list of mappings, found {}",
                        value.kind_name()
                    ),
                })
            }
        };
        for source in sources {
            let Value::Map(m) = source.value else {
                return Err(YamlError::Structure {
                    span,
                    message: "merge key `<<` takes a list of mappings only".into(),
                });
            };
            for (k, v) in m {
                entries.entry(k).or_insert(v);
            }
        }
    }
    Ok(())
}

fn merge_tag(tag: Option<&Tag>) -> Option<MergeTag> {
    let tag = tag?;
    if tag.handle != "!" {
        return None;
    }
    match tag.suffix.as_str() {
        "reset" => Some(MergeTag::Reset),
        "override" => Some(MergeTag::Override),
        _ => None,
    }
}

/// Resolve a scalar as YAML 1.2's core schema does (and yaml.v3 with it).
fn scalar(
    text: String,
    style: TScalarStyle,
    tag: Option<&Tag>,
    span: Span,
) -> Result<Node, YamlError> {
    let merge = merge_tag(tag);
    let std_tag = tag.and_then(|t| {
        if t.handle == "tag:yaml.org,2002:" || t.handle == "!!" {
            Some(t.suffix.as_str())
        } else {
            None
        }
    });
    let value = match std_tag {
        Some("str") => Value::String(text),
        Some("null") => Value::Null,
        Some("bool") => match resolve_plain(&text) {
            Value::Bool(b) => Value::Bool(b),
            _ => return Err(bad_tagged(span, "bool", &text)),
        },
        Some("int") => match resolve_plain(&text) {
            Value::Int(i) => Value::Int(i),
            _ => return Err(bad_tagged(span, "int", &text)),
        },
        Some("float") => match resolve_plain(&text) {
            Value::Int(i) => Value::Float(i as f64),
            Value::Float(f) => Value::Float(f),
            _ => return Err(bad_tagged(span, "float", &text)),
        },
        _ if style != TScalarStyle::Plain => Value::String(text),
        // `!reset` with nothing after it is a null that resets.
        _ => resolve_plain(&text),
    };
    Ok(Node {
        value,
        span: Some(span),
        tag: merge,
    })
}

fn bad_tagged(span: Span, tag: &str, text: &str) -> YamlError {
    YamlError::Structure {
        span,
        message: format!("cannot read {text:?} as !!{tag}"),
    }
}

fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    if let Some(i) = parse_int(text) {
        return Value::Int(i);
    }
    if looks_like_float(text) {
        if let Ok(f) = text.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::String(text.to_string())
}

fn parse_int(text: &str) -> Option<i64> {
    let (neg, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    // yaml.v3 reads plain integers with Go's `strconv.ParseInt(s, 0, 64)`:
    // `0x` hex, `0o` or a bare leading `0` octal (file modes such as `0440`
    // are written that way), `0b` binary.
    let (radix, digits) = if let Some(h) = digits.strip_prefix("0x") {
        (16, h)
    } else if let Some(o) = digits.strip_prefix("0o") {
        (8, o)
    } else if let Some(b) = digits.strip_prefix("0b") {
        (2, b)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i64::from_str_radix(digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

/// YAML 1.2 core float: `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
fn looks_like_float(text: &str) -> bool {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => {
            (!a.is_empty() || !b.is_empty())
                && a.chars().all(|c| c.is_ascii_digit())
                && b.chars().all(|c| c.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.chars().all(|c| c.is_ascii_digit()),
    };
    let exp_ok = match exp {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
        }
    };
    mantissa_ok && exp_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        parse_str(text, &Arc::from(Path::new("compose.yaml"))).unwrap()
    }

    fn parse_err(text: &str) -> String {
        parse_str(text, &Arc::from(Path::new("compose.yaml")))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn number_and_boolean_keys_are_refused_quoted_ones_are_names() {
        assert_eq!(
            parse_err("services:\n  123:\n    image: x\n"),
            "compose.yaml:2:3: mapping key 123 is an integer, not a string; quote it (\"123\") to use it as a name"
        );
        assert!(parse_err("labels:\n  true: x\n").contains("key true is a boolean"));
        let n = parse("services:\n  '123': {image: x}\n");
        assert!(n.get("services").unwrap().get("123").is_some());
    }

    #[test]
    fn spans_are_one_based() {
        let n = parse("services:\n  web:\n    image: nginx\n");
        let image = n
            .get("services")
            .unwrap()
            .get("web")
            .unwrap()
            .get("image")
            .unwrap();
        let span = image.span.clone().unwrap();
        assert_eq!((span.line, span.column), (3, 12));
        assert_eq!(image.as_str(), Some("nginx"));
    }

    #[test]
    fn block_mappings_start_at_their_first_key() {
        let n = parse("services:\n  web:\n    image: nginx\n  db: {image: x}\n");
        let s = n.get("services").unwrap();
        let at = |n: &Node| {
            let sp = n.span.clone().unwrap();
            (sp.line, sp.column)
        };
        assert_eq!(at(&n), (1, 1));
        assert_eq!(at(s), (2, 3));
        assert_eq!(at(s.get("web").unwrap()), (3, 5));
        assert_eq!(at(s.get("db").unwrap()), (4, 7));
    }

    #[test]
    fn scalars_resolve_as_yaml_1_2_core() {
        let n = parse(
            "a: yes\nb: true\nc: 8080\nd: '8080'\ne: 1.5\nf: ~\ng: 80:80\nh: 0x10\ni: on\nj: 1e3\n",
        );
        let v = |k: &str| n.get(k).unwrap().value.clone();
        assert_eq!(v("a"), Value::String("yes".into()));
        assert_eq!(v("b"), Value::Bool(true));
        assert_eq!(v("c"), Value::Int(8080));
        assert_eq!(v("d"), Value::String("8080".into()));
        assert_eq!(v("e"), Value::Float(1.5));
        assert_eq!(v("f"), Value::Null);
        assert_eq!(v("g"), Value::String("80:80".into()));
        assert_eq!(v("h"), Value::Int(16));
        assert_eq!(v("i"), Value::String("on".into()));
        assert_eq!(v("j"), Value::Float(1000.0));
        let modes = parse("a: 0440\nb: 0o440\nc: '0440'\nd: 0b11\ne: 08\n");
        let m = |k: &str| modes.get(k).unwrap().value.clone();
        assert_eq!(m("a"), Value::Int(0o440));
        assert_eq!(m("b"), Value::Int(0o440));
        assert_eq!(m("c"), Value::String("0440".into()));
        assert_eq!(m("d"), Value::Int(3));
        assert_eq!(m("e"), Value::Float(8.0));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let n = parse(
            "x-base: &base\n  image: busybox\n  environment: {A: '1'}\nservices:\n  a:\n    <<: *base\n    image: alpine\n  b: *base\n",
        );
        let a = n.get("services").unwrap().get("a").unwrap();
        assert_eq!(a.get("image").unwrap().as_str(), Some("alpine"));
        assert_eq!(
            a.get("environment").unwrap().get("A").unwrap().as_str(),
            Some("1")
        );
        assert!(a.get("<<").is_none());
        let b = n.get("services").unwrap().get("b").unwrap();
        assert_eq!(b.get("image").unwrap().as_str(), Some("busybox"));
    }

    #[test]
    fn merge_key_list_first_wins() {
        let n = parse("a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n");
        let c = n.get("c").unwrap();
        assert_eq!(c.get("x").unwrap().value, Value::Int(1));
        assert_eq!(c.get("y").unwrap().value, Value::Int(2));
    }

    #[test]
    fn reset_and_override_tags_are_kept() {
        let n = parse("a: !reset\nb: !reset []\nc: !override {x: 1}\nd: !custom x\n");
        assert_eq!(n.get("a").unwrap().tag, Some(MergeTag::Reset));
        assert!(n.get("a").unwrap().is_null());
        assert_eq!(n.get("b").unwrap().tag, Some(MergeTag::Reset));
        assert_eq!(n.get("c").unwrap().tag, Some(MergeTag::Override));
        assert_eq!(n.get("d").unwrap().tag, None);
    }

    #[test]
    fn duplicate_keys_are_rejected_with_both_lines() {
        let e = parse_err("services:\n  a:\n    image: x\n  a:\n    image: y\n");
        assert!(e.contains("compose.yaml:4:3"), "{e}");
        assert!(e.contains("already defined at line 2"), "{e}");
    }

    #[test]
    fn syntax_errors_name_the_position() {
        let e = parse_err("services:\n  web:\n    image: [a\n");
        assert!(e.starts_with("compose.yaml:"), "{e}");
        assert!(e.contains("invalid YAML"), "{e}");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let e = parse_err(&text);
        assert!(e.contains("more than"), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let text = format!("x-a:\n  {}x\n", "- ".repeat(50_000));
        let e = parse_err(&text);
        assert!(e.contains("nest more than 256 levels"), "{e}");
        let flow = format!("a: {}{}\n", "[".repeat(300), "]".repeat(300));
        assert!(parse_str(&flow, &Arc::from(Path::new("c.yaml"))).is_err());
    }

    #[test]
    fn anchors_do_not_reach_into_the_next_document() {
        let e = parse_documents("a: &x 1\n---\nb: *x\n", &Arc::from(Path::new("f.yaml")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown alias"), "{e}");
    }

    #[test]
    fn several_documents() {
        let docs = parse_documents("a: 1\n---\nb: 2\n", &Arc::from(Path::new("f.yaml"))).unwrap();
        assert_eq!(docs.len(), 2);
        assert!(parse_documents("", &Arc::from(Path::new("f.yaml")))
            .unwrap()
            .is_empty());
    }
}
