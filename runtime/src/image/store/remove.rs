//! Removing images (`image rm`, `image prune`) and collecting the blobs and
//! layers no image needs any more. Runs under the exclusive `gc.lock`, so
//! no pull, import or load is adding content meanwhile.

use super::index::IndexFile;
use super::{io_err, ImageStore, StoreError};
use crate::image::digest::Digest;
use crate::image::lock::lock;
use std::collections::BTreeSet;
use std::path::Path;

/// One line of `image rm` / `image prune` output, as Docker prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removed {
    /// A name was removed from an image that stays.
    Untagged(String),
    /// The image itself (its ID) was deleted.
    Deleted(Digest),
}

/// What a prune did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub removed: Vec<Removed>,
    /// Bytes of blobs and unpacked layers freed.
    pub reclaimed: u64,
}

impl ImageStore {
    /// Remove an image by reference or ID, as `docker image rm`: a
    /// reference removes that name (and the image when no name is left);
    /// an ID removes the image, which needs `force` when it has several tags.
    pub fn remove(&self, what: &str, force: bool) -> Result<PruneReport, StoreError> {
        let _gc = lock(&self.dir.join("gc.lock"), true)?;
        let removed = self.update_index(|index| remove_in_index(index, what, force))?;
        let reclaimed = self.collect_garbage()?;
        Ok(PruneReport { removed, reclaimed })
    }

    /// Remove dangling (untagged) images, or with `all` every image not in
    /// `in_use` (image IDs used by containers), then collect garbage.
    pub fn prune(&self, all: bool, in_use: &BTreeSet<Digest>) -> Result<PruneReport, StoreError> {
        let _gc = lock(&self.dir.join("gc.lock"), true)?;
        let removed = self.update_index(|index| {
            let doomed: Vec<Digest> = index
                .images
                .iter()
                .filter(|(_, r)| !in_use.contains(&r.config) && (all || r.tags.is_empty()))
                .map(|(m, _)| m.clone())
                .collect();
            let mut out = Vec::new();
            for m in doomed {
                if let Some(rec) = index.images.remove(&m) {
                    out.extend(rec.tags.into_iter().map(Removed::Untagged));
                    out.push(Removed::Deleted(rec.config));
                }
            }
            Ok(out)
        })?;
        let reclaimed = self.collect_garbage()?;
        Ok(PruneReport { removed, reclaimed })
    }

    /// Delete every blob and layer no image in the index refers to, and
    /// anything left in `tmp/`. Returns the bytes freed. Callers hold the
    /// exclusive gc lock.
    fn collect_garbage(&self) -> Result<u64, StoreError> {
        let index = self.read_index()?;
        let mut blobs = BTreeSet::new();
        let mut layers = BTreeSet::new();
        for (m, rec) in &index.images {
            blobs.insert(m.hex().to_string());
            blobs.insert(rec.config.hex().to_string());
            for l in &rec.layers {
                blobs.insert(l.digest.hex().to_string());
                layers.insert(l.chain_id.hex().to_string());
            }
        }
        let mut freed = 0;
        for entry in read_dir(&self.dir.join("blobs/sha256"))? {
            if !blobs.contains(&entry.0) {
                freed += remove_path(&entry.1)?;
            }
        }
        for entry in read_dir(&self.dir.join("layers"))? {
            let stem = entry.0.trim_end_matches(".json");
            if !layers.contains(stem) {
                freed += remove_path(&entry.1)?;
            }
        }
        self.clear_tmp()?;
        Ok(freed)
    }

    /// Remove everything in `tmp/`: partial downloads and unpacks of
    /// processes that are gone. Callers hold the gc lock exclusively.
    pub(super) fn clear_tmp(&self) -> Result<(), StoreError> {
        for entry in read_dir(&self.tmp_dir())? {
            remove_path(&entry.1)?;
        }
        Ok(())
    }

    /// Disk usage: (bytes of blobs, bytes of unpacked layers).
    pub fn disk_usage(&self) -> Result<(u64, u64), StoreError> {
        let mut blobs = 0;
        for (_, p) in read_dir(&self.dir.join("blobs/sha256"))? {
            blobs += du(&p)?;
        }
        let mut layers = 0;
        for (_, p) in read_dir(&self.dir.join("layers"))? {
            layers += du(&p)?;
        }
        Ok((blobs, layers))
    }
}

fn remove_in_index(
    index: &mut IndexFile,
    what: &str,
    force: bool,
) -> Result<Vec<Removed>, StoreError> {
    let (manifest, by_name) = index.lookup(what)?;
    let rec = index
        .images
        .get_mut(&manifest)
        .expect("lookup returns a present image");
    let mut out = Vec::new();
    match by_name {
        Some(r) => {
            let name = r.to_string();
            let digest_name = r
                .digest
                .as_ref()
                .map(|d| r.with_digest(d.clone()).to_string());
            let before = rec.tags.len() + rec.repo_digests.len();
            rec.tags.retain(|t| t != &name);
            if let Some(dn) = &digest_name {
                rec.repo_digests.retain(|t| t != dn);
            }
            if rec.tags.len() + rec.repo_digests.len() < before {
                out.push(Removed::Untagged(digest_name.unwrap_or(name)));
            }
            if !rec.tags.is_empty() {
                return Ok(out);
            }
            // Docker removes the image with its last tag, repo digests and all.
            out.extend(rec.repo_digests.drain(..).map(Removed::Untagged));
        }
        None => {
            if rec.tags.len() > 1 && !force {
                return Err(StoreError::MultipleTags {
                    id: rec.config.short().to_string(),
                    tags: rec.tags.join(", "),
                });
            }
            out.extend(rec.tags.drain(..).map(Removed::Untagged));
            out.extend(rec.repo_digests.drain(..).map(Removed::Untagged));
        }
    }
    let rec = index.images.remove(&manifest).expect("present");
    out.push(Removed::Deleted(rec.config));
    Ok(out)
}

fn read_dir(dir: &Path) -> Result<Vec<(String, std::path::PathBuf)>, StoreError> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let e = e.map_err(io_err(dir))?;
        out.push((e.file_name().to_string_lossy().into_owned(), e.path()));
    }
    Ok(out)
}

fn du(path: &Path) -> Result<u64, StoreError> {
    let meta = std::fs::symlink_metadata(path).map_err(io_err(path))?;
    if !meta.is_dir() {
        return Ok(if meta.is_file() { meta.len() } else { 0 });
    }
    let mut total = 0;
    for (_, p) in read_dir(path)? {
        total += du(&p)?;
    }
    Ok(total)
}

fn remove_path(path: &Path) -> Result<u64, StoreError> {
    let size = du(path)?;
    let meta = std::fs::symlink_metadata(path).map_err(io_err(path))?;
    let res = if meta.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    res.map_err(io_err(path))?;
    Ok(size)
}
