//! Pulling images from registries and pushing them over the OCI
//! distribution API v2.

pub mod auth;
pub mod client;
pub mod pull;
pub mod push;
pub mod upload;

use super::digest::Digest;
use super::store::StoreError;

pub use pull::{
    ensure, pull, LayerEvent, NoProgress, PullError, PullOptions, PullOutcome, PullProgress,
    PullStatus,
};
pub use push::{push, PushError, PushEvent, PushOptions, PushOutcome, PushProgress};
pub use upload::BlobOutcome;

/// What went wrong talking to a registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot reach registry {registry}: {message}")]
    Unreachable { registry: String, message: String },
    #[error("not found: {what} unknown to the registry ({url})")]
    NotFound { what: &'static str, url: String },
    #[error("access denied by {registry}: the repository does not exist or needs credentials (`docker login` writes them to ~/.docker/config.json)")]
    Unauthorized { registry: String },
    #[error("denied: {registry} refused to let these credentials push to `{repository}` (`docker login {registry}` writes credentials to ~/.docker/config.json)")]
    PushDenied {
        registry: String,
        repository: String,
    },
    #[error(
        "registry started an upload at {url} without saying where to send it (no Location header)"
    )]
    NoLocation { url: String },
    #[error("registry answered {status} for {url}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("reading {url}: {source}")]
    Read { url: String, source: std::io::Error },
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
    #[error("manifest {digest} has unsupported media type `{media_type}`")]
    UnsupportedMediaType { digest: Digest, media_type: String },
    #[error("manifest is not valid JSON of its kind: {source}")]
    BadManifest { source: serde_json::Error },
    #[error("no manifest for platform {platform} (the image has: {available})")]
    NoPlatform { platform: String, available: String },
    #[error("wrong digest: registry sent {actual} for {expected}")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error("blob {digest}: {source}")]
    Blob { digest: Digest, source: StoreError },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RegistryError {
    /// Worth another try: the connection failed or broke, or the registry
    /// was briefly overloaded (5xx, 429), the failures docker's push
    /// retries. A refusal (4xx) or bad content would fail again.
    pub fn is_transient(&self) -> bool {
        match self {
            RegistryError::Unreachable { .. } | RegistryError::Read { .. } => true,
            RegistryError::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}
