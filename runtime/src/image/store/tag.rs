//! Names added to an image already in the store: `image tag` (a new tag,
//! taken away from any image that had it, as `docker tag` moves it) and
//! the repo digest a push records (`name@sha256:…`, as Docker lists the
//! pushed image under `RepoDigests`).

use super::index::ImageRecord;
use super::{ImageStore, StoreError};
use crate::image::digest::Digest;
use crate::image::reference::Reference;

impl ImageStore {
    /// Give the image `source` names (a reference, an image ID or an ID
    /// prefix, as `docker tag` takes) the tag `target`. A target with a
    /// digest is refused: a digest names content, it cannot be assigned.
    pub fn tag(&self, source: &str, target: &Reference) -> Result<ImageRecord, StoreError> {
        if target.digest.is_some() {
            return Err(StoreError::TagWithDigest {
                target: target.to_string(),
            });
        }
        self.update_index(|index| {
            // Looked up under the index lock: an `rm` cannot remove the
            // image between the lookup and the new tag.
            let (manifest, _) = index.lookup(source)?;
            index.set_tag(&target.to_string(), &manifest);
            Ok(index.images[&manifest].clone())
        })
    }

    /// Record that `name` (a digest reference) holds the image whose
    /// manifest is `manifest`; nothing happens if the image is gone.
    pub fn add_repo_digest(&self, manifest: &Digest, name: &Reference) -> Result<(), StoreError> {
        let name = name.to_string();
        self.update_index(|index| {
            if let Some(rec) = index.images.get_mut(manifest) {
                if !rec.repo_digests.contains(&name) {
                    rec.repo_digests.push(name);
                    rec.repo_digests.sort();
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with_image() -> (tempfile::TempDir, ImageStore, ImageRecord) {
        let root = tempfile::tempdir().unwrap();
        let store = ImageStore::open(root.path()).unwrap();
        let rootfs = root.path().join("rootfs.tar");
        let mut b = tar::Builder::new(Vec::new());
        let mut h = crate::testing::header(tar::EntryType::Regular, 0o644, 2);
        b.append_data(&mut h, "hello", &b"hi"[..]).unwrap();
        std::fs::write(&rootfs, b.into_inner().unwrap()).unwrap();
        let name = Reference::parse("busybox:test").unwrap();
        let rec = crate::image::import::import_rootfs(&store, &rootfs, Some(&name)).unwrap();
        (root, store, rec)
    }

    #[test]
    fn a_tag_is_added_by_reference_or_id_prefix_and_normalised() {
        let (_root, store, rec) = store_with_image();
        let target = Reference::parse("localhost:5000/app:v1").unwrap();
        let tagged = store.tag("busybox:test", &target).unwrap();
        assert_eq!(
            tagged.tags,
            ["docker.io/library/busybox:test", "localhost:5000/app:v1"]
        );
        let by_id = store
            .tag(&rec.config.hex()[..12], &Reference::parse("other").unwrap())
            .unwrap();
        assert!(by_id
            .tags
            .contains(&"docker.io/library/other:latest".to_string()));
        assert_eq!(store.get(&target).unwrap().unwrap().id, rec.config);
    }

    #[test]
    fn unknown_sources_and_digest_targets_are_refused() {
        let (_root, store, rec) = store_with_image();
        let e = store
            .tag("nope:1", &Reference::parse("x:1").unwrap())
            .unwrap_err();
        assert_eq!(e.to_string(), "No such image: nope:1");
        let pinned = Reference::parse(&format!("x@{}", rec.config)).unwrap();
        let e = store.tag("busybox:test", &pinned).unwrap_err();
        assert!(e.to_string().contains("digest"), "{e}");
    }

    #[test]
    fn repo_digests_are_recorded_once() {
        let (_root, store, _rec) = store_with_image();
        let image = store
            .get(&Reference::parse("busybox:test").unwrap())
            .unwrap()
            .unwrap();
        let name = Reference::parse("localhost:5000/app")
            .unwrap()
            .with_digest(image.manifest.clone());
        store.add_repo_digest(&image.manifest, &name).unwrap();
        store.add_repo_digest(&image.manifest, &name).unwrap();
        let rec = store.find("busybox:test").unwrap().record;
        assert_eq!(rec.repo_digests, [name.to_string()]);
    }
}
