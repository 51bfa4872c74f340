//! `image push`: send a stored image to a registry as it is stored, so its
//! manifest digest stays the same. Every layer the repository lacks is
//! mounted from another repository of the same registry when the store
//! knows one that has it (the image's or another image's repo digests),
//! else uploaded, up to five at once; then the config, then the manifest
//! under the tag. The pushed `name@digest` is recorded as a repo digest, so
//! the next push of these blobs to a sibling repository mounts them.
//!
//! Layers are pushed exactly as the store holds them: pull keeps the
//! registry's blobs, the builder writes gzip blobs (`build/diff`), and
//! `import`/`load` keep the tarball's own compression with a media type
//! saying which. Every blob a manifest names is therefore in the store
//! (garbage collection keeps them while the image exists), and recompressing
//! one would change the manifest and its digest.

use super::client::RegistryClient;
use super::upload::{BlobOutcome, UploadStart};
use super::{NoProgress, RegistryError};
use crate::image::digest::Digest;
use crate::image::oci::{self, Manifest};
use crate::image::reference::Reference;
use crate::image::store::{ImageStore, StoreError};
use std::collections::BTreeSet;
use std::io::{self, Read};
use std::sync::Mutex;

/// How many blobs upload at once (Docker's `max-concurrent-uploads`).
const PARALLEL_UPLOADS: usize = 5;

/// Why a push failed; each names the reference.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("An image does not exist locally with the tag: {reference}")]
    NotLocal { reference: String },
    #[error("cannot push `{reference}`: a digest names content, not a place in a repository; push a tag (`compose image tag` adds one)")]
    DigestReference { reference: String },
    #[error("pushing {reference}: {source}")]
    Registry {
        reference: String,
        #[source]
        source: Box<RegistryError>,
    },
}

/// Blobs up to this size go up in one `PUT`; bigger ones in `PATCH`
/// chunks of this size, which fit under the request-size limits of the
/// proxies some registries sit behind.
pub const DEFAULT_CHUNK_SIZE: u64 = 64 * 1024 * 1024;

/// Options of a push.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// The Docker client config holding `auths`; `None`: `$DOCKER_CONFIG`
    /// or `~/.docker/config.json`.
    pub docker_config: Option<std::path::PathBuf>,
    /// Blobs bigger than this are uploaded in chunks of this size.
    pub chunk_size: u64,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            docker_config: None,
            chunk_size: DEFAULT_CHUNK_SIZE,
        }
    }
}

/// What happened to one layer, for progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushEvent {
    /// Listed, not started.
    Preparing,
    /// `done` of `total` bytes sent.
    Pushing { done: u64, total: u64 },
    /// The layer is in the repository.
    Done(BlobOutcome),
}

/// Receives progress, keyed by the layer's diff ID (what `docker push`
/// shows); called from upload threads.
pub trait PushProgress: Sync {
    fn layer(&self, diff_id: &Digest, event: &PushEvent);
}

impl PushProgress for NoProgress {
    fn layer(&self, _: &Digest, _: &PushEvent) {}
}

/// The result of a push.
#[derive(Debug, Clone)]
pub struct PushOutcome {
    /// The tag pushed (`latest` when the reference had none).
    pub tag: String,
    /// The manifest's digest, the same locally and in the registry.
    pub digest: Digest,
    /// The manifest's size in bytes.
    pub size: u64,
    /// Each distinct layer blob, bottom first, and how it got there.
    pub layers: Vec<(Digest, BlobOutcome)>,
}

/// Push the image tagged `reference` in `store` to its registry.
pub fn push(
    store: &ImageStore,
    reference: &Reference,
    opts: &PushOptions,
    progress: &dyn PushProgress,
) -> Result<PushOutcome, PushError> {
    if reference.digest.is_some() {
        return Err(PushError::DigestReference {
            reference: reference.to_string(),
        });
    }
    let wrap = |source: RegistryError| PushError::Registry {
        reference: reference.to_string(),
        source: Box::new(source),
    };
    // Shared gc lock: no `rm`/`prune` collects a blob while it uploads.
    let _adding = store.adding().map_err(|e| wrap(e.into()))?;
    let image = store
        .get(reference)
        .map_err(|e| wrap(e.into()))?
        .ok_or_else(|| PushError::NotLocal {
            reference: familiar(reference),
        })?;
    push_image(store, reference, &image, opts, progress).map_err(wrap)
}

/// `localhost:5000/app:v1`, `redis:latest`: the reference as Docker names
/// it in messages.
fn familiar(r: &Reference) -> String {
    format!(
        "{}:{}",
        r.familiar_name(),
        r.tag.as_deref().unwrap_or("latest")
    )
}

/// One blob to push.
struct PushBlob {
    digest: Digest,
    /// Progress key: the diff ID of a layer; None for the config.
    shown_as: Option<Digest>,
    /// A repository of the same registry known to have it.
    mount_from: Option<String>,
}

fn push_image(
    store: &ImageStore,
    reference: &Reference,
    image: &crate::image::Image,
    opts: &PushOptions,
    progress: &dyn PushProgress,
) -> Result<PushOutcome, RegistryError> {
    let manifest_bytes = store.read_blob(&image.manifest)?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|source| RegistryError::BadManifest { source })?;
    let (config, layers) = plan_blobs(store, reference, &manifest, &image.config.rootfs.diff_ids)?;
    let sources: BTreeSet<String> = layers
        .iter()
        .chain(std::iter::once(&config))
        .filter_map(|b| b.mount_from.clone())
        .collect();
    let sources: Vec<String> = sources.into_iter().collect();
    let client = RegistryClient::for_push(
        &reference.registry,
        &reference.repository,
        &sources,
        opts.docker_config.as_deref(),
    )?;
    for l in &layers {
        if let Some(id) = &l.shown_as {
            progress.layer(id, &PushEvent::Preparing);
        }
    }
    let chunk = opts.chunk_size;
    let outcomes = push_all(store, &client, &layers, chunk, progress)?;
    push_blob(store, &client, &config, chunk, &NoProgress)?;
    let tag = reference
        .tag
        .clone()
        .unwrap_or_else(|| "latest".to_string());
    let media_type = manifest_media_type(&manifest);
    let local = image.manifest.clone();
    if let Some(remote) = client.put_manifest(&tag, &media_type, &manifest_bytes)? {
        if remote != local {
            return Err(RegistryError::DigestMismatch {
                expected: local,
                actual: remote,
            });
        }
    }
    store.add_repo_digest(&local, &reference.with_digest(local.clone()))?;
    Ok(PushOutcome {
        tag,
        digest: local,
        size: manifest_bytes.len() as u64,
        layers: layers.into_iter().map(|l| l.digest).zip(outcomes).collect(),
    })
}

/// The config and the distinct layer blobs of `manifest`, each checked to
/// be in the store before anything is sent, with a mount source if the
/// store knows one.
fn plan_blobs(
    store: &ImageStore,
    reference: &Reference,
    manifest: &Manifest,
    diff_ids: &[Digest],
) -> Result<(PushBlob, Vec<PushBlob>), RegistryError> {
    let index = store.read_index()?;
    let blob = |digest: &Digest, shown_as: Option<Digest>| {
        if !store.has_blob(digest) {
            return Err(RegistryError::Store(StoreError::BlobMissing {
                digest: digest.clone(),
            }));
        }
        Ok(PushBlob {
            digest: digest.clone(),
            shown_as,
            mount_from: mount_source(&index, reference, digest),
        })
    };
    let config = blob(&manifest.config.digest, None)?;
    let mut seen = BTreeSet::new();
    let mut layers = Vec::new();
    for (i, l) in manifest.layers.iter().enumerate() {
        if seen.insert(l.digest.clone()) {
            let shown = diff_ids.get(i).cloned().unwrap_or_else(|| l.digest.clone());
            layers.push(blob(&l.digest, Some(shown))?);
        }
    }
    Ok((config, layers))
}

/// A repository of `reference`'s registry (other than its own) that has
/// blob `digest`: one named by a repo digest of a stored image that uses
/// the blob. The first in order, so the choice is stable.
fn mount_source(
    index: &crate::image::store::IndexFile,
    reference: &Reference,
    digest: &Digest,
) -> Option<String> {
    index
        .images
        .values()
        .filter(|rec| &rec.config == digest || rec.layers.iter().any(|l| &l.digest == digest))
        .flat_map(|rec| rec.repo_digests.iter())
        .filter_map(|rd| Reference::parse(rd).ok())
        .filter(|r| r.registry == reference.registry && r.repository != reference.repository)
        .map(|r| r.repository)
        .min()
}

/// The manifest's own `mediaType`, else what its config's type implies
/// (an OCI manifest may leave the field out; image-spec `manifest.md`).
fn manifest_media_type(m: &Manifest) -> String {
    match &m.media_type {
        Some(t) if !t.is_empty() => t.clone(),
        _ if m.config.media_type == oci::DOCKER_CONFIG => oci::DOCKER_MANIFEST.to_string(),
        _ => oci::OCI_MANIFEST.to_string(),
    }
}

/// Push every blob, `PARALLEL_UPLOADS` at a time; the first error is
/// returned once running uploads stop. Outcomes in the order of `blobs`.
fn push_all(
    store: &ImageStore,
    client: &RegistryClient,
    blobs: &[PushBlob],
    chunk: u64,
    progress: &dyn PushProgress,
) -> Result<Vec<BlobOutcome>, RegistryError> {
    let queue: Mutex<Vec<usize>> = Mutex::new((0..blobs.len()).rev().collect());
    let outcomes: Mutex<Vec<Option<BlobOutcome>>> = Mutex::new(vec![None; blobs.len()]);
    let failure: Mutex<Option<RegistryError>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..PARALLEL_UPLOADS.min(blobs.len()) {
            s.spawn(|| loop {
                if failure.lock().expect("failure").is_some() {
                    return;
                }
                let Some(i) = queue.lock().expect("queue").pop() else {
                    return;
                };
                match push_blob(store, client, &blobs[i], chunk, progress) {
                    Ok(o) => outcomes.lock().expect("outcomes")[i] = Some(o),
                    Err(e) => {
                        failure.lock().expect("failure").get_or_insert(e);
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().expect("failure") {
        return Err(e);
    }
    Ok(outcomes
        .into_inner()
        .expect("outcomes")
        .into_iter()
        .map(|o| o.expect("every blob pushed without failure has an outcome"))
        .collect())
}

/// Make one blob present in the target repository.
fn push_blob(
    store: &ImageStore,
    client: &RegistryClient,
    blob: &PushBlob,
    chunk: u64,
    progress: &dyn PushProgress,
) -> Result<BlobOutcome, RegistryError> {
    let outcome = with_retries(RETRY_DELAYS, || {
        send_blob(store, client, blob, chunk, progress)
    })?;
    if let Some(id) = &blob.shown_as {
        progress.layer(id, &PushEvent::Done(outcome.clone()));
    }
    Ok(outcome)
}

/// Pauses between tries of one blob after a transient failure (docker
/// retries a layer push up to 5 times, backing off).
const RETRY_DELAYS: &[std::time::Duration] = &[
    std::time::Duration::from_millis(200),
    std::time::Duration::from_millis(600),
    std::time::Duration::from_millis(1500),
    std::time::Duration::from_millis(3000),
];

/// Run `op`, again after each of `delays` while it fails transiently.
/// A blob upload starts over from its existence check, so a session the
/// registry dropped half way is never resumed.
fn with_retries<T>(
    delays: &[std::time::Duration],
    mut op: impl FnMut() -> Result<T, RegistryError>,
) -> Result<T, RegistryError> {
    let mut delays = delays.iter();
    loop {
        match op() {
            Err(e) if e.is_transient() => match delays.next() {
                Some(delay) => std::thread::sleep(*delay),
                None => return Err(e),
            },
            other => return other,
        }
    }
}

fn send_blob(
    store: &ImageStore,
    client: &RegistryClient,
    blob: &PushBlob,
    chunk: u64,
    progress: &dyn PushProgress,
) -> Result<BlobOutcome, RegistryError> {
    let d = &blob.digest;
    if client.blob_exists(d)? {
        return Ok(BlobOutcome::AlreadyExists);
    }
    let mount = blob.mount_from.as_deref().map(|from| (d, from));
    let location = match client.start_upload(mount)? {
        UploadStart::Mounted => {
            return Ok(BlobOutcome::Mounted {
                from: blob.mount_from.clone().unwrap_or_default(),
            })
        }
        UploadStart::Session(location) => location,
    };
    let path = store.blob_path(d);
    let size = std::fs::metadata(&path)
        .map_err(|source| RegistryError::Blob {
            digest: d.clone(),
            source: StoreError::Io {
                path: path.clone(),
                source,
            },
        })?
        .len();
    // The bytes of [offset, offset + len), counted from `offset` on.
    let open = |offset: u64, len: u64| -> io::Result<Box<dyn Read + '_>> {
        let mut file = std::fs::File::open(&path)?;
        io::Seek::seek(&mut file, io::SeekFrom::Start(offset))?;
        Ok(Box::new(Counting {
            inner: io::BufReader::with_capacity(256 * 1024, file).take(len),
            done: offset,
            total: size,
            shown_as: blob.shown_as.as_ref(),
            progress,
        }))
    };
    if size > chunk {
        client.upload_chunks(location, d, size, chunk, &open)?;
    } else {
        client.finish_upload(&location, d, size, &|| open(0, size))?;
    }
    Ok(BlobOutcome::Pushed)
}

/// Reports upload progress as bytes leave.
struct Counting<'a, R> {
    inner: R,
    done: u64,
    total: u64,
    shown_as: Option<&'a Digest>,
    progress: &'a dyn PushProgress,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        if let Some(id) = self.shown_as {
            self.progress.layer(
                id,
                &PushEvent::Pushing {
                    done: self.done,
                    total: self.total,
                },
            );
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::store::{ImageRecord, IndexFile, LayerRecord};

    #[test]
    fn transient_failures_are_tried_again_refusals_are_not() {
        let no_wait = [std::time::Duration::ZERO; 3];
        let status = |status| RegistryError::Status {
            url: "u".into(),
            status,
            body: String::new(),
        };
        // Two 503s, then success: three tries.
        let mut tries = 0;
        let got = with_retries(&no_wait, || {
            tries += 1;
            if tries < 3 {
                Err(status(503))
            } else {
                Ok(tries)
            }
        });
        assert_eq!(got.unwrap(), 3);
        // A refusal is final at once.
        let mut tries = 0;
        let got: Result<(), _> = with_retries(&no_wait, || {
            tries += 1;
            Err(status(403))
        });
        assert!(got.is_err());
        assert_eq!(tries, 1);
        // A broken connection, every time: one try plus one per delay.
        let mut tries = 0;
        let got: Result<(), _> = with_retries(&no_wait, || {
            tries += 1;
            Err(RegistryError::Read {
                url: "u".into(),
                source: std::io::Error::from(std::io::ErrorKind::ConnectionReset),
            })
        });
        assert!(matches!(got, Err(RegistryError::Read { .. })));
        assert_eq!(tries, 4);
        assert!(status(429).is_transient() && !status(404).is_transient());
    }

    fn digest(n: u8) -> Digest {
        Digest::of(&[n])
    }

    fn record(config: u8, layers: &[u8], repo_digests: &[&str]) -> ImageRecord {
        ImageRecord {
            config: digest(config),
            layers: layers
                .iter()
                .map(|l| LayerRecord {
                    digest: digest(*l),
                    diff_id: digest(*l),
                    chain_id: digest(*l),
                    size: 1,
                })
                .collect(),
            tags: Vec::new(),
            repo_digests: repo_digests.iter().map(|s| s.to_string()).collect(),
            added: 0,
        }
    }

    #[test]
    fn mount_sources_are_other_repositories_of_the_same_registry() {
        let m = |n: u8| digest(100 + n);
        let at = |repo: &str| format!("{repo}@{}", m(0));
        let mut index = IndexFile::default();
        index.images.insert(
            m(1),
            record(1, &[10, 11], &[&at("reg:5000/zeta"), &at("reg:5000/app")]),
        );
        index
            .images
            .insert(m(2), record(2, &[11], &[&at("other:5000/alpha")]));
        index
            .images
            .insert(m(3), record(3, &[11], &[&at("reg:5000/beta")]));
        let target = Reference::parse("reg:5000/app:v2").unwrap();
        // Layer 11: beta and zeta have it on this registry; alpha is elsewhere.
        assert_eq!(
            mount_source(&index, &target, &digest(11)).as_deref(),
            Some("beta")
        );
        // Layer 10: only zeta (app is the target itself).
        assert_eq!(
            mount_source(&index, &target, &digest(10)).as_deref(),
            Some("zeta")
        );
        assert_eq!(mount_source(&index, &target, &digest(12)), None);
    }

    #[test]
    fn manifests_keep_their_media_type_or_take_their_configs() {
        let json = |media: &str, config: &str| -> Manifest {
            serde_json::from_value(serde_json::json!({
                "schemaVersion": 2,
                "mediaType": media,
                "config": {"mediaType": config, "digest": digest(1).to_string(), "size": 1},
                "layers": [],
            }))
            .unwrap()
        };
        let docker = json(oci::DOCKER_MANIFEST, oci::DOCKER_CONFIG);
        assert_eq!(manifest_media_type(&docker), oci::DOCKER_MANIFEST);
        let mut bare = json("", oci::DOCKER_CONFIG);
        bare.media_type = None;
        assert_eq!(manifest_media_type(&bare), oci::DOCKER_MANIFEST);
        bare.config.media_type = oci::OCI_CONFIG.to_string();
        assert_eq!(manifest_media_type(&bare), oci::OCI_MANIFEST);
    }

    #[test]
    fn messages_name_the_reference_as_docker_does() {
        let r = Reference::parse("localhost:5000/app").unwrap();
        assert_eq!(familiar(&r), "localhost:5000/app:latest");
        assert_eq!(familiar(&Reference::parse("redis:7").unwrap()), "redis:7");
    }
}
