//! `compose image bootstrap debian:bookworm-slim`: a Debian or Ubuntu base
//! image built from the host's apt mirror with mmdebstrap (or
//! debootstrap), for machines without a registry. Thin: the work is
//! `compose_runtime::image::bootstrap`; here are the flags and the output
//! (the tool's lines streamed, dimmed, on stderr; the image ID on stdout).

use compose_runtime::image::bootstrap::{self, BootstrapError, Event, Flavour, Progress, Tool};
use compose_runtime::image::{ImageStore, Reference};
use std::process::ExitCode;

/// Build a Debian or Ubuntu base image from the host's apt mirror
#[derive(Debug, clap::Args)]
pub struct BootstrapArgs {
    /// The image to build: `debian:SUITE[-slim]` or `ubuntu:SUITE`
    /// (e.g. debian:bookworm-slim, debian:12, debian:stable, ubuntu:22.04)
    pub reference: String,
    /// Mirror to use instead of the host's apt sources (e.g.
    /// http://deb.debian.org/debian)
    #[arg(long, value_name = "URL")]
    pub mirror: Option<String>,
    /// Name for the image (default: the reference, so `FROM` finds it)
    #[arg(long, value_name = "NAME")]
    pub tag: Option<String>,
    /// The tool that builds the tree (default: mmdebstrap when installed,
    /// else debootstrap)
    #[arg(long, value_enum)]
    pub tool: Option<ToolArg>,
    /// Only print the image ID
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ToolArg {
    Mmdebstrap,
    Debootstrap,
}

/// The tool's output on stderr, dimmed, indented under the step.
struct Lines {
    quiet: bool,
}

impl Progress for Lines {
    fn event(&self, event: Event<'_>) {
        if self.quiet {
            return;
        }
        match event {
            Event::Running(command) => eprintln!("{} {command}", console::style("=>").bold()),
            Event::Output(line) => eprintln!("   {}", console::style(line).dim()),
            Event::Importing => eprintln!("{} importing", console::style("=>").bold()),
        }
    }
}

pub fn run(store: &ImageStore, a: &BootstrapArgs) -> anyhow::Result<ExitCode> {
    let one_line = |e: compose_runtime::image::reference::ReferenceError| anyhow::anyhow!("{e}");
    let reference = Reference::parse(&a.reference).map_err(one_line)?;
    let tag = match &a.tag {
        Some(t) => Reference::parse(t).map_err(one_line)?,
        None => reference.clone(),
    };
    let req = bootstrap::Request {
        reference,
        tag: tag.clone(),
        mirror: a.mirror.clone(),
        tool: a.tool.map(|t| match t {
            ToolArg::Mmdebstrap => Tool::Mmdebstrap,
            ToolArg::Debootstrap => Tool::Debootstrap,
        }),
    };
    let plan = bootstrap::plan(&req, std::path::Path::new("/etc/apt"))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if !a.quiet {
        let flavour = match plan.target.flavour {
            Flavour::Slim => " (slim)",
            Flavour::Full => "",
        };
        eprintln!(
            "Bootstrapping {} {}{flavour} from {} with {}",
            plan.target.distro.name(),
            plan.target.suite,
            plan.sources[0].uri,
            plan.tool.name()
        );
    }
    match bootstrap::execute(store, &req, &plan, &Lines { quiet: a.quiet }) {
        Ok(record) => {
            if !a.quiet {
                eprintln!("Bootstrapped {}", super::format::familiar(&tag));
            }
            println!("{}", record.config);
            Ok(ExitCode::SUCCESS)
        }
        Err(BootstrapError::Interrupted) => {
            eprintln!("{}", BootstrapError::Interrupted);
            // 128 + SIGINT, as a shell reports a command stopped by Ctrl-C.
            Ok(ExitCode::from(130))
        }
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}
