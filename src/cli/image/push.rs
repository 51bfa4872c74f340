//! `compose image tag` and `compose image push`, as `docker image tag` and
//! `docker image push` behave: a tag is a new name for a stored image; a
//! push sends the image under that name to its registry and prints the
//! digest line Docker prints (`v1: digest: sha256:… size: 527`).

use super::{one_line, progress, TagArgs};
use compose_runtime::image::registry::{push, NoProgress, PushOptions};
use compose_runtime::image::{ImageStore, Reference};
use std::process::ExitCode;

/// Push an image to a registry
#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// Push all tags of the repository the store has
    #[arg(short, long)]
    pub all_tags: bool,
    /// Suppress verbose output
    #[arg(short, long)]
    pub quiet: bool,
    /// Image reference (`NAME[:TAG]`)
    pub reference: String,
}

/// The push options: `COMPOSE_PUSH_CHUNK_SIZE` (bytes) replaces the size
/// above which blobs are uploaded in chunks (for registries behind a
/// proxy that limits request bodies).
pub(crate) fn push_options() -> anyhow::Result<PushOptions> {
    let mut opts = PushOptions::default();
    if let Ok(v) = std::env::var("COMPOSE_PUSH_CHUNK_SIZE") {
        opts.chunk_size = v.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
            anyhow::anyhow!("COMPOSE_PUSH_CHUNK_SIZE=`{v}` is not a positive number of bytes")
        })?;
    }
    Ok(opts)
}

pub fn run_tag(store: &ImageStore, a: &TagArgs) -> anyhow::Result<ExitCode> {
    let target = Reference::parse(&a.target).map_err(one_line)?;
    store.tag(&a.source, &target).map_err(one_line)?;
    Ok(ExitCode::SUCCESS)
}

pub fn run_push(store: &ImageStore, a: &PushArgs) -> anyhow::Result<ExitCode> {
    let reference = Reference::parse(&a.reference).map_err(one_line)?;
    let opts = push_options()?;
    let references = if a.all_tags {
        all_tags(store, &a.reference, &reference)?
    } else {
        vec![reference.clone()]
    };
    if a.quiet {
        for r in &references {
            push(store, r, &opts, &NoProgress).map_err(one_line)?;
            println!("{r}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if reference.digest.is_none() {
        println!("The push refers to repository [{}]", reference.name());
    }
    for r in &references {
        let bars = progress::Bars::new();
        let outcome = push(store, r, &opts, &bars);
        bars.finish();
        let outcome = outcome.map_err(one_line)?;
        println!(
            "{}: digest: {} size: {}",
            outcome.tag, outcome.digest, outcome.size
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `--all-tags`: every tag the store has in `reference`'s repository, in
/// order; the name must not carry a tag of its own (as `docker push -a`).
fn all_tags(
    store: &ImageStore,
    written: &str,
    reference: &Reference,
) -> anyhow::Result<Vec<Reference>> {
    let last = written.rsplit('/').next().unwrap_or(written);
    if last.contains(':') || reference.digest.is_some() {
        anyhow::bail!("tag can't be used with --all-tags/-a: `{written}`");
    }
    let name = reference.name();
    let mut tags: Vec<Reference> = store
        .list()
        .map_err(one_line)?
        .iter()
        .flat_map(|rec| rec.tags.iter())
        .filter_map(|t| Reference::parse(t).ok())
        .filter(|r| r.name() == name)
        .collect();
    tags.sort();
    if tags.is_empty() {
        anyhow::bail!(
            "An image does not exist locally with the tag: {}",
            reference.familiar_name()
        );
    }
    Ok(tags)
}
