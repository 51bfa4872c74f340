//! Turning an overlay upper dir into an OCI layer (image spec `layer.md`,
//! "Representing Changes"): after a build step ran on an overlay of the
//! parent's layers, the upper dir holds exactly what the step changed, in
//! overlayfs's form (kernel `Documentation/filesystems/overlayfs.rst`):
//!
//! - a deleted path is a 0/0 character device: it becomes `.wh.<name>`;
//! - a directory replaced as a whole carries `trusted.overlay.opaque=y`:
//!   it becomes the directory plus `<dir>/.wh..wh..opq`;
//! - everything else is written as it is (owner, mode, mtime, xattrs other
//!   than overlayfs's own `trusted.overlay.*` bookkeeping, hard links).
//!
//! The tarball is deterministic: entries in byte order of their names,
//! parents first, no host-dependent fields, and optionally every mtime
//! clamped (as `SOURCE_DATE_EPOCH` does). It is written once, through two
//! hashers: the tar stream's (the diff ID) and the gzip blob's.

mod walk;

use crate::image::digest::{Digest, HashingWriter};
use flate2::write::GzEncoder;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The media type of the blobs this module writes.
pub const MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// Why a layer diff could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("cannot read `{}` while making a layer: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write the layer for `{}`: {source}", upper.display())]
    Write { upper: PathBuf, source: io::Error },
    #[error("`{}` has a name that does not fit in a tar entry: {source}", path.display())]
    Name { path: PathBuf, source: io::Error },
}

/// How to write the layer.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiffOptions {
    /// Clamp every mtime to at most this (seconds since the epoch);
    /// `Some(0)` zeroes them all. None keeps them.
    pub clamp_mtime: Option<u64>,
}

/// The layer written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerBlob {
    /// sha256 of the uncompressed tar (goes into the config's `rootfs`).
    pub diff_id: Digest,
    /// sha256 of the gzip blob (goes into the manifest).
    pub digest: Digest,
    /// Size of the gzip blob in bytes.
    pub size: u64,
    pub media_type: &'static str,
    /// Tar entries written (whiteouts included); 0 means the step changed
    /// nothing, and a builder may skip the layer (Docker's "empty layer").
    pub entries: usize,
}

/// Write the changes in `upper` over `lowers` (top-most first, as overlay
/// takes them) to `out` as a gzip-compressed OCI layer. `lowers` decide
/// which whiteouts matter: one for a path no lower has hides nothing and
/// is left out.
pub fn write_layer<W: Write>(
    lowers: &[PathBuf],
    upper: &Path,
    out: W,
    options: DiffOptions,
) -> Result<LayerBlob, DiffError> {
    let write_err = |source| DiffError::Write {
        upper: upper.to_path_buf(),
        source,
    };
    let blob = HashingWriter::new(out);
    let gz = GzEncoder::new(blob, flate2::Compression::default());
    let mut tar = tar::Builder::new(HashingWriter::new(gz));
    let entries = walk::Walker::new(lowers, upper, options).write_all(&mut tar)?;
    let plain = tar.into_inner().map_err(write_err)?;
    let (diff_id, _, gz) = plain.finish();
    let blob = gz.finish().map_err(write_err)?;
    let (digest, size, mut out) = blob.finish();
    out.flush().map_err(write_err)?;
    Ok(LayerBlob {
        diff_id,
        digest,
        size,
        media_type: MEDIA_TYPE,
        entries,
    })
}
