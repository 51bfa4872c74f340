//! `image import`: one rootfs tarball (plain, gzip or zstd) becomes a
//! single-layer image with a default config, as `docker import` makes.

use super::compression::{decompress, Compression};
use super::digest::{Digest, HashingReader};
use super::oci::{
    Descriptor, ImageConfig, Manifest, Platform, RootFs, RunConfig, OCI_CONFIG, OCI_MANIFEST,
};
use super::reference::Reference;
use super::store::{ImageRecord, ImageStore, StoreError};
use std::collections::BTreeMap;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read `{}`: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("`{}` is not a valid (compressed) tar archive: {source}", path.display())]
    Corrupt { path: PathBuf, source: io::Error },
    #[error("importing `{}`: {source}", path.display())]
    Store { path: PathBuf, source: StoreError },
}

/// Import the rootfs tarball at `path` as an image named `name` (untagged
/// when `None`).
pub fn import_rootfs(
    store: &ImageStore,
    path: &Path,
    name: Option<&Reference>,
) -> Result<ImageRecord, ImportError> {
    let store_err = |source| ImportError::Store {
        path: path.to_path_buf(),
        source,
    };
    let open = || {
        std::fs::File::open(path).map_err(|source| ImportError::Open {
            path: path.to_path_buf(),
            source,
        })
    };
    let _adding = store.adding().map_err(store_err)?;
    let (layer_digest, layer_size) = store.put_blob(BufReader::new(open()?)).map_err(store_err)?;
    let (compression, diff_id) =
        diff_id_of(store, &layer_digest).map_err(|source| ImportError::Corrupt {
            path: path.to_path_buf(),
            source,
        })?;
    let comment = format!("Imported from {}", path.display());
    let layer = SingleLayer {
        digest: layer_digest,
        size: layer_size,
        compression,
        diff_id,
        run: RunConfig::default(),
        created_by: "compose image import",
        comment: &comment,
    };
    commit_single_layer(store, layer, name).map_err(store_err)
}

/// One layer already in the store as a blob, and what its image's config
/// says around it: `import` and `image bootstrap` both end here.
pub(crate) struct SingleLayer<'a> {
    pub digest: Digest,
    pub size: u64,
    pub compression: Compression,
    pub diff_id: Digest,
    pub run: RunConfig,
    pub created_by: &'a str,
    pub comment: &'a str,
}

/// Write the config and manifest of a one-layer image for the host's
/// platform, unpack the layer and tag the image `name`.
pub(crate) fn commit_single_layer(
    store: &ImageStore,
    layer: SingleLayer<'_>,
    name: Option<&Reference>,
) -> Result<ImageRecord, StoreError> {
    let created = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let host = Platform::host();
    let config = ImageConfig {
        created: Some(created.clone()),
        architecture: host.architecture,
        os: host.os,
        variant: host.variant,
        config: layer.run,
        rootfs: RootFs {
            kind: "layers".to_string(),
            diff_ids: vec![layer.diff_id],
        },
        history: vec![serde_json::json!({
            "created": created,
            "created_by": layer.created_by,
            "comment": layer.comment,
        })],
        ..ImageConfig::default()
    };
    let config_bytes = serde_json::to_vec(&config).expect("config serialises");
    let config_digest = store.put_blob_bytes(&config_bytes)?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_string()),
        config: descriptor(OCI_CONFIG, config_digest, config_bytes.len() as u64),
        layers: vec![descriptor(
            layer.compression.oci_media_type(),
            layer.digest,
            layer.size,
        )],
        annotations: BTreeMap::new(),
    };
    let manifest_bytes = serde_json::to_vec(&manifest).expect("manifest serialises");
    let manifest_digest = store.put_blob_bytes(&manifest_bytes)?;
    let names: Vec<Reference> = name.into_iter().cloned().collect();
    store.commit(&manifest_digest, &names)
}

pub(crate) fn descriptor(media_type: &str, digest: Digest, size: u64) -> Descriptor {
    Descriptor {
        media_type: media_type.to_string(),
        digest,
        size,
        platform: None,
        annotations: BTreeMap::new(),
    }
}

/// The compression and the digest of the uncompressed content of a blob.
pub(crate) fn diff_id_of(store: &ImageStore, blob: &Digest) -> io::Result<(Compression, Digest)> {
    let file = store.open_blob(blob).map_err(io::Error::other)?;
    let (kind, plain) = decompress(BufReader::new(file))?;
    let (digest, _) = HashingReader::new(plain).finish()?;
    Ok((kind, digest))
}
