//! `compose graph`: the service dependency graph of the project, as a tree
//! of start levels, as Graphviz `dot`, or as JSON (levels and edges).
//!
//! Thin: loading, graph building and rendering live in `loader` and `graph`.

use super::GlobalArgs;
use crate::graph::{render, ServiceGraph};
use std::process::ExitCode;

/// How to print the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Start levels as a tree, each service with what it waits for
    Text,
    /// Graphviz, edges labelled with the condition (`| dot -Tsvg`)
    Dot,
    /// `{"levels": [...], "edges": [...]}`
    Json,
}

#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: GraphFormat,
}

pub fn run(global: &GlobalArgs, args: &GraphArgs) -> anyhow::Result<ExitCode> {
    let opts = global.loader_options()?;
    let loaded = crate::loader::load(&opts)?;
    for w in &loaded.warnings {
        crate::ui::warn(&w.to_string());
    }
    let graph = ServiceGraph::from_document(&loaded.document)?;
    print!("{}", format(&graph, args.format));
    Ok(ExitCode::SUCCESS)
}

/// The rendering for `format`.
pub fn format(graph: &ServiceGraph, format: GraphFormat) -> String {
    match format {
        GraphFormat::Text => render::text(graph),
        GraphFormat::Dot => render::dot(graph),
        GraphFormat::Json => render::json(graph),
    }
}
