//! Semantic checks the schema cannot express, on the canonical document:
//! references to undefined networks, volumes, secrets, configs, models and
//! services; self-dependencies and dependency cycles; duplicate or
//! replicated `container_name`; port ranges and host IPs; and the other
//! consistency rules of compose-go (loader/validate.go `checkConsistency`,
//! validation/*.go).
//!
//! Unlike compose-go, which stops at the first problem, every problem is
//! collected and reported together, sorted by position.

mod issue;
mod ports;
mod references;
mod resources;
mod service;

pub use issue::{Issue, IssueKind, PortProblem, Section};

use super::node::{Location, Mapping, Node, NodePath};

#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    /// Every problem found, in file order.
    #[error("{}", list(.issues))]
    Invalid { issues: Vec<Issue> },
}

impl ValidationError {
    pub fn issues(&self) -> &[Issue] {
        match self {
            ValidationError::Invalid { issues } => issues,
        }
    }
}

fn list(issues: &[Issue]) -> String {
    let lines: Vec<String> = issues.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

/// Check a canonical document; all problems are reported at once.
pub fn check(doc: &Node) -> Result<(), ValidationError> {
    check_project(doc, &Mapping::new())
}

/// [`check`] for a project whose `disabled` services (set aside by
/// profiles or by the services named on the command line) are no longer in
/// `doc`: a `required: false` dependency may name one of them, as in
/// compose-go's `checkConsistency` (it skips `ErrDisabled` only), but not a
/// service defined nowhere.
pub fn check_project(doc: &Node, disabled: &Mapping) -> Result<(), ValidationError> {
    let issues = project_issues(doc, disabled);
    if issues.is_empty() {
        Ok(())
    } else {
        Err(ValidationError::Invalid { issues })
    }
}

/// Every semantic problem of `doc`, sorted by file, line, column and path.
pub fn issues(doc: &Node) -> Vec<Issue> {
    project_issues(doc, &Mapping::new())
}

fn project_issues(doc: &Node, disabled: &Mapping) -> Vec<Issue> {
    let mut checker = Checker {
        doc,
        disabled,
        issues: Vec::new(),
    };
    references::check(&mut checker);
    service::check(&mut checker);
    resources::check(&mut checker);
    let mut issues = checker.issues;
    issues.sort_by_key(|i| sort_key(&i.location));
    issues.dedup();
    issues
}

fn sort_key(l: &Location) -> (String, usize, usize, String) {
    match &l.span {
        Some(s) => (
            s.file.display().to_string(),
            s.line,
            s.column,
            l.path.to_string(),
        ),
        None => (String::new(), usize::MAX, usize::MAX, l.path.to_string()),
    }
}

/// The document being checked and the problems found so far.
struct Checker<'d> {
    doc: &'d Node,
    /// Services defined but not active.
    disabled: &'d Mapping,
    issues: Vec<Issue>,
}

impl<'d> Checker<'d> {
    fn report(&mut self, path: NodePath, kind: IssueKind) {
        let location = self.location(path);
        self.issues.push(Issue { location, kind });
    }

    fn location(&self, path: NodePath) -> Location {
        Location::new(self.doc.span_at(&path), path)
    }

    /// The services, with their paths, in file order.
    fn services(&self) -> Vec<(&'d str, &'d Node, NodePath)> {
        let base = NodePath::root().key("services");
        self.doc
            .get("services")
            .and_then(Node::as_map)
            .map(|m| {
                m.iter()
                    .map(|(name, svc)| (name.as_str(), svc, base.key(name.clone())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether the top-level `section` defines `name`.
    fn defines(&self, section: &str, name: &str) -> bool {
        self.doc
            .get(section)
            .and_then(Node::as_map)
            .is_some_and(|m| m.contains_key(name))
    }
}

/// An integer attribute written as a number or, before typing, as digits.
fn int_of(node: Option<&Node>) -> Option<i64> {
    match node.map(|n| &n.value) {
        Some(super::node::Value::Int(i)) => Some(*i),
        Some(super::node::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Everything the checks of this part say about a file's text, stage by
/// stage: YAML, schema, semantic checks and the dependency graph. The fuzz
/// target (`fuzz/fuzz_targets/loader.rs`) and the mutation test run this
/// same path; it must never panic, whatever the bytes.
pub fn diagnose(text: &str, file: &std::sync::Arc<std::path::Path>) -> Vec<String> {
    let docs = match super::yaml::parse_documents(text, file) {
        Ok(docs) => docs,
        Err(e) => return vec![e.to_string()],
    };
    let mut out = Vec::new();
    for doc in docs {
        if let Err(e) = super::schema::validate(&doc) {
            out.push(e.to_string());
        }
        out.extend(issues(&doc).iter().map(ToString::to_string));
        match crate::graph::ServiceGraph::from_document(&doc) {
            Ok(graph) => {
                let rendered = crate::graph::render::text(&graph);
                let dot = crate::graph::render::dot(&graph);
                out.push(rendered + &dot);
            }
            Err(e) => out.push(e.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod mutation_tests;
#[cfg(test)]
mod tests;
