//! Unpacked layers, one directory per chain ID, shared by every image that
//! has the same layer stack below. A layer is unpacked into `tmp/` and
//! renamed into `layers/` whole; its diff ID is checked against the image
//! config before the rename.

use super::blobs::write_atomic;
use super::index::LayerRecord;
use super::{io_err, ImageStore, StoreError};
use crate::image::digest::Digest;
use crate::image::unpack::unpack_layer;
use serde::{Deserialize, Serialize};
use std::io::BufReader;
use std::path::PathBuf;

/// What `layers/<chain-hex>.json` records about an unpacked layer.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LayerMeta {
    diff_id: Digest,
    size: u64,
}

impl ImageStore {
    /// The directory of the unpacked layer stack `chain_id`.
    pub fn layer_dir(&self, chain_id: &Digest) -> PathBuf {
        self.dir.join("layers").join(chain_id.hex())
    }

    fn layer_meta_path(&self, chain_id: &Digest) -> PathBuf {
        self.dir
            .join("layers")
            .join(format!("{}.json", chain_id.hex()))
    }

    /// Make sure layer blob `blob`, whose uncompressed digest must be
    /// `diff_id`, is unpacked as `chain_id`. Unpacks at most once.
    pub fn ensure_layer(
        &self,
        blob: &Digest,
        diff_id: &Digest,
        chain_id: &Digest,
    ) -> Result<LayerRecord, StoreError> {
        if let Some(meta) = self.existing_layer(chain_id)? {
            return Ok(LayerRecord {
                digest: blob.clone(),
                diff_id: meta.diff_id,
                chain_id: chain_id.clone(),
                size: meta.size,
            });
        }
        let tmp = self.temp_layer_dir()?;
        let file = self.open_blob(blob)?;
        let unpacked = unpack_layer(BufReader::new(file), tmp.path()).map_err(|source| {
            StoreError::Unpack {
                layer: blob.clone(),
                source,
            }
        })?;
        if &unpacked.diff_id != diff_id {
            return Err(StoreError::DiffIdMismatch {
                layer: blob.clone(),
                expected: diff_id.clone(),
                actual: unpacked.diff_id,
            });
        }
        self.install_layer(tmp, blob, diff_id, chain_id, unpacked.size)
    }

    /// Move the unpacked layer `tmp` (its diff ID checked) into place as
    /// `chain_id`, with its metadata.
    pub(super) fn install_layer(
        &self,
        tmp: tempfile::TempDir,
        blob: &Digest,
        diff_id: &Digest,
        chain_id: &Digest,
        size: u64,
    ) -> Result<LayerRecord, StoreError> {
        let meta = LayerMeta {
            diff_id: diff_id.clone(),
            size,
        };
        write_atomic(
            &self.layer_meta_path(chain_id),
            &serde_json::to_vec(&meta).expect("serialises"),
        )?;
        let dest = self.layer_dir(chain_id);
        let tmp_path = tmp.keep();
        if let Err(e) = std::fs::rename(&tmp_path, &dest) {
            // Another process unpacked the same layer first: keep theirs.
            let _ = std::fs::remove_dir_all(&tmp_path);
            if !dest.is_dir() {
                return Err(io_err(&dest)(e));
            }
        }
        Ok(LayerRecord {
            digest: blob.clone(),
            diff_id: diff_id.clone(),
            chain_id: chain_id.clone(),
            size,
        })
    }

    /// A fresh directory in `tmp/` to unpack a layer into.
    pub(super) fn temp_layer_dir(&self) -> Result<tempfile::TempDir, StoreError> {
        tempfile::Builder::new()
            .prefix("layer-")
            .tempdir_in(self.tmp_dir())
            .map_err(io_err(&self.tmp_dir()))
    }

    /// Whether the layer stack `chain_id` is unpacked.
    pub fn has_layer(&self, chain_id: &Digest) -> bool {
        self.layer_dir(chain_id).is_dir()
    }

    fn existing_layer(&self, chain_id: &Digest) -> Result<Option<LayerMeta>, StoreError> {
        if !self.layer_dir(chain_id).is_dir() {
            return Ok(None);
        }
        let path = self.layer_meta_path(chain_id);
        let bytes = std::fs::read(&path).map_err(io_err(&path))?;
        Ok(Some(
            serde_json::from_slice(&bytes)
                .map_err(|source| StoreError::BadIndex { path, source })?,
        ))
    }
}
