//! `image bootstrap`: Debian and Ubuntu base images built from the host's
//! apt mirror, for machines that cannot (or should not) pull from a
//! registry. The only place that runs mmdebstrap or debootstrap.
//!
//! The reference says what to build (`debian:bookworm-slim` → Debian
//! bookworm, slim flavour: [`target`]); the host's apt sources say where
//! from (the same mirrors, keyrings and pockets, the suite replaced:
//! [`sources`]); a minbase tree is made by mmdebstrap (or debootstrap)
//! with Docker Hub's container tweaks ([`tweaks`]) and streamed as a tar
//! into the image store, hashed on the way
//! ([`tool`], [`child`]); it becomes a one-layer image through the same
//! commit as `image import`, tagged with the reference so `FROM
//! debian:bookworm` and `image: debian:bookworm` find it.
//!
//! Nothing is tagged before the tool has exited 0: a failing or
//! interrupted tool makes the blob's reader fail, so the partial blob is
//! never stored (a SIGKILL leaves it in the store's `tmp/`, swept by the
//! next writer).

pub mod child;
pub mod error;
pub mod sources;
pub mod target;
pub mod tool;
pub mod tweaks;

pub use child::{Event, NoProgress, Progress};
pub use error::BootstrapError;
pub use target::{Distro, Flavour, Target};
pub use tool::Tool;

use super::digest::Digest;
use super::import::{commit_single_layer, SingleLayer};
use super::oci::RunConfig;
use super::reference::Reference;
use super::store::{ImageRecord, ImageStore};
use sources::AptSource;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// What to bootstrap.
#[derive(Debug, Clone)]
pub struct Request {
    /// The image asked for (`debian:bookworm-slim`).
    pub reference: Reference,
    /// The name to give the result (usually `reference`).
    pub tag: Reference,
    /// A mirror to use instead of the host's apt sources.
    pub mirror: Option<String>,
    /// A tool to use instead of the first installed.
    pub tool: Option<Tool>,
}

/// Everything decided before anything runs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub target: Target,
    /// The image's apt sources, the release first.
    pub sources: Vec<AptSource>,
    pub tool: Tool,
    pub program: std::path::PathBuf,
}

/// A finished bootstrap.
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    pub record: ImageRecord,
    pub plan: Plan,
}

/// Decide target, sources and tool for `req`, with the apt configuration
/// under `etc_apt` (`/etc/apt`). No side effects.
pub fn plan(req: &Request, etc_apt: &Path) -> Result<Plan, BootstrapError> {
    let target = Target::of(&req.reference)?;
    let (host, files) = sources::read_host(etc_apt)?;
    let sources = sources::plan_sources(&target, &host, &files, req.mirror.as_deref(), &|p| {
        p.is_file()
    })?;
    let (tool, program) = Tool::find(req.tool)?;
    Ok(Plan {
        target,
        sources,
        tool,
        program,
    })
}

/// Bootstrap `req` into `store` from the host's apt configuration.
pub fn bootstrap(
    store: &ImageStore,
    req: &Request,
    progress: &dyn Progress,
) -> Result<Bootstrapped, BootstrapError> {
    let plan = plan(req, Path::new("/etc/apt"))?;
    let record = execute(store, req, &plan, progress)?;
    Ok(Bootstrapped { record, plan })
}

/// Execute `plan` (from [`plan`] for `req`): the tool's tarball into a
/// blob, then the image tagged `req.tag`.
pub fn execute(
    store: &ImageStore,
    req: &Request,
    plan: &Plan,
    progress: &dyn Progress,
) -> Result<ImageRecord, BootstrapError> {
    let interrupts = child::Interrupts::catch()?;
    let ctx = child::Ctx {
        progress,
        interrupts: &interrupts,
    };
    let hooks = tweaks::Hooks::prepare(plan.target.flavour)?;
    let _adding = store.adding()?;
    let into_store = |tar: &mut dyn Read| store_layer(store, tar);
    let layer = match plan.tool {
        Tool::Mmdebstrap => tool::mmdebstrap(
            &ctx,
            &plan.program,
            &plan.target,
            &plan.sources,
            &hooks,
            into_store,
        ),
        Tool::Debootstrap => tool::debootstrap(
            &ctx,
            &plan.program,
            &plan.target,
            &plan.sources,
            &hooks,
            into_store,
        ),
    }?;
    if interrupts.fired() {
        return Err(BootstrapError::Interrupted);
    }
    progress.event(Event::Importing);
    let created_by = format!(
        "compose image bootstrap {}",
        req.reference.familiar_name() + ":" + req.reference.tag.as_deref().unwrap_or("latest")
    );
    let comment = format!(
        "{} --variant=minbase {} from {}",
        plan.tool.name(),
        plan.target.suite,
        plan.sources[0].uri
    );
    let single = SingleLayer {
        digest: layer.digest,
        size: layer.size,
        compression: super::compression::Compression::None,
        diff_id: layer.diff_id,
        run: run_config(plan),
        created_by: &created_by,
        comment: &comment,
    };
    Ok(commit_single_layer(store, single, Some(&req.tag))?)
}

/// The stored blob of a tarball.
struct StoredLayer {
    digest: Digest,
    size: u64,
    diff_id: Digest,
}

/// The tarball as a blob, read once: a plain tar's digest is its diff ID.
/// It is stored uncompressed, as `image import` stores a plain tarball:
/// compressing ~150 MB costs more time than the disk it saves here.
fn store_layer(store: &ImageStore, tar: &mut dyn Read) -> Result<StoredLayer, BootstrapError> {
    let (digest, size) = store.put_blob(tar)?;
    Ok(StoredLayer {
        diff_id: digest.clone(),
        digest,
        size,
    })
}

/// Label keys recording where an image came from.
pub const LABEL_DISTRIBUTION: &str = "compose.bootstrap.distribution";
pub const LABEL_SUITE: &str = "compose.bootstrap.suite";
pub const LABEL_FLAVOUR: &str = "compose.bootstrap.flavour";
pub const LABEL_MIRROR: &str = "compose.bootstrap.mirror";
pub const LABEL_DATE: &str = "compose.bootstrap.date";
pub const LABEL_TOOL: &str = "compose.bootstrap.tool";

/// The image's run config: Docker Hub's Debian/Ubuntu defaults (the
/// usual PATH, `bash`), and labels recording how it was made.
pub fn run_config(plan: &Plan) -> RunConfig {
    let date = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let flavour = match plan.target.flavour {
        Flavour::Full => "full",
        Flavour::Slim => "slim",
    };
    let labels = BTreeMap::from([
        (
            LABEL_DISTRIBUTION.to_string(),
            plan.target.distro.name().to_lowercase(),
        ),
        (LABEL_SUITE.to_string(), plan.target.suite.clone()),
        (LABEL_FLAVOUR.to_string(), flavour.to_string()),
        (LABEL_MIRROR.to_string(), plan.sources[0].uri.clone()),
        (LABEL_DATE.to_string(), date),
        (LABEL_TOOL.to_string(), plan.tool.name().to_string()),
    ]);
    RunConfig {
        env: vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string()],
        cmd: Some(vec!["bash".to_string()]),
        labels,
        ..RunConfig::default()
    }
}

/// The hint for a base image that is neither stored nor pullable: Debian
/// and Ubuntu images can be bootstrapped instead. `None` for other images.
pub fn hint(image: &str) -> Option<String> {
    let reference = Reference::parse(image).ok()?;
    Target::of(&reference).ok()?;
    let tag = reference.tag.as_deref().unwrap_or("latest");
    Some(format!(
        "run `compose image bootstrap {}:{tag}` to build it from the host's apt mirror",
        reference.familiar_name()
    ))
}

/// [`hint`] as a line to append to an error (empty for other images).
pub fn hint_line(image: &str) -> String {
    hint(image)
        .map(|h| format!("\n  hint: {h}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_the_command_for_debian_and_ubuntu_only() {
        assert_eq!(
            hint("debian:bookworm").as_deref(),
            Some("run `compose image bootstrap debian:bookworm` to build it from the host's apt mirror")
        );
        assert!(hint("docker.io/library/ubuntu:22.04")
            .unwrap()
            .contains("bootstrap ubuntu:22.04"));
        assert!(hint("debian").unwrap().contains("debian:latest"));
        assert_eq!(hint("alpine:3"), None);
        assert_eq!(hint("debian:nonsense"), None);
    }

    #[test]
    fn the_config_records_suite_mirror_and_tool() {
        let plan = Plan {
            target: Target::of(&Reference::parse("debian:bookworm-slim").unwrap()).unwrap(),
            sources: vec![AptSource {
                uri: "http://deb.debian.org/debian".into(),
                suite: "bookworm".into(),
                components: vec!["main".into()],
                signed_by: "/k".into(),
            }],
            tool: Tool::Mmdebstrap,
            program: "/usr/bin/mmdebstrap".into(),
        };
        let c = run_config(&plan);
        assert_eq!(c.cmd, Some(vec!["bash".to_string()]));
        assert!(c.env[0].starts_with("PATH=/usr/local/sbin:"));
        assert_eq!(c.labels[LABEL_SUITE], "bookworm");
        assert_eq!(c.labels[LABEL_FLAVOUR], "slim");
        assert_eq!(c.labels[LABEL_MIRROR], "http://deb.debian.org/debian");
        assert_eq!(c.labels[LABEL_TOOL], "mmdebstrap");
        assert!(c.labels[LABEL_DATE].ends_with('Z'));
    }
}
