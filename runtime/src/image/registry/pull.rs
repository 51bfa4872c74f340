//! `image pull`: resolve a reference to a single-platform manifest
//! (choosing from an index), download config and layers in parallel with
//! digests verified, then unpack and tag. Two pulls of one reference
//! serialise on the reference's lock; the second finds every blob present.

use super::client::{FetchedManifest, RegistryClient};
use super::RegistryError;
use crate::image::digest::Digest;
use crate::image::oci::{self, Descriptor, Index, Manifest, Platform};
use crate::image::reference::Reference;
use crate::image::store::{ImageRecord, ImageStore};
use std::io::{self, Read};
use std::sync::Mutex;

/// How many blobs download at once (Docker's default is 3 as well).
const PARALLEL_DOWNLOADS: usize = 3;

/// A failed pull, naming the reference.
#[derive(Debug, thiserror::Error)]
#[error("pulling {reference}: {source}")]
pub struct PullError {
    pub reference: String,
    #[source]
    pub source: Box<RegistryError>,
}

/// Options of a pull.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// The platform to choose from a multi-platform image.
    pub platform: Platform,
    /// The Docker client config holding `auths`; `None`: `$DOCKER_CONFIG`
    /// or `~/.docker/config.json`.
    pub docker_config: Option<std::path::PathBuf>,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions {
            platform: Platform::host(),
            docker_config: None,
        }
    }
}

/// What happened to one layer, for progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerEvent {
    /// The blob was already in the store.
    AlreadyExists,
    /// `done` of `total` bytes downloaded.
    Downloading { done: u64, total: u64 },
    /// Downloaded and verified.
    DownloadComplete,
    /// Unpacking.
    Extracting,
    /// Unpacked (or already unpacked).
    PullComplete,
}

/// Receives progress; called from download threads.
pub trait PullProgress: Sync {
    fn layer(&self, digest: &Digest, event: LayerEvent);
}

/// Progress nobody looks at.
pub struct NoProgress;

impl PullProgress for NoProgress {
    fn layer(&self, _: &Digest, _: LayerEvent) {}
}

/// Whether the pull changed anything, as Docker's final `Status:` line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullStatus {
    Downloaded,
    UpToDate,
}

/// The result of a pull.
#[derive(Debug, Clone)]
pub struct PullOutcome {
    pub record: ImageRecord,
    /// The digest the reference resolved to (index or manifest), as
    /// `docker pull` prints it.
    pub digest: Digest,
    pub status: PullStatus,
}

/// Pull `reference` into `store`.
pub fn pull(
    store: &ImageStore,
    reference: &Reference,
    opts: &PullOptions,
    progress: &dyn PullProgress,
) -> Result<PullOutcome, PullError> {
    pull_inner(store, reference, opts, progress).map_err(|source| PullError {
        reference: reference.to_string(),
        source: Box::new(source),
    })
}

/// The image `reference` names: the local one if the store has it, else
/// pulled (Compose's default `pull_policy: missing`).
pub fn ensure(
    store: &ImageStore,
    reference: &Reference,
    opts: &PullOptions,
    progress: &dyn PullProgress,
) -> Result<crate::image::Image, PullError> {
    let wrap = |source: RegistryError| PullError {
        reference: reference.to_string(),
        source: Box::new(source),
    };
    if let Some(image) = store.get(reference).map_err(|e| wrap(e.into()))? {
        return Ok(image);
    }
    pull(store, reference, opts, progress)?;
    store
        .get(reference)
        .map_err(|e| wrap(e.into()))?
        .ok_or_else(|| {
            wrap(
                crate::image::StoreError::NotFound {
                    reference: reference.to_string(),
                }
                .into(),
            )
        })
}

fn pull_inner(
    store: &ImageStore,
    reference: &Reference,
    opts: &PullOptions,
    progress: &dyn PullProgress,
) -> Result<PullOutcome, RegistryError> {
    let _adding = store.adding()?;
    let _lock = store.lock_reference(reference)?;
    let client = RegistryClient::new(
        &reference.registry,
        &reference.repository,
        opts.docker_config.as_deref(),
    )?;
    let top = client.manifest(&reference.manifest_ref(), &oci::MANIFEST_ACCEPT)?;
    let top_digest = Digest::of(&top.bytes);
    if let Some(pinned) = &reference.digest {
        check_digest(pinned, &top_digest)?;
    }
    let (manifest_digest, manifest_bytes) =
        resolve_platform(&client, top, &top_digest, &opts.platform)?;
    let before = store.get(reference)?.map(|i| i.manifest);
    store.put_blob_verified(&manifest_digest, &manifest_bytes[..])?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|source| RegistryError::BadManifest { source })?;

    // The config first and quietly (Docker shows only layers), then the
    // layers, each unpacked as it downloads when the config names its diff ID.
    let config = [Blob::plain(&manifest.config)];
    download_all(store, &client, &config, &super::NoProgress)?;
    let diff_ids = store.config_of(&manifest.config.digest)?.rootfs.diff_ids;
    let layers = Blob::layers(&manifest.layers, &diff_ids);
    download_all(store, &client, &layers, progress)?;
    for l in &manifest.layers {
        progress.layer(&l.digest, LayerEvent::Extracting);
    }
    let mut names = vec![reference.with_digest(top_digest.clone())];
    if reference.digest.is_none() {
        names.push(reference.clone());
    }
    let record = store.commit(&manifest_digest, &names)?;
    for l in &manifest.layers {
        progress.layer(&l.digest, LayerEvent::PullComplete);
    }
    let status = if before.as_ref() == Some(&manifest_digest) {
        PullStatus::UpToDate
    } else {
        PullStatus::Downloaded
    };
    Ok(PullOutcome {
        record,
        digest: top_digest,
        status,
    })
}

fn check_digest(expected: &Digest, actual: &Digest) -> Result<(), RegistryError> {
    if expected == actual {
        Ok(())
    } else {
        Err(RegistryError::DigestMismatch {
            expected: expected.clone(),
            actual: actual.clone(),
        })
    }
}

/// The media type of a manifest: the response's `Content-Type`, else the
/// document's own `mediaType` field.
fn media_type_of(fetched: &FetchedManifest) -> String {
    let header = fetched
        .media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    if oci::is_index(header) || oci::is_manifest(header) {
        return header.to_string();
    }
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        #[serde(rename = "schemaVersion")]
        schema_version: Option<u32>,
        manifests: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Probe>(&fetched.bytes) {
        // Schema 1 (signed, pre-2016) manifests: Docker dropped them too.
        Ok(Probe {
            schema_version: Some(1),
            ..
        }) => "application/vnd.docker.distribution.manifest.v1+json (schema 1)".to_string(),
        Ok(Probe {
            media_type: Some(m),
            ..
        }) => m,
        Ok(Probe {
            manifests: Some(_), ..
        }) => oci::OCI_INDEX.to_string(),
        _ => oci::OCI_MANIFEST.to_string(),
    }
}

/// Follow an index to the manifest for `platform`; returns its digest and bytes.
fn resolve_platform(
    client: &RegistryClient,
    top: FetchedManifest,
    top_digest: &Digest,
    platform: &Platform,
) -> Result<(Digest, Vec<u8>), RegistryError> {
    let media = media_type_of(&top);
    if oci::is_manifest(&media) {
        return Ok((top_digest.clone(), top.bytes));
    }
    if !oci::is_index(&media) {
        return Err(RegistryError::UnsupportedMediaType {
            digest: top_digest.clone(),
            media_type: media,
        });
    }
    let index: Index = serde_json::from_slice(&top.bytes)
        .map_err(|source| RegistryError::BadManifest { source })?;
    let chosen = index
        .select(platform)
        .ok_or_else(|| RegistryError::NoPlatform {
            platform: platform.to_string(),
            available: available_platforms(&index),
        })?;
    let fetched = client.manifest(&chosen.digest.to_string(), &oci::MANIFEST_ACCEPT)?;
    let digest = Digest::of(&fetched.bytes);
    check_digest(&chosen.digest, &digest)?;
    let media = media_type_of(&fetched);
    if !oci::is_manifest(&media) {
        return Err(RegistryError::UnsupportedMediaType {
            digest,
            media_type: media,
        });
    }
    Ok((digest, fetched.bytes))
}

fn available_platforms(index: &Index) -> String {
    let list: Vec<String> = index
        .manifests
        .iter()
        .filter_map(|d| d.platform.as_ref().map(ToString::to_string))
        .collect();
    if list.is_empty() {
        "none".to_string()
    } else {
        list.join(", ")
    }
}

/// A blob to download, and for a layer the diff ID and chain ID it is
/// unpacked as while it downloads.
struct Blob<'a> {
    desc: &'a Descriptor,
    layer: Option<(Digest, Digest)>,
}

impl<'a> Blob<'a> {
    fn plain(desc: &'a Descriptor) -> Blob<'a> {
        Blob { desc, layer: None }
    }

    /// The layers of a manifest with their config's diff IDs; when the
    /// counts differ the layers download plain and `commit` names the
    /// mismatch.
    fn layers(layers: &'a [Descriptor], diff_ids: &[Digest]) -> Vec<Blob<'a>> {
        if layers.len() != diff_ids.len() {
            return layers.iter().map(Blob::plain).collect();
        }
        let chains = Digest::chain_ids(diff_ids);
        layers
            .iter()
            .zip(diff_ids.iter().zip(chains))
            .map(|(desc, (diff, chain))| Blob {
                desc,
                layer: Some((diff.clone(), chain)),
            })
            .collect()
    }
}

/// Download every missing blob, `PARALLEL_DOWNLOADS` at a time; the first
/// error is returned once running downloads stop.
fn download_all(
    store: &ImageStore,
    client: &RegistryClient,
    blobs: &[Blob<'_>],
    progress: &dyn PullProgress,
) -> Result<(), RegistryError> {
    let queue: Mutex<Vec<&Blob<'_>>> = Mutex::new(Vec::new());
    for b in blobs.iter().rev() {
        if store.has_blob(&b.desc.digest) {
            progress.layer(&b.desc.digest, LayerEvent::AlreadyExists);
        } else {
            queue.lock().expect("queue").push(b);
        }
    }
    let failure: Mutex<Option<RegistryError>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..PARALLEL_DOWNLOADS {
            s.spawn(|| loop {
                if failure.lock().expect("failure").is_some() {
                    return;
                }
                let Some(b) = queue.lock().expect("queue").pop() else {
                    return;
                };
                if let Err(e) = download(store, client, b, progress) {
                    failure.lock().expect("failure").get_or_insert(e);
                }
            });
        }
    });
    match failure.into_inner().expect("failure") {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn download(
    store: &ImageStore,
    client: &RegistryClient,
    b: &Blob<'_>,
    progress: &dyn PullProgress,
) -> Result<(), RegistryError> {
    let d = b.desc;
    let body = client.blob(&d.digest)?;
    // Never read past the declared size: a server streaming forever, or
    // more than it announced, fails the digest check instead of filling the disk.
    let network_error = std::cell::RefCell::new(None);
    let reader = Counting {
        inner: body.take(d.size),
        done: 0,
        total: d.size,
        digest: &d.digest,
        progress,
        error: &network_error,
    };
    let stored = match &b.layer {
        Some((diff_id, chain_id)) => {
            store.put_layer_unpacking(&d.digest, diff_id, chain_id, reader)
        }
        None => store.put_blob_verified(&d.digest, reader),
    };
    // A failed read is the network's fault, not the store's: say so.
    if let Some(source) = network_error.into_inner() {
        return Err(RegistryError::Read {
            url: format!("blob {}", d.digest),
            source,
        });
    }
    stored.map_err(|source| match source {
        crate::image::StoreError::DigestMismatch { expected, actual } => {
            RegistryError::DigestMismatch { expected, actual }
        }
        // These name the layer themselves.
        source @ (crate::image::StoreError::Unpack { .. }
        | crate::image::StoreError::DiffIdMismatch { .. }) => RegistryError::Store(source),
        source => RegistryError::Blob {
            digest: d.digest.clone(),
            source,
        },
    })?;
    progress.layer(&d.digest, LayerEvent::DownloadComplete);
    Ok(())
}

/// Reports download progress as bytes pass.
struct Counting<'a, R> {
    inner: R,
    done: u64,
    total: u64,
    digest: &'a Digest,
    progress: &'a dyn PullProgress,
    error: &'a std::cell::RefCell<Option<io::Error>>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) => {
                let copy = io::Error::new(e.kind(), e.to_string());
                *self.error.borrow_mut() = Some(e);
                return Err(copy);
            }
        };
        self.done += n as u64;
        self.progress.layer(
            self.digest,
            LayerEvent::Downloading {
                done: self.done,
                total: self.total,
            },
        );
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetched(content_type: &str, body: &str) -> FetchedManifest {
        FetchedManifest {
            media_type: content_type.to_string(),
            bytes: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn media_types_come_from_the_header_else_the_document() {
        let t = |ct: &str, body: &str| media_type_of(&fetched(ct, body));
        assert_eq!(t(oci::DOCKER_MANIFEST, "{}"), oci::DOCKER_MANIFEST);
        assert_eq!(t("application/json", r#"{"mediaType":"x/y"}"#), "x/y");
        assert_eq!(
            t("text/plain", r#"{"schemaVersion":2,"manifests":[]}"#),
            oci::OCI_INDEX
        );
        assert_eq!(
            t("text/plain", r#"{"schemaVersion":2,"config":{}}"#),
            oci::OCI_MANIFEST
        );
        assert!(t("application/json", r#"{"schemaVersion":1,"fsLayers":[]}"#).contains("schema 1"));
    }
}
