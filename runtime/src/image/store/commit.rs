//! Adding an image whose manifest, config and layer blobs are already in
//! the store: unpack its layers, then record it (and its names) in the
//! index. Pull, import and load all end here.

use super::index::ImageRecord;
use super::{ImageStore, StoreError};
use crate::image::digest::Digest;
use crate::image::oci::Manifest;
use crate::image::reference::Reference;
use std::time::{SystemTime, UNIX_EPOCH};

impl ImageStore {
    /// Parse the manifest blob `digest`.
    pub fn manifest(&self, digest: &Digest) -> Result<Manifest, StoreError> {
        let bytes = self.read_blob(digest)?;
        serde_json::from_slice(&bytes).map_err(|source| StoreError::BadJson {
            what: "image manifest",
            digest: digest.clone(),
            source,
        })
    }

    /// Unpack the layers of manifest `manifest` and record the image under
    /// `names` (tags move here from other images; digest references are
    /// added as repo digests).
    pub fn commit(
        &self,
        manifest_digest: &Digest,
        names: &[Reference],
    ) -> Result<ImageRecord, StoreError> {
        let manifest = self.manifest(manifest_digest)?;
        let config_digest = manifest.config.digest.clone();
        let config = self.config_of(&config_digest)?;
        let diff_ids = &config.rootfs.diff_ids;
        if diff_ids.len() != manifest.layers.len() {
            return Err(StoreError::LayerCount {
                manifest: manifest_digest.clone(),
                layers: manifest.layers.len(),
                diff_ids: diff_ids.len(),
            });
        }
        let chains = Digest::chain_ids(diff_ids);
        let mut layers = Vec::with_capacity(chains.len());
        for ((layer, diff_id), chain) in manifest.layers.iter().zip(diff_ids).zip(&chains) {
            layers.push(self.ensure_layer(&layer.digest, diff_id, chain)?);
        }
        let added = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.update_index(|index| {
            let mut tags = Vec::new();
            let rec = index
                .images
                .entry(manifest_digest.clone())
                .or_insert_with(|| ImageRecord {
                    config: config_digest.clone(),
                    layers: layers.clone(),
                    tags: Vec::new(),
                    repo_digests: Vec::new(),
                    added,
                });
            for name in names {
                match &name.digest {
                    Some(d) => {
                        let s = name.with_digest(d.clone()).to_string();
                        if !rec.repo_digests.contains(&s) {
                            rec.repo_digests.push(s);
                            rec.repo_digests.sort();
                        }
                    }
                    None => tags.push(name.to_string()),
                }
            }
            for tag in &tags {
                index.set_tag(tag, manifest_digest);
            }
            Ok(index.images[manifest_digest].clone())
        })
    }

    /// Parse the image config blob `digest`.
    pub fn config_of(&self, digest: &Digest) -> Result<crate::image::oci::ImageConfig, StoreError> {
        let bytes = self.read_blob(digest)?;
        serde_json::from_slice(&bytes).map_err(|source| StoreError::BadJson {
            what: "image config",
            digest: digest.clone(),
            source,
        })
    }
}
