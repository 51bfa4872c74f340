//! A stage's filesystem as a stack of layers: the base image's, then one
//! per filesystem-changing step. New layers are written from an upper dir
//! by `diff::write_layer`, stored as blobs and unpacked by the store (so
//! the next RUN can use them as overlay lower dirs); the finished stack is
//! committed as an image.

use super::error::{io, ExecError};
use crate::build::diff::{write_layer, DiffOptions};
use crate::build::BuildError;
use crate::image::digest::Digest;
use crate::image::import::descriptor;
use crate::image::oci::{ImageConfig, Manifest, OCI_CONFIG, OCI_MANIFEST};
use crate::image::{ImageStore, Reference};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// One layer blob of an image being built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRef {
    pub digest: Digest,
    pub diff_id: Digest,
    pub size: u64,
    pub media_type: String,
}

/// The layers of a stage, bottom first, with their unpacked directories.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    pub layers: Vec<LayerRef>,
    pub dirs: Vec<PathBuf>,
}

impl Layers {
    /// The layers of a stored image.
    pub fn of_image(store: &ImageStore, image: &crate::image::Image) -> Result<Layers, ExecError> {
        let manifest = store.manifest(&image.manifest)?;
        let layers = manifest
            .layers
            .iter()
            .zip(&image.record.layers)
            .map(|(d, r)| LayerRef {
                digest: d.digest.clone(),
                diff_id: r.diff_id.clone(),
                size: d.size,
                media_type: d.media_type.clone(),
            })
            .collect();
        Ok(Layers {
            layers,
            dirs: image.layer_dirs.clone(),
        })
    }

    /// Overlay lower dirs, top-most first.
    pub fn lowers(&self) -> Vec<PathBuf> {
        self.dirs.iter().rev().cloned().collect()
    }

    /// Add a stored layer blob on top (unpacking it if needed).
    pub fn push(&mut self, store: &ImageStore, layer: LayerRef) -> Result<(), ExecError> {
        let mut diff_ids: Vec<Digest> = self.layers.iter().map(|l| l.diff_id.clone()).collect();
        diff_ids.push(layer.diff_id.clone());
        let chain = Digest::chain_ids(&diff_ids)
            .pop()
            .expect("one diff ID at least");
        store.ensure_layer(&layer.digest, &layer.diff_id, &chain)?;
        self.dirs.push(store.layer_dir(&chain));
        self.layers.push(layer);
        Ok(())
    }
}

/// Write the changes of `upper` over `lowers` (top first) as a layer blob
/// in the store; None when the step changed nothing.
pub fn store_upper(
    store: &ImageStore,
    lowers: &[PathBuf],
    upper: &Path,
    scratch: &Path,
) -> Result<Option<LayerRef>, ExecError> {
    let tmp = scratch.join("layer.tar.gz");
    let file = std::fs::File::create(&tmp).map_err(io("create", &tmp))?;
    let blob = write_layer(
        lowers,
        upper,
        std::io::BufWriter::new(file),
        DiffOptions::default(),
    )
    .map_err(BuildError::from)?;
    if blob.entries == 0 {
        let _ = std::fs::remove_file(&tmp);
        return Ok(None);
    }
    let file = std::fs::File::open(&tmp).map_err(io("open", &tmp))?;
    store.put_blob_verified(&blob.digest, BufReader::new(file))?;
    let _ = std::fs::remove_file(&tmp);
    Ok(Some(LayerRef {
        digest: blob.digest,
        diff_id: blob.diff_id,
        size: blob.size,
        media_type: blob.media_type.to_string(),
    }))
}

/// Write config and manifest for `layers` and commit the image under
/// `tags`. Returns (image ID, manifest digest).
pub fn commit(
    store: &ImageStore,
    mut config: ImageConfig,
    layers: &Layers,
    tags: &[Reference],
) -> Result<(Digest, Digest), ExecError> {
    config.rootfs.kind = "layers".into();
    config.rootfs.diff_ids = layers.layers.iter().map(|l| l.diff_id.clone()).collect();
    let config_bytes = serde_json::to_vec(&config).expect("config serialises");
    let config_digest = store.put_blob_bytes(&config_bytes)?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_string()),
        config: descriptor(OCI_CONFIG, config_digest.clone(), config_bytes.len() as u64),
        layers: layers
            .layers
            .iter()
            .map(|l| {
                let mut d = descriptor("", l.digest.clone(), l.size);
                d.media_type = l.media_type.clone();
                d
            })
            .collect(),
        annotations: BTreeMap::new(),
    };
    let manifest_bytes = serde_json::to_vec(&manifest).expect("manifest serialises");
    let manifest_digest = store.put_blob_bytes(&manifest_bytes)?;
    store.commit(&manifest_digest, tags)?;
    Ok((config_digest, manifest_digest))
}
