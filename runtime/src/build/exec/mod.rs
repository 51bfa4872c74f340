//! Executing a build plan into the image store (issue 7): each needed
//! stage starts from its base (an image of the store, `scratch`, or an
//! earlier stage's result), config-only instructions go through
//! [`config::Stage`](super::config::Stage), RUN runs in one of our
//! containers on the stage's layers ([`run`]), COPY/ADD write into a fresh
//! upper dir ([`copy`]; ADD's URLs and git repositories are fetched by
//! [`remote`]); RUN's build secrets are provided by [`secrets`]. The
//! triggers of a base's `OnBuild` run first in the stage that uses it.
//! Every filesystem step becomes a layer through
//! [`diff::write_layer`](super::diff::write_layer). Steps whose cache key
//! ([`super::cache::cache_key`]) was seen before reuse their layer
//! ([`store`]). The image (config with history and `rootfs.diff_ids`, and
//! its manifest) is committed and tagged only when every step succeeded.

mod copy;
mod copy_step;
mod driver;
mod error;
mod layers;
mod mounts;
mod net;
mod onbuild;
mod remote;
mod run;
mod secrets;
mod store;

pub use driver::build;
pub use error::ExecError;
pub use layers::LayerRef;
pub use store::CacheStore;

use crate::container::InitProgram;
use crate::image::{ImageStore, Reference};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Which network RUN steps get (`docker build --network`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BuildNetwork {
    /// A NAT'd bridge of the build's own (`exec::net`), Docker's default.
    #[default]
    Bridge,
    /// The host's namespace (`network: host`).
    Host,
    /// Loopback only (`--network none`).
    None,
}

/// One image to build.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// The build context directory.
    pub context: PathBuf,
    /// The Dockerfile's name for messages (and its `.dockerignore`).
    pub dockerfile_path: PathBuf,
    /// The Dockerfile's text (read from the file, or `dockerfile_inline`).
    pub dockerfile_text: String,
    pub build_args: BTreeMap<String, String>,
    /// `--target`: the stage to build; the last one when None.
    pub target: Option<String>,
    /// Names the image gets; none leaves it untagged (by ID only).
    pub tags: Vec<Reference>,
    /// Labels added to the image config (Compose `build.labels`).
    pub labels: BTreeMap<String, String>,
    /// Ignore the cache (results are still recorded for later builds).
    pub no_cache: bool,
    pub network: BuildNetwork,
    /// `--pull`: fetch base images from their registry even when stored.
    pub pull: bool,
    /// Build secrets by id, for `RUN --mount=type=secret`.
    pub secrets: BTreeMap<String, BuildSecret>,
}

/// Where a build secret's value comes from (Compose `build.secrets`
/// naming a top-level secret with `file:`, or `environment:` whose value
/// the loader resolved). Its Debug output never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub enum BuildSecret {
    File(PathBuf),
    Value(Vec<u8>),
}

impl std::fmt::Debug for BuildSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildSecret::File(p) => f.debug_tuple("File").field(p).finish(),
            BuildSecret::Value(_) => f.write_str("Value(<redacted>)"),
        }
    }
}

/// Where the build runs: the image store, the compose root (for the cache
/// and RUN containers' state) and the init binary of RUN containers.
#[derive(Debug, Clone)]
pub struct Builder<'a> {
    pub store: &'a ImageStore,
    pub root: PathBuf,
    pub init: &'a InitProgram,
}

/// What the build reports as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A step starts: `[stage step/total] INSTRUCTION`.
    Step {
        stage: String,
        step: usize,
        total: usize,
        instruction: String,
    },
    /// The step just announced was taken from the cache.
    Cached,
    /// One line of a RUN step's output (stdout or stderr).
    Output { line: String },
    /// The step just announced finished after `millis`.
    Done { millis: u128 },
}

/// The image a build produced.
#[derive(Debug, Clone)]
pub struct Built {
    /// The image ID (config digest).
    pub id: crate::image::Digest,
    pub manifest: crate::image::Digest,
    /// Steps executed and steps taken from the cache.
    pub executed: usize,
    pub cached: usize,
}
