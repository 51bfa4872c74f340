//! Unpacking one layer tarball into its own directory, in the form overlayfs
//! reads as a lower dir (kernel `Documentation/filesystems/overlayfs.rst`):
//! an OCI whiteout `.wh.NAME` becomes a 0/0 character device `NAME`, and an
//! opaque marker `.wh..wh..opq` becomes `trusted.overlay.opaque=y` on its
//! directory (OCI image spec `layer.md`, "Whiteouts").
//!
//! Layer tarballs are hostile input. Every entry path is checked before it
//! touches the disk: absolute paths, `..`, a parent that is a symlink, and
//! hard links whose target leaves the layer are rejected with an error
//! naming the entry, never silently skipped; files are created with
//! `O_EXCL` after removing what was there, so a symlink planted by an
//! earlier entry is never written through.

mod entry;
mod path;

use super::compression::{decompress, Compression};
use super::digest::{Digest, HashingReader};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

pub use path::EscapeKind;

/// Why a layer could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("layer is not a valid {format} stream (corrupt or truncated): {source}")]
    Corrupt {
        /// `gzip-compressed tar`, `zstd-compressed tar` or `tar`.
        format: &'static str,
        source: io::Error,
    },
    #[error("layer entry `{entry}` {kind}; refusing to unpack it")]
    Escape { entry: String, kind: EscapeKind },
    #[error("layer entry `{entry}`: parent `{parent}` is not a directory")]
    NotADirectory { entry: String, parent: String },
    #[error("layer entry `{entry}` is a hard link to `{target}`, which is not an earlier file of this layer")]
    MissingLinkTarget { entry: String, target: String },
    #[error("layer entry `{entry}` has unsupported type {kind}")]
    UnsupportedType { entry: String, kind: String },
    #[error("cannot write `{}` while unpacking a layer: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot set {what} on `{}` while unpacking a layer: {source}", path.display())]
    Metadata {
        path: PathBuf,
        what: &'static str,
        source: io::Error,
    },
}

/// What unpacking a layer found out.
#[derive(Debug, Clone)]
pub struct Unpacked {
    /// The sha256 of the uncompressed tar stream (the layer's DiffID).
    pub diff_id: Digest,
    /// How the blob was compressed.
    pub compression: Compression,
    /// Bytes of regular file content written.
    pub size: u64,
}

/// Unpack the (gzip, zstd or plain) tar stream `blob` into the existing,
/// empty directory `dest`.
pub fn unpack_layer<R: Read>(blob: R, dest: &Path) -> Result<Unpacked, UnpackError> {
    let (compression, plain) = decompress(blob).map_err(|source| UnpackError::Corrupt {
        format: "tar",
        source,
    })?;
    // Name the stream's real format in errors: "corrupt gzip" is what a
    // user needs to read when a download went wrong.
    unpack_plain(plain, compression, dest).map_err(|e| match e {
        UnpackError::Corrupt { source, .. } => UnpackError::Corrupt {
            format: compression.describe(),
            source,
        },
        other => other,
    })
}

fn unpack_plain<R: Read>(
    plain: R,
    compression: Compression,
    dest: &Path,
) -> Result<Unpacked, UnpackError> {
    let corrupt = |source| UnpackError::Corrupt {
        format: "tar",
        source,
    };
    let mut archive = tar::Archive::new(HashingReader::new(plain));
    let mut state = entry::State::new(dest);
    state.set_root_mode(0o755)?;
    for item in archive.entries().map_err(corrupt)? {
        state.apply(item.map_err(corrupt)?)?;
    }
    let (diff_id, _) = archive.into_inner().finish().map_err(corrupt)?;
    state.finish()?;
    Ok(Unpacked {
        diff_id,
        compression,
        size: state.size,
    })
}
