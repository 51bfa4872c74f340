//! `index.json`: every image in the store, keyed by manifest digest, with
//! the names that point at it. Read without a lock (it is only ever
//! replaced by rename); changed only under `index.lock`.

use super::blobs::write_atomic;
use super::{io_err, ImageStore, StoreError};
use crate::image::digest::Digest;
use crate::image::lock::lock;
use crate::image::reference::Reference;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const INDEX_VERSION: u32 = 1;

/// The on-disk index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexFile {
    pub version: u32,
    pub images: BTreeMap<Digest, ImageRecord>,
}

impl Default for IndexFile {
    fn default() -> Self {
        IndexFile {
            version: INDEX_VERSION,
            images: BTreeMap::new(),
        }
    }
}

/// One image in the store.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImageRecord {
    /// The config digest: the image ID.
    pub config: Digest,
    /// Layers bottom first.
    pub layers: Vec<LayerRecord>,
    /// Full tag references (`docker.io/library/redis:latest`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Full digest references (`docker.io/library/redis@sha256:…`).
    #[serde(default)]
    pub repo_digests: Vec<String>,
    /// Unix seconds when the image was added to the store.
    pub added: u64,
}

impl ImageRecord {
    /// Total unpacked size of the layers, in bytes.
    pub fn size(&self) -> u64 {
        self.layers.iter().map(|l| l.size).sum()
    }
}

/// One layer of an image.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LayerRecord {
    /// The blob as stored (compressed or not).
    pub digest: Digest,
    pub diff_id: Digest,
    pub chain_id: Digest,
    /// Bytes of file content once unpacked.
    pub size: u64,
}

impl IndexFile {
    /// The manifest a reference points at.
    pub fn by_reference(&self, r: &Reference) -> Option<Digest> {
        let want = r.to_string();
        let digest_ref = r
            .digest
            .as_ref()
            .map(|d| r.with_digest(d.clone()).to_string());
        self.images.iter().find_map(|(m, rec)| {
            let hit = match &digest_ref {
                Some(dr) => rec.repo_digests.contains(dr) || (r.digest.as_ref() == Some(m)),
                None => rec.tags.contains(&want),
            };
            hit.then(|| m.clone())
        })
    }

    /// Resolve what a user typed: a reference, an image ID or an ID prefix.
    pub fn lookup(&self, what: &str) -> Result<(Digest, Option<Reference>), StoreError> {
        let not_found = || StoreError::NotFound {
            reference: what.to_string(),
        };
        let hex = what.strip_prefix("sha256:").unwrap_or(what);
        let maybe_id =
            !hex.is_empty() && hex.len() <= 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
        if maybe_id {
            let hits: Vec<&Digest> = self
                .images
                .iter()
                .filter(|(_, rec)| rec.config.hex().starts_with(hex))
                .map(|(m, _)| m)
                .collect();
            match hits.as_slice() {
                [one] => return Ok(((*one).clone(), None)),
                [] => {}
                _ => {
                    return Err(StoreError::Ambiguous {
                        prefix: what.to_string(),
                    })
                }
            }
            if what.starts_with("sha256:") {
                return Err(not_found());
            }
        }
        let r = Reference::parse(what)?;
        let m = self.by_reference(&r).ok_or_else(not_found)?;
        Ok((m, Some(r)))
    }

    /// Point `tag` at `manifest`, taking it away from any other image.
    pub fn set_tag(&mut self, tag: &str, manifest: &Digest) {
        for (m, rec) in self.images.iter_mut() {
            if m != manifest {
                rec.tags.retain(|t| t != tag);
            }
        }
        if let Some(rec) = self.images.get_mut(manifest) {
            if !rec.tags.iter().any(|t| t == tag) {
                rec.tags.push(tag.to_string());
                rec.tags.sort();
            }
        }
    }
}

impl ImageStore {
    fn index_path(&self) -> std::path::PathBuf {
        self.dir.join("index.json")
    }

    /// The current index (empty if none was written yet).
    pub fn read_index(&self) -> Result<IndexFile, StoreError> {
        let path = self.index_path();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|source| StoreError::BadIndex { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(IndexFile::default()),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    /// Change the index under its lock and write it back atomically.
    pub fn update_index<T>(
        &self,
        change: impl FnOnce(&mut IndexFile) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _guard = lock(&self.dir.join("index.lock"), true)?;
        let mut index = self.read_index()?;
        let out = change(&mut index)?;
        let bytes = serde_json::to_vec_pretty(&index).expect("the index serialises");
        write_atomic(&self.index_path(), &bytes)?;
        Ok(out)
    }
}
