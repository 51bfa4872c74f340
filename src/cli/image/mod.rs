//! `compose image …` and `compose system df`: the bundled runtime's image
//! store from the command line (`docker image` verbs: ls, inspect, pull,
//! push, tag, import, load, rm, prune; and `bootstrap`, ours). Thin: every verb is one call into
//! `compose_runtime::image` plus Docker-shaped output.

mod bootstrap;
pub mod format;
mod inspect;
pub(crate) mod progress;
pub(crate) mod push;

use compose_runtime::image::archive::load_archive;
use compose_runtime::image::import::import_rootfs;
use compose_runtime::image::oci::Platform;
use compose_runtime::image::registry::{pull, NoProgress, PullOptions, PullStatus};
use compose_runtime::image::store::Removed;
use compose_runtime::image::{ImageStore, Reference};
use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Manage images in the bundled runtime's store
#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    #[command(subcommand)]
    pub command: ImageCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ImageCommand {
    /// List images
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more images (JSON)
    Inspect(InspectArgs),
    /// Download an image from a registry
    Pull(PullArgs),
    /// Upload an image to a registry
    Push(push::PushArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(TagArgs),
    /// Import a root filesystem tarball to create a single-layer image
    Import(ImportArgs),
    /// Load images from a `docker save` or OCI layout archive
    Load(LoadArgs),
    /// Build a Debian or Ubuntu base image from the host's apt mirror
    Bootstrap(bootstrap::BootstrapArgs),
    /// Remove one or more images
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// Remove unused images
    Prune(PruneArgs),
}

#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Format the output: table, json, or a Go template ({{.Repository}}:{{.Tag}})
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Only images of this repository (e.g. `redis`, `localhost:5000/app`)
    pub repository: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Images (reference, ID or ID prefix)
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// Suppress verbose output
    #[arg(short, long)]
    pub quiet: bool,
    /// Platform to pull from a multi-platform image (`os/arch[/variant]`)
    #[arg(long)]
    pub platform: Option<String>,
    /// Image reference (`NAME[:TAG|@DIGEST]`)
    pub reference: String,
}

#[derive(Debug, clap::Args)]
pub struct TagArgs {
    /// The image to name (`NAME[:TAG]`, image ID or ID prefix)
    pub source: String,
    /// The new name (`NAME[:TAG]`)
    pub target: String,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Root filesystem tarball (plain, gzip or zstd); `-` for standard input
    pub file: PathBuf,
    /// Name for the image (`REPOSITORY[:TAG]`)
    pub reference: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN
    #[arg(short, long)]
    pub input: Option<PathBuf>,
    /// Suppress the load output
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct RmArgs {
    /// Force removal of an image with several tags when named by ID
    /// (long form only: `-f` is the global `--file`)
    #[arg(long)]
    pub force: bool,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Remove all images not used by a container, not just dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation (long form only: `-f` is `--file`)
    #[arg(long)]
    pub force: bool,
}

/// `compose system …`
#[derive(Debug, clap::Args)]
pub struct SystemArgs {
    #[command(subcommand)]
    pub command: SystemCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum SystemCommand {
    /// Show disk usage of the image store
    Df,
}

/// Runtime errors already read as one line each; keep them that way
/// (anyhow's `{:#}` would repeat the sources they embed).
fn one_line(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

fn open_store() -> anyhow::Result<ImageStore> {
    ImageStore::open_default().map_err(one_line)
}

pub fn run(args: &ImageArgs) -> anyhow::Result<ExitCode> {
    let store = open_store()?;
    match &args.command {
        ImageCommand::Ls(a) => format::ls(&store, a),
        ImageCommand::Inspect(a) => inspect::run(&store, &a.images),
        ImageCommand::Pull(a) => run_pull(&store, a),
        ImageCommand::Push(a) => push::run_push(&store, a),
        ImageCommand::Tag(a) => push::run_tag(&store, a),
        ImageCommand::Import(a) => run_import(&store, a),
        ImageCommand::Load(a) => run_load(&store, a),
        ImageCommand::Bootstrap(a) => bootstrap::run(&store, a),
        ImageCommand::Rm(a) => run_rm(&store, a),
        ImageCommand::Prune(a) => run_prune(&store, a),
    }
}

pub fn run_system(args: &SystemArgs) -> anyhow::Result<ExitCode> {
    let store = open_store()?;
    match args.command {
        SystemCommand::Df => format::df(&store),
    }
}

/// `os/arch[/variant]`, as `--platform` and a service's `platform:` write it.
pub(crate) fn parse_platform(s: &str) -> anyhow::Result<Platform> {
    let parts: Vec<&str> = s.split('/').collect();
    match parts.as_slice() {
        [os, arch] | [os, arch, _] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
            os: os.to_string(),
            architecture: arch.to_string(),
            variant: parts.get(2).map(|v| v.to_string()),
        }),
        _ => {
            anyhow::bail!("invalid --platform `{s}`: expected os/arch[/variant], e.g. linux/amd64")
        }
    }
}

fn run_pull(store: &ImageStore, a: &PullArgs) -> anyhow::Result<ExitCode> {
    let reference = Reference::parse(&a.reference).map_err(one_line)?;
    let mut opts = PullOptions::default();
    if let Some(p) = &a.platform {
        opts.platform = parse_platform(p)?;
    }
    if !a.quiet {
        let what = reference
            .tag
            .clone()
            .unwrap_or_else(|| reference.manifest_ref());
        println!(
            "{what}: Pulling from {}",
            format::repository_path(&reference)
        );
    }
    let outcome = if a.quiet {
        pull(store, &reference, &opts, &NoProgress)
    } else {
        let bars = progress::Bars::new();
        let out = pull(store, &reference, &opts, &bars);
        bars.finish();
        out
    }
    .map_err(one_line)?;
    if !a.quiet {
        println!("Digest: {}", outcome.digest);
        let status = match outcome.status {
            PullStatus::Downloaded => "Downloaded newer image for",
            PullStatus::UpToDate => "Image is up to date for",
        };
        println!("Status: {status} {}", format::familiar(&reference));
    }
    println!("{reference}");
    Ok(ExitCode::SUCCESS)
}

fn run_import(store: &ImageStore, a: &ImportArgs) -> anyhow::Result<ExitCode> {
    let name = a
        .reference
        .as_deref()
        .map(Reference::parse)
        .transpose()
        .map_err(one_line)?;
    // `-` reads the tarball from standard input, as `docker import -` does.
    let spooled = spool_if_stdin(&a.file)?;
    let path = spooled.as_ref().map_or(a.file.as_path(), |t| t.path());
    let rec = import_rootfs(store, path, name.as_ref()).map_err(one_line)?;
    println!("{}", rec.config);
    Ok(ExitCode::SUCCESS)
}

/// Standard input copied to a temporary file when `path` is `-`.
fn spool_if_stdin(path: &std::path::Path) -> anyhow::Result<Option<tempfile::NamedTempFile>> {
    if path != std::path::Path::new("-") {
        return Ok(None);
    }
    let mut tmp = tempfile::NamedTempFile::new()?;
    std::io::copy(&mut std::io::stdin().lock(), &mut tmp)?;
    Ok(Some(tmp))
}

fn run_load(store: &ImageStore, a: &LoadArgs) -> anyhow::Result<ExitCode> {
    // The archive is read twice, so standard input is spooled to a file first.
    let input = a.input.clone().unwrap_or_else(|| PathBuf::from("-"));
    let spooled = spool_if_stdin(&input)?;
    let path = spooled
        .as_ref()
        .map_or(input.clone(), |t| t.path().to_path_buf());
    let loaded = load_archive(store, &path).map_err(one_line)?;
    if !a.quiet {
        for image in &loaded {
            if image.names.is_empty() {
                println!("Loaded image ID: {}", image.record.config);
            }
            for n in &image.names {
                println!("Loaded image: {}", format::familiar(n));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_removed(removed: &[Removed], lower: bool) {
    for r in removed {
        let (word, what) = match r {
            Removed::Untagged(t) => ("Untagged", format::familiar_str(t)),
            Removed::Deleted(d) => ("Deleted", d.to_string()),
        };
        let word = if lower {
            word.to_lowercase()
        } else {
            word.to_string()
        };
        println!("{word}: {what}");
    }
}

fn run_rm(store: &ImageStore, a: &RmArgs) -> anyhow::Result<ExitCode> {
    // Like docker: try every name, report each failure, fail at the end.
    let mut failed = false;
    for what in &a.images {
        match store.remove(what, a.force) {
            Ok(report) => print_removed(&report.removed, false),
            Err(e) => {
                failed = true;
                eprintln!("{} {e}", console::style("error:").red().bold());
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn run_prune(store: &ImageStore, a: &PruneArgs) -> anyhow::Result<ExitCode> {
    if !a.force {
        let what = if a.all {
            "all images without at least one container associated to them"
        } else {
            "all dangling images"
        };
        print!("WARNING! This will remove {what}.\nAre you sure you want to continue? [y/N] ");
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Ok(ExitCode::SUCCESS);
        }
    }
    // Containers are not known to the image store yet: the container
    // runtime passes the image IDs its containers use once it exists.
    let report = store.prune(a.all, &BTreeSet::new()).map_err(one_line)?;
    if !report.removed.is_empty() {
        println!("Deleted Images:");
        print_removed(&report.removed, true);
        println!();
    }
    println!(
        "Total reclaimed space: {}",
        format::human_size(report.reclaimed)
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[test]
    fn the_command_line_is_consistent() {
        crate::cli::Cli::command().debug_assert();
    }

    #[test]
    fn image_verbs_parse_like_docker() {
        let cli = crate::cli::Cli::try_parse_from(["compose", "image", "rm", "--force", "a", "b"])
            .unwrap();
        let crate::cli::Command::Image(ImageArgs {
            command: ImageCommand::Rm(rm),
        }) = cli.command
        else {
            panic!("expected image rm");
        };
        assert!(rm.force);
        assert_eq!(rm.images, ["a", "b"]);
        assert!(
            crate::cli::Cli::try_parse_from(["compose", "image", "load", "-i", "x.tar", "-q"])
                .is_ok()
        );
        assert!(crate::cli::Cli::try_parse_from(["compose", "system", "df"]).is_ok());
    }

    #[test]
    fn platforms_parse() {
        let p = parse_platform("linux/arm64/v8").unwrap();
        assert_eq!(
            (p.os.as_str(), p.architecture.as_str(), p.variant.as_deref()),
            ("linux", "arm64", Some("v8"))
        );
        assert!(parse_platform("amd64").is_err());
    }
}
