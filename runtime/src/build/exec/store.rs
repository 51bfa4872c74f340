//! The build cache: `$COMPOSE_ROOT/build-cache/<key>.json` maps a step's
//! cache key to its result, the layer it added (or none) and when it was
//! made (so a fully cached rebuild reproduces the same image ID, as
//! BuildKit's does). Entries are written atomically; an unreadable entry
//! or one whose blob left the store is a miss.

use super::layers::LayerRef;
use crate::image::digest::Digest;
use crate::image::ImageStore;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A cached step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheEntry {
    pub layer: Option<LayerRef>,
    /// RFC 3339 time the step first ran (its history entry's `created`).
    pub created: String,
}

/// The cache directory of one compose root.
#[derive(Debug, Clone)]
pub struct CacheStore {
    dir: PathBuf,
}

impl CacheStore {
    pub fn new(compose_root: &std::path::Path) -> CacheStore {
        CacheStore {
            dir: compose_root.join("build-cache"),
        }
    }

    fn path(&self, key: &Digest) -> PathBuf {
        self.dir.join(format!("{}.json", key.hex()))
    }

    /// The entry for `key`, if present and its layer blob is still stored.
    pub fn get(&self, key: &Digest, store: &ImageStore) -> Option<CacheEntry> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        let entry: CacheEntry = serde_json::from_slice(&bytes).ok()?;
        match &entry.layer {
            Some(l) if !store.has_blob(&l.digest) => None,
            _ => Some(entry),
        }
    }

    /// Record `entry` under `key`; a failure only costs a later rebuild.
    pub fn put(&self, key: &Digest, entry: &CacheEntry) {
        if std::fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        let tmp = self
            .dir
            .join(format!(".{}.{}.tmp", key.hex(), std::process::id()));
        let bytes = serde_json::to_vec(entry).expect("cache entry serialises");
        if std::fs::write(&tmp, bytes).is_ok() {
            let _ = std::fs::rename(&tmp, self.path(key));
        }
    }

    /// Forget every entry (`compose builder prune`-like).
    pub fn clear(&self) -> std::io::Result<()> {
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_missing_blobs_miss() {
        let root = tempfile::tempdir().unwrap();
        let store = ImageStore::open(root.path()).unwrap();
        let cache = CacheStore::new(root.path());
        let key = Digest::of(b"key");
        assert_eq!(cache.get(&key, &store), None);
        let empty = CacheEntry {
            layer: None,
            created: "2024-01-01T00:00:00Z".into(),
        };
        cache.put(&key, &empty);
        assert_eq!(cache.get(&key, &store), Some(empty));
        let blob = store.put_blob_bytes(b"layer").unwrap();
        let with_layer = CacheEntry {
            layer: Some(LayerRef {
                digest: blob,
                diff_id: Digest::of(b"diff"),
                size: 5,
                media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
            }),
            created: "2024-01-01T00:00:00Z".into(),
        };
        let other = Digest::of(b"other");
        cache.put(&other, &with_layer);
        assert_eq!(cache.get(&other, &store), Some(with_layer.clone()));
        let mut gone = with_layer;
        gone.layer.as_mut().unwrap().digest = Digest::of(b"not stored");
        cache.put(&other, &gone);
        assert_eq!(cache.get(&other, &store), None, "blob gone: a miss");
    }
}
