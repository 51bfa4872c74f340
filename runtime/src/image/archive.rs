//! `image load`: archives written by `docker save` (a `manifest.json`
//! listing config and layer files, plus `repositories`) and OCI image
//! layout archives (`oci-layout`, `index.json`, `blobs/sha256/…`; Docker 25+
//! writes both at once, and `manifest.json` wins, as in `docker load`).
//!
//! The archive is read twice: first for its small JSON files and its link
//! entries (old `docker save` links duplicate layers to one file), then to
//! stream the needed files into the blob store. Nothing is unpacked to disk
//! from the outer archive itself.

use super::compression::{decompress, Compression};
use super::digest::Digest;
use super::import::descriptor;
use super::oci::{self, Index, Manifest, Platform};
use super::reference::{Reference, ReferenceError};
use super::store::{ImageRecord, ImageStore, StoreError};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufReader, Read};
use std::path::{Component, Path, PathBuf};

/// Why an archive could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read `{}`: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("`{}` is not a valid (compressed) tar archive: {source}", path.display())]
    Corrupt { path: PathBuf, source: io::Error },
    #[error("`{}` is neither a `docker save` archive (no manifest.json) nor an OCI image layout (no index.json)", path.display())]
    UnknownFormat { path: PathBuf },
    #[error("`{}`: `{name}` is listed in the archive's manifest but missing from it", path.display())]
    Missing { path: PathBuf, name: String },
    #[error("`{}`: `{name}` is not valid JSON of its kind: {source}", path.display())]
    BadJson {
        path: PathBuf,
        name: String,
        source: serde_json::Error,
    },
    #[error("`{}`: image name `{name}`: {source}", path.display())]
    BadName {
        path: PathBuf,
        name: String,
        source: ReferenceError,
    },
    #[error("`{}`: the image index has no manifest for {platform}", path.display())]
    NoPlatform { path: PathBuf, platform: Platform },
    #[error("loading `{}`: {source}", path.display())]
    Store { path: PathBuf, source: StoreError },
}

/// One image the archive held.
#[derive(Debug, Clone)]
pub struct LoadedImage {
    pub record: ImageRecord,
    /// The names it was loaded under (empty: untagged).
    pub names: Vec<Reference>,
}

/// One `manifest.json` entry of a `docker save` archive.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SaveEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// The outer archive's file list and small JSON files.
#[derive(Default)]
struct Listing {
    files: BTreeSet<String>,
    links: BTreeMap<String, String>,
    small: BTreeMap<String, Vec<u8>>,
}

const SMALL_FILES: [&str; 3] = ["manifest.json", "index.json", "oci-layout"];

/// Load every image of the archive at `path` into `store`.
pub fn load_archive(store: &ImageStore, path: &Path) -> Result<Vec<LoadedImage>, LoadError> {
    let ctx = Ctx { path };
    let _adding = store.adding().map_err(|e| ctx.store(e))?;
    let listing = ctx.scan(|_, _| Ok(None))?.0;
    if let Some(bytes) = listing.small.get("manifest.json") {
        let entries: Vec<SaveEntry> = ctx.json("manifest.json", bytes)?;
        load_docker_save(store, &ctx, &listing, &entries)
    } else if let Some(bytes) = listing.small.get("index.json") {
        let index: Index = ctx.json("index.json", bytes)?;
        load_oci_layout(store, &ctx, &listing, &index)
    } else {
        Err(LoadError::UnknownFormat {
            path: path.to_path_buf(),
        })
    }
}

struct Ctx<'a> {
    path: &'a Path,
}

impl Ctx<'_> {
    fn store(&self, source: StoreError) -> LoadError {
        LoadError::Store {
            path: self.path.to_path_buf(),
            source,
        }
    }

    fn json<T: for<'de> Deserialize<'de>>(&self, name: &str, bytes: &[u8]) -> Result<T, LoadError> {
        serde_json::from_slice(bytes).map_err(|source| LoadError::BadJson {
            path: self.path.to_path_buf(),
            name: name.to_string(),
            source,
        })
    }

    fn corrupt(&self, source: io::Error) -> LoadError {
        LoadError::Corrupt {
            path: self.path.to_path_buf(),
            source,
        }
    }

    /// Read the archive once; `take` may consume a regular file's content
    /// (returning its digest), else small JSON files are kept.
    fn scan(
        &self,
        mut take: impl FnMut(&str, &mut dyn Read) -> Result<Option<Digest>, LoadError>,
    ) -> Result<(Listing, BTreeMap<String, Digest>), LoadError> {
        let file = std::fs::File::open(self.path).map_err(|source| LoadError::Open {
            path: self.path.to_path_buf(),
            source,
        })?;
        let (_, plain) = decompress(BufReader::new(file)).map_err(|e| self.corrupt(e))?;
        let mut archive = tar::Archive::new(plain);
        let mut listing = Listing::default();
        let mut stored = BTreeMap::new();
        for entry in archive.entries().map_err(|e| self.corrupt(e))? {
            let mut entry = entry.map_err(|e| self.corrupt(e))?;
            let Some(name) = normalise(&entry.path().map_err(|e| self.corrupt(e))?) else {
                continue;
            };
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    listing.files.insert(name.clone());
                    if let Some(d) = take(&name, &mut entry)? {
                        stored.insert(name, d);
                    } else if SMALL_FILES.contains(&name.as_str()) {
                        let mut buf = Vec::new();
                        entry.read_to_end(&mut buf).map_err(|e| self.corrupt(e))?;
                        listing.small.insert(name, buf);
                    }
                }
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let target = entry
                        .link_name()
                        .map_err(|e| self.corrupt(e))?
                        .unwrap_or_default();
                    let base = match entry.header().entry_type() {
                        tar::EntryType::Symlink => Path::new(&name)
                            .parent()
                            .unwrap_or(Path::new(""))
                            .join(&target),
                        _ => target.into_owned(),
                    };
                    if let Some(t) = normalise(&base) {
                        listing.links.insert(name, t);
                    }
                }
                _ => {}
            }
        }
        Ok((listing, stored))
    }

    /// Store the files named in `wanted` as blobs (checked against their
    /// name when it is `blobs/sha256/<hex>`); returns name → digest.
    fn store_files(
        &self,
        store: &ImageStore,
        wanted: &BTreeSet<String>,
    ) -> Result<BTreeMap<String, Digest>, LoadError> {
        let (_, stored) = self.scan(|name, r| {
            if !wanted.contains(name) {
                return Ok(None);
            }
            let res = match blob_name_digest(name) {
                Some(d) => store.put_blob_verified(&d, r).map(|_| d),
                None => store.put_blob(r).map(|(d, _)| d),
            };
            res.map(Some).map_err(|e| self.store(e))
        })?;
        Ok(stored)
    }
}

/// A path inside the archive as plain components joined by `/`; `..`
/// climbing above the archive root makes it meaningless (`None`).
fn normalise(p: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => parts.push(n.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop()?;
            }
            _ => {}
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn blob_name_digest(name: &str) -> Option<Digest> {
    Digest::from_hex(name.strip_prefix("blobs/sha256/")?)
}

/// Follow link entries to the regular file behind `name`.
fn resolve(listing: &Listing, name: &str) -> Option<String> {
    let mut cur = normalise(Path::new(name))?;
    for _ in 0..16 {
        if listing.files.contains(&cur) {
            return Some(cur);
        }
        cur = listing.links.get(&cur)?.clone();
    }
    None
}

fn load_docker_save(
    store: &ImageStore,
    ctx: &Ctx<'_>,
    listing: &Listing,
    entries: &[SaveEntry],
) -> Result<Vec<LoadedImage>, LoadError> {
    let find = |name: &str| {
        resolve(listing, name).ok_or_else(|| LoadError::Missing {
            path: ctx.path.to_path_buf(),
            name: name.to_string(),
        })
    };
    let mut wanted = BTreeSet::new();
    for e in entries {
        wanted.insert(find(&e.config)?);
        for l in &e.layers {
            wanted.insert(find(l)?);
        }
    }
    let digests = ctx.store_files(store, &wanted)?;
    let mut out = Vec::new();
    for e in entries {
        let blob = |name: &str| -> Result<(Digest, u64), LoadError> {
            let d = digests[&find(name)?].clone();
            let size = std::fs::metadata(store.blob_path(&d)).map_or(0, |m| m.len());
            Ok((d, size))
        };
        let (config, config_size) = blob(&e.config)?;
        let mut layers = Vec::new();
        for l in &e.layers {
            let (d, size) = blob(l)?;
            let kind = sniff_blob(store, &d).map_err(|err| ctx.corrupt(err))?;
            let media = match kind {
                Compression::Gzip => oci::DOCKER_LAYER_GZIP,
                Compression::None => oci::DOCKER_LAYER,
                Compression::Zstd => oci::OCI_LAYER_ZSTD,
            };
            layers.push(descriptor(media, d, size));
        }
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(oci::DOCKER_MANIFEST.to_string()),
            config: descriptor(oci::DOCKER_CONFIG, config, config_size),
            layers,
            annotations: BTreeMap::new(),
        };
        let bytes = serde_json::to_vec(&manifest).expect("manifest serialises");
        let digest = store.put_blob_bytes(&bytes).map_err(|e| ctx.store(e))?;
        let names = parse_names(ctx, e.repo_tags.iter().flatten())?;
        let record = store.commit(&digest, &names).map_err(|e| ctx.store(e))?;
        out.push(LoadedImage { record, names });
    }
    Ok(out)
}

fn parse_names<'a>(
    ctx: &Ctx<'_>,
    names: impl Iterator<Item = &'a String>,
) -> Result<Vec<Reference>, LoadError> {
    names
        .map(|n| {
            Reference::parse(n).map_err(|source| LoadError::BadName {
                path: ctx.path.to_path_buf(),
                name: n.clone(),
                source,
            })
        })
        .collect()
}

fn sniff_blob(store: &ImageStore, d: &Digest) -> io::Result<Compression> {
    let mut head = [0u8; 4];
    let mut f = store.open_blob(d).map_err(io::Error::other)?;
    let n = f.read(&mut head)?;
    Ok(Compression::sniff(&head[..n]))
}

fn load_oci_layout(
    store: &ImageStore,
    ctx: &Ctx<'_>,
    listing: &Listing,
    index: &Index,
) -> Result<Vec<LoadedImage>, LoadError> {
    let wanted: BTreeSet<String> = listing
        .files
        .iter()
        .filter(|f| blob_name_digest(f).is_some())
        .cloned()
        .collect();
    ctx.store_files(store, &wanted)?;
    let mut out = Vec::new();
    for desc in &index.manifests {
        let manifest = platform_manifest(store, ctx, desc)?;
        let names = oci_names(ctx, desc)?;
        let record = store.commit(&manifest, &names).map_err(|e| ctx.store(e))?;
        out.push(LoadedImage { record, names });
    }
    Ok(out)
}

/// The single-platform manifest a top-level descriptor leads to.
fn platform_manifest(
    store: &ImageStore,
    ctx: &Ctx<'_>,
    desc: &oci::Descriptor,
) -> Result<Digest, LoadError> {
    let mut digest = desc.digest.clone();
    let mut media = desc.media_type.clone();
    for _ in 0..4 {
        if !oci::is_index(&media) {
            return Ok(digest);
        }
        let bytes = store.read_blob(&digest).map_err(|e| ctx.store(e))?;
        let index: Index = ctx.json(&format!("blobs/sha256/{}", digest.hex()), &bytes)?;
        let platform = Platform::host();
        let chosen = index
            .select(&platform)
            .ok_or_else(|| LoadError::NoPlatform {
                path: ctx.path.to_path_buf(),
                platform: platform.clone(),
            })?;
        digest = chosen.digest.clone();
        media = chosen.media_type.clone();
    }
    Ok(digest)
}

/// Names from the annotations containerd and Docker write; a bare
/// `ref.name` tag without a repository leaves the image untagged.
fn oci_names(ctx: &Ctx<'_>, desc: &oci::Descriptor) -> Result<Vec<Reference>, LoadError> {
    let full = desc.annotations.get("io.containerd.image.name");
    let ref_name = desc
        .annotations
        .get("org.opencontainers.image.ref.name")
        .filter(|n| n.contains('/') || n.contains(':'));
    parse_names(ctx, full.or(ref_name).into_iter())
}
