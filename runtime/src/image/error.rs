//! The image module's umbrella error, for callers that drive several steps
//! (resolve a reference, pull, read the store) and report one error type.
//! Each variant wraps a module's own error unchanged.

use super::archive::LoadError;
use super::digest::DigestError;
use super::import::ImportError;
use super::reference::ReferenceError;
use super::registry::{PullError, PushError};
use super::store::StoreError;
use super::unpack::UnpackError;

/// Any failure of the image store and its ways in.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Digest(#[from] DigestError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Pull(#[from] PullError),
    #[error(transparent)]
    Push(#[from] PushError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Unpack(#[from] UnpackError),
}
