//! The content-addressed image store under `$COMPOSE_ROOT/images`:
//!
//! ```text
//! blobs/sha256/<hex>     manifests, configs, layer blobs; verified, temp + rename
//! index.json             images by manifest digest, with their tags
//! layers/<chain-hex>/    unpacked layers, shared between images (overlay lower dirs)
//! layers/<chain-hex>.json  the layer's diff ID and unpacked size
//! tmp/                   partial downloads and unpacks, never visible elsewhere
//! ```
//!
//! Everything other processes read is written to `tmp/` and renamed into
//! place, so a crash or a failed pull leaves nothing half-written visible.

mod blobs;
mod commit;
mod index;
mod layers;
mod remove;
mod stream;
mod tag;

use super::digest::{Digest, DigestError};
use super::lock::{lock, try_lock_exclusive, LockError, LockGuard};
use super::oci::ImageConfig;
use super::reference::{Reference, ReferenceError};
use super::unpack::UnpackError;
use std::io;
use std::path::{Path, PathBuf};

pub use index::{ImageRecord, IndexFile, LayerRecord};
pub use remove::{PruneReport, Removed};

/// The root of all state when `COMPOSE_ROOT` is not set.
pub const DEFAULT_COMPOSE_ROOT: &str = "/var/lib/compose";

/// `$COMPOSE_ROOT`, or `/var/lib/compose`.
pub fn compose_root() -> PathBuf {
    std::env::var_os("COMPOSE_ROOT")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_COMPOSE_ROOT), PathBuf::from)
}

/// What went wrong in the image store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("image store: cannot access `{}`: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("image store: {0}")]
    Lock(#[from] LockError),
    #[error("content digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error("blob {digest} is not in the image store")]
    BlobMissing { digest: Digest },
    #[error("{what} {digest} is not valid JSON of its kind: {source}")]
    BadJson {
        what: &'static str,
        digest: Digest,
        source: serde_json::Error,
    },
    #[error("image store index `{}` is corrupt: {source}", path.display())]
    BadIndex {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("layer {layer}: {source}")]
    Unpack { layer: Digest, source: UnpackError },
    #[error("layer {layer} unpacks to {actual}, but the image config says {expected}")]
    DiffIdMismatch {
        layer: Digest,
        expected: Digest,
        actual: Digest,
    },
    #[error("manifest {manifest} lists {layers} layers but its config has {diff_ids} diff IDs")]
    LayerCount {
        manifest: Digest,
        layers: usize,
        diff_ids: usize,
    },
    #[error("No such image: {reference}")]
    NotFound { reference: String },
    #[error(
        "refusing to create a tag with a digest reference: `{target}` (a tag is `NAME[:TAG]`)"
    )]
    TagWithDigest { target: String },
    #[error("image ID prefix `{prefix}` matches more than one image")]
    Ambiguous { prefix: String },
    #[error("conflict: unable to delete {id} (must be forced) - image is referenced in multiple repositories ({tags})")]
    MultipleTags { id: String, tags: String },
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Digest(#[from] DigestError),
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An image ready to run: its config and its unpacked layers.
#[derive(Debug, Clone)]
pub struct Image {
    /// The image ID: the digest of its config, as Docker shows it.
    pub id: Digest,
    /// The digest of the single-platform manifest.
    pub manifest: Digest,
    pub config: ImageConfig,
    /// Unpacked layer directories, bottom layer first (reverse them for
    /// overlayfs `lowerdir=`, which lists the top layer first).
    pub layer_dirs: Vec<PathBuf>,
    pub record: ImageRecord,
}

/// The image store of one `COMPOSE_ROOT`.
#[derive(Debug, Clone)]
pub struct ImageStore {
    dir: PathBuf,
}

impl ImageStore {
    /// Open (creating its directories) the store under `compose_root`.
    pub fn open(compose_root: &Path) -> Result<ImageStore, StoreError> {
        let dir = compose_root.join("images");
        for sub in ["blobs/sha256", "layers", "tmp", "locks"] {
            let p = dir.join(sub);
            std::fs::create_dir_all(&p).map_err(io_err(&p))?;
        }
        Ok(ImageStore { dir })
    }

    /// Open the store under [`compose_root`].
    pub fn open_default() -> Result<ImageStore, StoreError> {
        ImageStore::open(&compose_root())
    }

    /// The store's directory (`$COMPOSE_ROOT/images`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Hold this while adding content (or while recording that a container
    /// uses an image), so a concurrent `rm`/`prune` cannot collect blobs and
    /// layers that nothing references yet.
    ///
    /// When nobody else is adding or removing, whatever `tmp/` holds was
    /// left by a process that died (SIGKILL, power loss) and is swept first.
    pub fn adding(&self) -> Result<LockGuard, StoreError> {
        let path = self.dir.join("gc.lock");
        if let Some(_alone) = try_lock_exclusive(&path)? {
            self.clear_tmp()?;
        }
        Ok(lock(&path, false)?)
    }

    /// Serialise work on one reference (two pulls of it at once).
    pub fn lock_reference(&self, r: &Reference) -> Result<LockGuard, StoreError> {
        let name = Digest::of(r.to_string().as_bytes());
        Ok(lock(
            &self.dir.join("locks").join(format!("{}.lock", name.hex())),
            true,
        )?)
    }

    fn tmp_dir(&self) -> PathBuf {
        self.dir.join("tmp")
    }

    /// Find an image by reference (`redis`, `x@sha256:…`), full image ID
    /// (`sha256:…`) or ID prefix, as `docker image inspect` does.
    pub fn find(&self, what: &str) -> Result<Image, StoreError> {
        let index = self.read_index()?;
        let (manifest, _) = index.lookup(what)?;
        self.image(&manifest, index.images[&manifest].clone())
    }

    /// The image a reference names, if it is in the store.
    pub fn get(&self, r: &Reference) -> Result<Option<Image>, StoreError> {
        let index = self.read_index()?;
        match index.by_reference(r) {
            Some(manifest) => Ok(Some(
                self.image(&manifest, index.images[&manifest].clone())?,
            )),
            None => Ok(None),
        }
    }

    /// Every image, sorted by first tag then ID.
    pub fn list(&self) -> Result<Vec<ImageRecord>, StoreError> {
        let mut out: Vec<ImageRecord> = self.read_index()?.images.into_values().collect();
        out.sort_by(|a, b| (a.tags.first(), &a.config).cmp(&(b.tags.first(), &b.config)));
        Ok(out)
    }

    /// Read the typed config of an image.
    pub fn config(&self, record: &ImageRecord) -> Result<ImageConfig, StoreError> {
        let bytes = self.read_blob(&record.config)?;
        serde_json::from_slice(&bytes).map_err(|source| StoreError::BadJson {
            what: "image config",
            digest: record.config.clone(),
            source,
        })
    }

    fn image(&self, manifest: &Digest, record: ImageRecord) -> Result<Image, StoreError> {
        let config = self.config(&record)?;
        let layer_dirs = record
            .layers
            .iter()
            .map(|l| self.layer_dir(&l.chain_id))
            .collect();
        Ok(Image {
            id: record.config.clone(),
            manifest: manifest.clone(),
            config,
            layer_dirs,
            record,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_of_dead_writers_are_swept_only_when_nobody_is_adding() {
        let root = tempfile::tempdir().unwrap();
        let store = ImageStore::open(root.path()).unwrap();
        let leftover = store.tmp_dir().join("blob-dead");
        std::fs::write(&leftover, b"partial").unwrap();
        let first = store.adding().unwrap();
        assert!(!leftover.exists(), "swept: nobody else was adding");

        // While `first` adds, a new partial file may be its own: kept.
        std::fs::write(&leftover, b"in progress").unwrap();
        let second = store.adding().unwrap();
        assert!(leftover.exists(), "kept while another writer runs");
        drop((first, second));
    }
}
