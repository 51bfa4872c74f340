//! Validation against the Compose Specification's JSON schema, shipped in the
//! crate as data (`schema/compose-spec.json`, the copy compose-go embeds and
//! docker compose v2 validates with), with every violation mapped back to
//! the file, line and column of the offending value.
//!
//! The validator reports every failed keyword; like compose-go
//! (schema/schema.go `getMostSpecificError`) we reduce `oneOf`/`anyOf`
//! failures to the branch that fits the value's kind, and rank the deepest
//! problem first, so `environment: {FOO: [1]}` is reported at
//! `environment.FOO`, not as "matches none of the forms of environment".

mod problem;

pub use problem::Problem;

use super::node::{Location, Node, NodePath, Segment};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value as Json;
use std::fmt;
use std::sync::OnceLock;

/// The Compose Specification schema, as compose-go ships it.
const SCHEMA_TEXT: &str = include_str!("schema/compose-spec.json");

/// One problem at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub location: Location,
    pub problem: Problem,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.problem)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The document breaks the schema; the most specific problem first.
    #[error("{}", list(.violations))]
    Invalid { violations: Vec<Violation> },
}

impl SchemaError {
    pub fn violations(&self) -> &[Violation] {
        match self {
            SchemaError::Invalid { violations } => violations,
        }
    }
}

fn list(violations: &[Violation]) -> String {
    let lines: Vec<String> = violations.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

/// Check a (merged, interpolated) document against the Compose schema.
pub fn validate(doc: &Node) -> Result<(), SchemaError> {
    let violations = violations(doc);
    if violations.is_empty() {
        Ok(())
    } else {
        Err(SchemaError::Invalid { violations })
    }
}

/// Every schema violation of `doc`, most specific first, then in file order.
pub fn violations(doc: &Node) -> Vec<Violation> {
    let instance = doc.to_json();
    // The usual case, a valid document, takes the validator's short-circuit
    // path; errors are only collected (and explained) when there are some.
    if validator().is_valid(&instance) {
        return Vec::new();
    }
    let mut found = Vec::new();
    for err in validator().iter_errors(&instance) {
        explain(&err, doc, &mut found);
    }
    let mut out: Vec<(usize, Violation)> = Vec::new();
    for raw in found {
        let violation = Violation {
            location: Location::new(doc.span_at(&raw.path), raw.path),
            problem: raw.problem,
        };
        if !out.iter().any(|(_, v)| *v == violation) {
            out.push((raw.rank, violation));
        }
    }
    out.sort_by(|(ra, a), (rb, b)| {
        rb.cmp(ra)
            .then_with(|| position(a).cmp(&position(b)))
            .then_with(|| {
                a.location
                    .path
                    .to_string()
                    .cmp(&b.location.path.to_string())
            })
    });
    out.into_iter().map(|(_, v)| v).collect()
}

fn position(v: &Violation) -> (usize, usize) {
    v.location
        .span
        .as_ref()
        .map_or((usize::MAX, usize::MAX), |s| (s.line, s.column))
}

fn schema_json() -> &'static Json {
    static SCHEMA: OnceLock<Json> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        // The schema is data compiled into the binary and checked by a unit
        // test: failing to read it is a build defect, not a user error.
        serde_json::from_str(SCHEMA_TEXT).expect("the shipped compose-spec.json is valid JSON")
    })
}

/// The compiled schema, built once per process (compiling costs far more
/// than validating; compose-go caches it the same way).
fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::validator_for(schema_json())
            .expect("the shipped compose-spec.json is a valid JSON schema")
    })
}

/// A problem before it gets its span, with its rank (deeper is better).
struct Raw {
    path: NodePath,
    problem: Problem,
    rank: usize,
}

impl Raw {
    fn new(path: NodePath, problem: Problem) -> Self {
        let rank = path.0.len() + problem.specificity_bonus();
        Raw {
            path,
            problem,
            rank,
        }
    }
}

/// Turn one validator error into our problems (several for a list of
/// unknown keys, the chosen branch's for a `oneOf`).
fn explain(err: &ValidationError<'_>, doc: &Node, out: &mut Vec<Raw>) {
    let path = node_path(doc, err.instance_path().as_str());
    let problem = match err.kind() {
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            return explain_alternatives(err, context, doc, out);
        }
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            for name in unexpected {
                let problem = unknown_property(err.schema_path().as_str(), name);
                out.push(Raw::new(path.key(name.clone()), problem));
            }
            return;
        }
        ValidationErrorKind::Type { kind } => Problem::WrongType {
            expected: expected_types(kind),
            found: found_kind(doc, &path, err.instance()),
        },
        other => simple_problem(other, err),
    };
    out.push(Raw::new(path, problem));
}

/// The problems that need nothing but the error kind itself.
fn simple_problem(kind: &ValidationErrorKind, err: &ValidationError<'_>) -> Problem {
    match kind {
        ValidationErrorKind::Enum { options } => Problem::NotOneOf {
            allowed: match options.as_ref() {
                Json::Array(items) => items.iter().map(json_text).collect(),
                other => vec![json_text(other)],
            },
        },
        ValidationErrorKind::Constant { expected_value } => Problem::NotConstant {
            expected: json_text(expected_value),
        },
        ValidationErrorKind::Pattern { pattern } => Problem::Pattern {
            pattern: pattern.clone(),
        },
        ValidationErrorKind::Required { property } => Problem::Required {
            property: json_text(property),
        },
        ValidationErrorKind::Minimum { limit } => Problem::TooSmall {
            limit: json_text(limit),
            exclusive: false,
        },
        ValidationErrorKind::ExclusiveMinimum { limit } => Problem::TooSmall {
            limit: json_text(limit),
            exclusive: true,
        },
        ValidationErrorKind::Maximum { limit } => Problem::TooLarge {
            limit: json_text(limit),
            exclusive: false,
        },
        ValidationErrorKind::ExclusiveMaximum { limit } => Problem::TooLarge {
            limit: json_text(limit),
            exclusive: true,
        },
        ValidationErrorKind::MinItems { limit } => Problem::TooFewItems { limit: *limit },
        ValidationErrorKind::MaxItems { limit } => Problem::TooManyItems { limit: *limit },
        ValidationErrorKind::MinProperties { limit } => Problem::TooFewProperties { limit: *limit },
        ValidationErrorKind::UniqueItems => Problem::DuplicateItems,
        ValidationErrorKind::OneOfMultipleValid { .. } => Problem::Ambiguous,
        ValidationErrorKind::FalseSchema | ValidationErrorKind::Not { .. } => Problem::Forbidden,
        _ => Problem::Constraint {
            keyword: keyword_of(kind),
            detail: err.masked_with("the value").to_string(),
        },
    }
}

/// The keyword of a kind, as a `'static` name for [`Problem::Constraint`].
fn keyword_of(kind: &ValidationErrorKind) -> &'static str {
    match kind {
        ValidationErrorKind::MaxLength { .. } => "maxLength",
        ValidationErrorKind::MinLength { .. } => "minLength",
        ValidationErrorKind::MaxProperties { .. } => "maxProperties",
        ValidationErrorKind::MultipleOf { .. } => "multipleOf",
        ValidationErrorKind::Format { .. } => "format",
        ValidationErrorKind::Contains => "contains",
        ValidationErrorKind::PropertyNames { .. } => "propertyNames",
        ValidationErrorKind::AdditionalItems { .. } => "additionalItems",
        ValidationErrorKind::UnevaluatedItems { .. } => "unevaluatedItems",
        _ => "schema",
    }
}

/// A `oneOf`/`anyOf` failed: report the branch that fits the value's kind,
/// or, when no branch does, the list of kinds the value may have.
fn explain_alternatives(
    err: &ValidationError<'_>,
    branches: &[Vec<ValidationError<'static>>],
    doc: &Node,
    out: &mut Vec<Raw>,
) {
    let here = err.instance_path().as_str();
    let mut expected: Vec<&'static str> = Vec::new();
    let mut best: Option<Vec<Raw>> = None;
    for branch in branches {
        if let Some(types) = branch.iter().find_map(|e| kind_mismatch(e, here)) {
            push_unique(&mut expected, types);
            continue;
        }
        let mut raws = Vec::new();
        for e in branch {
            explain(e, doc, &mut raws);
        }
        let rank = raws.iter().map(|r| r.rank).max().unwrap_or(0);
        let best_rank = best
            .as_ref()
            .and_then(|b| b.iter().map(|r| r.rank).max())
            .unwrap_or(0);
        if best.is_none() || rank > best_rank {
            best = Some(raws);
        }
    }
    match best {
        Some(raws) if !raws.is_empty() => out.extend(raws),
        _ => {
            let path = node_path(doc, here);
            let found = found_kind(doc, &path, err.instance());
            out.push(Raw::new(path, Problem::WrongType { expected, found }));
        }
    }
}

/// When `err` says the value at `here` has the wrong kind for this branch
/// (directly, or because every branch of a nested `oneOf` says so): the
/// kinds the branch accepts.
fn kind_mismatch(err: &ValidationError<'_>, here: &str) -> Option<Vec<&'static str>> {
    if err.instance_path().as_str() != here {
        return None;
    }
    match err.kind() {
        ValidationErrorKind::Type { kind } => Some(expected_types(kind)),
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            let mut all = Vec::new();
            for branch in context {
                let types = branch.iter().find_map(|e| kind_mismatch(e, here))?;
                push_unique(&mut all, types);
            }
            Some(all)
        }
        _ => None,
    }
}

fn push_unique(into: &mut Vec<&'static str>, items: Vec<&'static str>) {
    for item in items {
        if !into.contains(&item) {
            into.push(item);
        }
    }
    // "a number" already admits integers.
    if into.contains(&"a number") {
        into.retain(|t| *t != "an integer");
    }
}

fn expected_types(kind: &TypeKind) -> Vec<&'static str> {
    let mut out = Vec::new();
    match kind {
        TypeKind::Single(t) => push_unique(&mut out, vec![problem::type_name(t.as_str())]),
        TypeKind::Multiple(set) => {
            let names = set.iter().map(|t| problem::type_name(t.as_str())).collect();
            push_unique(&mut out, names);
        }
    }
    out
}

/// The kind of the offending value, from the document when the path
/// resolves (it always should), else from the validator's copy.
fn found_kind(doc: &Node, path: &NodePath, instance: &Json) -> &'static str {
    if let Some(node) = doc.at(path) {
        return node.kind_name();
    }
    match instance {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a mapping",
    }
}

/// An unknown key, with the closest key the schema allows at that place.
/// `schema_path` points at the `additionalProperties` keyword; its parent is
/// the object schema whose `properties` list the valid keys.
fn unknown_property(schema_path: &str, name: &str) -> Problem {
    let parent = schema_path
        .rsplit_once('/')
        .map_or("", |(parent, _keyword)| parent);
    let object = schema_json().pointer(parent);
    let keys = object
        .and_then(|o| o.get("properties"))
        .and_then(Json::as_object);
    let suggestion = keys.and_then(|k| problem::closest(name, k.keys().map(String::as_str)));
    let name_pattern = object
        .and_then(|o| o.get("patternProperties"))
        .and_then(Json::as_object)
        .and_then(|p| p.keys().find(|k| !k.starts_with("^x-")).cloned());
    Problem::UnknownProperty {
        name: name.to_string(),
        suggestion,
        name_pattern,
    }
}

/// A JSON pointer into the instance as a [`NodePath`], resolved against the
/// document so that a numeric mapping key (`"80": ...`) stays a key.
fn node_path(doc: &Node, pointer: &str) -> NodePath {
    let mut path = NodePath::root();
    let mut node = Some(doc);
    for raw in pointer.split('/').skip(1) {
        let part = raw.replace("~1", "/").replace("~0", "~");
        let index = node
            .and_then(Node::as_seq)
            .and_then(|_| part.parse::<usize>().ok());
        match index {
            Some(i) => {
                node = node.and_then(|n| n.as_seq()).and_then(|s| s.get(i));
                path.0.push(Segment::Index(i));
            }
            None => {
                node = node.and_then(|n| n.get(&part));
                path.0.push(Segment::Key(part));
            }
        }
    }
    path
}

/// A JSON value as users would write it in an error message.
fn json_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
pub(crate) mod tests;
