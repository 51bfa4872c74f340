//! The service dependency graph: which service must start before which.
//!
//! Built once from the canonical document as an immutable value (unlike
//! docker compose's `dependencies.go`, it never writes back into the model).
//! Start order comes as *levels*: every service of a level can start in
//! parallel once the levels before it are up; stop order is the reverse.
//! A cycle is an error that names the whole cycle, in a stable order.

mod edges;
pub mod render;

pub use edges::{
    references, service_ref, BadCondition, Condition, Dependency, Reference, Relation,
};

use crate::loader::node::{Location, Node, NodePath};
use indexmap::IndexMap;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use std::collections::{BTreeSet, VecDeque};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GraphError {
    #[error("{location}: dependency cycle: {}", .cycle.join(" -> "))]
    Cycle {
        location: Location,
        /// The services of the cycle, the first repeated at the end.
        cycle: Vec<String>,
    },
    #[error("{location}: service `{service}` depends on undefined service `{target}` (via {relation}); define it under `services:` or remove the reference")]
    UndefinedService {
        location: Location,
        service: String,
        target: String,
        relation: Relation,
    },
    #[error("{location}: unknown condition `{value}`; use service_started, service_healthy or service_completed_successfully")]
    BadCondition { location: Location, value: String },
    #[error(
        "{location}: `services` must be a mapping of service names to definitions, found {found}"
    )]
    ServicesNotMapping {
        location: Location,
        found: &'static str,
    },
    #[error("no such service: `{name}`{}", .suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    NoSuchService {
        name: String,
        /// The closest service name, when the name looks like a typo of it.
        suggestion: Option<String>,
    },
}

/// One edge: `from` depends on `to`.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge<'g> {
    pub from: &'g str,
    pub to: &'g str,
    pub dependency: &'g Dependency,
}

/// Services and who depends on whom; edges point from a service to the
/// services it depends on.
#[derive(Debug, Clone)]
pub struct ServiceGraph {
    graph: DiGraph<String, Dependency>,
    /// Service name → node, in name order.
    index: IndexMap<String, NodeIndex>,
    levels: Vec<Vec<String>>,
}

impl ServiceGraph {
    /// The graph of the document's services. Fails on a reference to an
    /// undefined service (unless `required: false`), on an unknown
    /// condition, and on a cycle.
    pub fn from_document(doc: &Node) -> Result<ServiceGraph, GraphError> {
        let built = Built::new(doc, SelfEdges::Keep)?;
        if let Some(err) = built.reference_errors.first().cloned() {
            return Err(err);
        }
        if let Some(err) = built.cycle_error(doc) {
            return Err(err);
        }
        let levels = levels(&built.graph, &built.index);
        Ok(ServiceGraph {
            graph: built.graph,
            index: built.index,
            levels,
        })
    }

    /// Every service, by name.
    pub fn services(&self) -> impl Iterator<Item = &str> {
        self.index.keys().map(String::as_str)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// Start order: each level's services depend only on earlier levels,
    /// and are sorted by name.
    pub fn start_levels(&self) -> &[Vec<String>] {
        &self.levels
    }

    /// Stop order: dependents before what they depend on.
    pub fn stop_levels(&self) -> Vec<Vec<String>> {
        self.levels.iter().rev().cloned().collect()
    }

    /// The direct dependencies of `name`, by name, with their edges.
    pub fn direct_dependencies(&self, name: &str) -> Result<Vec<Edge<'_>>, GraphError> {
        let node = self.node(name)?;
        let mut out: Vec<Edge<'_>> = self
            .graph
            .edges_directed(node, Direction::Outgoing)
            .map(|e| Edge {
                from: &self.graph[e.source()],
                to: &self.graph[e.target()],
                dependency: e.weight(),
            })
            .collect();
        out.sort_by(|a, b| a.to.cmp(b.to));
        Ok(out)
    }

    /// Every edge, sorted by (from, to).
    pub fn edges(&self) -> Vec<Edge<'_>> {
        let mut out: Vec<Edge<'_>> = self
            .graph
            .edge_references()
            .map(|e| Edge {
                from: &self.graph[e.source()],
                to: &self.graph[e.target()],
                dependency: e.weight(),
            })
            .collect();
        out.sort_by(|a, b| (a.from, a.to).cmp(&(b.from, b.to)));
        out
    }

    /// Everything `name` needs running first (transitively), in start
    /// order: what `up SERVICE` also starts.
    pub fn dependencies(&self, name: &str) -> Result<Vec<String>, GraphError> {
        self.reachable(name, Direction::Outgoing)
    }

    /// Everything that needs `name` (transitively), in stop order: what
    /// `stop SERVICE` must stop first.
    pub fn dependents(&self, name: &str) -> Result<Vec<String>, GraphError> {
        let mut out = self.reachable(name, Direction::Incoming)?;
        out.reverse();
        Ok(out)
    }

    fn node(&self, name: &str) -> Result<NodeIndex, GraphError> {
        self.index
            .get(name)
            .copied()
            .ok_or_else(|| GraphError::NoSuchService {
                name: name.to_string(),
                suggestion: self.closest(name),
            })
    }

    /// The service name closest to a misspelt one (at most a third of it
    /// changed), for `no such service` errors.
    fn closest(&self, name: &str) -> Option<String> {
        let budget = (name.chars().count() / 3).max(1);
        self.index
            .keys()
            .map(|k| (strsim::damerau_levenshtein(name, k), k))
            .filter(|(d, _)| *d <= budget)
            .min()
            .map(|(_, k)| k.clone())
    }

    /// The services reachable from `name` along `direction`, in start order.
    fn reachable(&self, name: &str, direction: Direction) -> Result<Vec<String>, GraphError> {
        let start = self.node(name)?;
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([start]);
        while let Some(n) = queue.pop_front() {
            for next in self.graph.neighbors_directed(n, direction) {
                if seen.insert(self.graph[next].clone()) {
                    queue.push_back(next);
                }
            }
        }
        Ok(self
            .levels
            .iter()
            .flatten()
            .filter(|s| seen.contains(*s))
            .cloned()
            .collect())
    }
}

/// Whether the services' references form a cycle through two services or
/// more (compose-go `graph.CheckCycle`), ignoring references to undefined
/// services and self-references: the validator reports those separately
/// and still wants to know about a longer cycle.
pub fn check_cycles(doc: &Node) -> Result<(), GraphError> {
    let built = Built::new(doc, SelfEdges::Skip)?;
    match built.cycle_error(doc) {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// Where each edge was written: the reference's path.
type WrittenAt = IndexMap<(String, String), NodePath>;

/// Whether a service's reference to itself becomes an edge (a cycle).
#[derive(Clone, Copy, PartialEq, Eq)]
enum SelfEdges {
    Keep,
    Skip,
}

/// The graph of the defined references, and the errors of the others.
struct Built {
    graph: DiGraph<String, Dependency>,
    index: IndexMap<String, NodeIndex>,
    written_at: WrittenAt,
    reference_errors: Vec<GraphError>,
    self_edges: SelfEdges,
}

impl Built {
    fn new(doc: &Node, self_edges: SelfEdges) -> Result<Built, GraphError> {
        let services_path = NodePath::root().key("services");
        let mut built = Built {
            graph: DiGraph::new(),
            index: IndexMap::new(),
            written_at: IndexMap::new(),
            reference_errors: Vec::new(),
            self_edges,
        };
        let services = match doc.get("services") {
            None => return Ok(built),
            Some(s) if s.is_null() => return Ok(built),
            Some(s) => s.as_map().ok_or_else(|| GraphError::ServicesNotMapping {
                location: Location::new(s.span.clone(), services_path.clone()),
                found: s.kind_name(),
            })?,
        };
        let mut names: Vec<&String> = services.keys().collect();
        names.sort();
        for name in names {
            let node = built.graph.add_node(name.clone());
            built.index.insert(name.clone(), node);
        }
        for (name, service) in services {
            built.add_references(doc, name, service, &services_path.key(name.clone()));
        }
        Ok(built)
    }

    /// The first cycle, located at the reference its first edge came from.
    fn cycle_error(&self, doc: &Node) -> Option<GraphError> {
        let cycle = find_cycle(&self.graph, &self.index)?;
        let path = self
            .written_at
            .get(&(cycle[0].clone(), cycle[1].clone()))
            .cloned()
            .unwrap_or_else(|| NodePath::root().key("services").key(cycle[0].clone()));
        Some(GraphError::Cycle {
            location: Location::new(doc.span_at(&path), path),
            cycle,
        })
    }

    fn add_references(&mut self, doc: &Node, name: &str, service: &Node, path: &NodePath) {
        let (refs, bad) = references(service, path);
        for b in bad {
            self.reference_errors.push(GraphError::BadCondition {
                location: Location::new(doc.span_at(&b.path), b.path),
                value: b.value,
            });
        }
        for r in refs {
            if r.target == name && self.self_edges == SelfEdges::Skip {
                continue;
            }
            let Some(&to) = self.index.get(&r.target) else {
                if r.dependency.required {
                    self.reference_errors.push(GraphError::UndefinedService {
                        location: Location::new(doc.span_at(&r.path), r.path),
                        service: name.to_string(),
                        target: r.target,
                        relation: r.dependency.relation,
                    });
                }
                continue;
            };
            let from = self.index[name];
            self.graph.add_edge(from, to, r.dependency);
            self.written_at.insert((name.to_string(), r.target), r.path);
        }
    }
}

/// Kahn's algorithm by levels: a service's level is one more than its
/// deepest dependency's. Assumes no cycle.
fn levels(
    graph: &DiGraph<String, Dependency>,
    index: &IndexMap<String, NodeIndex>,
) -> Vec<Vec<String>> {
    let mut remaining: IndexMap<NodeIndex, usize> = index
        .values()
        .map(|&n| {
            let deps: BTreeSet<NodeIndex> =
                graph.neighbors_directed(n, Direction::Outgoing).collect();
            (n, deps.len())
        })
        .collect();
    let mut levels = Vec::new();
    while !remaining.is_empty() {
        let ready: Vec<NodeIndex> = remaining
            .iter()
            .filter(|(_, &count)| count == 0)
            .map(|(&n, _)| n)
            .collect();
        if ready.is_empty() {
            break; // a cycle: from_document rejected it before
        }
        for n in &ready {
            remaining.shift_remove(n);
            let dependents: BTreeSet<NodeIndex> =
                graph.neighbors_directed(*n, Direction::Incoming).collect();
            for d in dependents {
                if let Some(c) = remaining.get_mut(&d) {
                    *c -= 1;
                }
            }
        }
        let mut names: Vec<String> = ready.iter().map(|&n| graph[n].clone()).collect();
        names.sort();
        levels.push(names);
    }
    levels
}

/// A cycle, if any, named from its smallest service along the shortest way
/// back to it (neighbours tried in name order), so the same file always
/// gives the same message.
fn find_cycle(
    graph: &DiGraph<String, Dependency>,
    index: &IndexMap<String, NodeIndex>,
) -> Option<Vec<String>> {
    let components = petgraph::algo::tarjan_scc(graph);
    let start = components
        .iter()
        .filter(|c| c.len() > 1 || graph.contains_edge(c[0], c[0]))
        .filter_map(|c| c.iter().map(|&n| &graph[n]).min())
        .min()?;
    let start = index[start];
    shortest_cycle(graph, start)
}

/// Breadth-first from `start` back to `start`.
fn shortest_cycle(graph: &DiGraph<String, Dependency>, start: NodeIndex) -> Option<Vec<String>> {
    let sorted_next = |n: NodeIndex| {
        let mut next: Vec<NodeIndex> = graph.neighbors_directed(n, Direction::Outgoing).collect();
        next.sort_by(|a, b| graph[*a].cmp(&graph[*b]));
        next.dedup();
        next
    };
    let mut parent: IndexMap<NodeIndex, NodeIndex> = IndexMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        for next in sorted_next(n) {
            if next == start {
                let mut cycle = vec![graph[start].clone()];
                let mut at = n;
                let mut back = Vec::new();
                while at != start {
                    back.push(graph[at].clone());
                    at = parent[&at];
                }
                cycle.extend(back.into_iter().rev());
                cycle.push(graph[start].clone());
                return Some(cycle);
            }
            if let indexmap::map::Entry::Vacant(e) = parent.entry(next) {
                e.insert(n);
                queue.push_back(next);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests;
