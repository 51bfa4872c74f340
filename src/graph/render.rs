//! Ways to show a [`ServiceGraph`]: a terminal tree, Graphviz `dot`, JSON.
//! Pure functions returning text, so `compose graph` stays thin and the
//! output is covered by golden strings.

use super::{Dependency, Edge, Relation, ServiceGraph};
use std::fmt::Write;

/// The start levels as a tree, each service with what it waits for:
///
/// ```text
/// level 1
/// └── db
/// level 2
/// └── web
///     └── db (service_healthy)
/// ```
pub fn text(graph: &ServiceGraph) -> String {
    let mut out = String::new();
    if graph.start_levels().is_empty() {
        out.push_str("no services\n");
        return out;
    }
    for (i, level) in graph.start_levels().iter().enumerate() {
        let _ = writeln!(out, "level {}", i + 1);
        for (j, service) in level.iter().enumerate() {
            let last = j + 1 == level.len();
            let _ = writeln!(out, "{}{service}", branch(last));
            let indent = if last { "    " } else { "│   " };
            // Every name in a level exists in the graph.
            let deps = graph.direct_dependencies(service).unwrap_or_default();
            for (k, edge) in deps.iter().enumerate() {
                let last_dep = k + 1 == deps.len();
                let _ = writeln!(
                    out,
                    "{indent}{}{} ({})",
                    branch(last_dep),
                    edge.to,
                    annotation(edge.dependency)
                );
            }
        }
    }
    out
}

fn branch(last: bool) -> &'static str {
    if last {
        "└── "
    } else {
        "├── "
    }
}

/// `service_healthy`, then what differs from a plain `depends_on`.
fn annotation(dep: &Dependency) -> String {
    let mut parts = vec![dep.condition.to_string()];
    if dep.relation != Relation::DependsOn {
        parts.push(format!("from {}", dep.relation));
    }
    if !dep.required {
        parts.push("optional".into());
    }
    if dep.restart {
        parts.push("restart".into());
    }
    parts.join(", ")
}

/// Graphviz: one node per service, an edge from each service to each of its
/// dependencies, labelled with the condition; optional edges dashed.
pub fn dot(graph: &ServiceGraph) -> String {
    let mut out = String::from("digraph compose {\n  rankdir=BT;\n  node [shape=box];\n");
    for service in graph.services() {
        let _ = writeln!(out, "  {};", quote(service));
    }
    for Edge {
        from,
        to,
        dependency,
    } in graph.edges()
    {
        let style = if dependency.required {
            ""
        } else {
            ", style=dashed"
        };
        let _ = writeln!(
            out,
            "  {} -> {} [label={}{style}];",
            quote(from),
            quote(to),
            quote(&annotation(dependency))
        );
    }
    out.push_str("}\n");
    out
}

/// A DOT identifier: always quoted, with `"` and `\` escaped.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[derive(serde::Serialize)]
struct JsonGraph<'g> {
    levels: &'g [Vec<String>],
    edges: Vec<JsonEdge<'g>>,
}

#[derive(serde::Serialize)]
struct JsonEdge<'g> {
    from: &'g str,
    to: &'g str,
    #[serde(flatten)]
    dependency: &'g Dependency,
}

/// `{"levels": [[...], ...], "edges": [{"from", "to", "relation",
/// "condition", "required", "restart"}, ...]}`.
pub fn json(graph: &ServiceGraph) -> String {
    let value = JsonGraph {
        levels: graph.start_levels(),
        edges: graph
            .edges()
            .into_iter()
            .map(|e| JsonEdge {
                from: e.from,
                to: e.to,
                dependency: e.dependency,
            })
            .collect(),
    };
    // Plain strings, bools and enums: serialisation cannot fail.
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}
