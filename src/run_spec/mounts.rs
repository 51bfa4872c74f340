//! Mounts: `volumes` (bind, named and anonymous volumes, tmpfs), `tmpfs`,
//! `volumes_from`, and the image's `VOLUME`s (anonymous volumes where no
//! mount covers them, as the Docker engine does). Volumes live at
//! `$COMPOSE_ROOT/volumes/<name>/_data` and are bound into the container.

use super::{Context, RunSpecError};
use crate::model::{ServiceConfig, ServiceVolumeConfig, UnitBytes};
use compose_runtime::container::{ContainerSpec, Mount};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// A volume the executor creates before the container starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeUse {
    /// The runtime name (`<project>_<key>`, or the anonymous volume's).
    pub name: String,
    /// `<volume root>/<name>/_data`, what is bound into the container.
    pub data_dir: PathBuf,
    /// Where the volume is mounted in the container: a new volume is
    /// seeded with the image's content there (Docker's copy-up), unless
    /// `volume.nocopy`.
    pub seed_from: Option<String>,
    pub anonymous: bool,
}

/// What `apply` found besides the mounts.
#[derive(Debug, Default)]
pub struct Mounted {
    pub volumes: Vec<VolumeUse>,
    pub host_dirs: Vec<PathBuf>,
}

pub fn apply(
    service: &ServiceConfig,
    ctx: &Context<'_>,
    spec: &mut ContainerSpec,
) -> Result<Mounted, RunSpecError> {
    let mut out = Mounted::default();
    for (index, from) in service.volumes_from.iter().enumerate() {
        spec.mounts.extend(volumes_from(service, index, from, ctx)?);
    }
    for (index, v) in service.volumes.iter().enumerate() {
        let mount = volume(service, index, v, ctx, &mut out)?;
        replace_target(&mut spec.mounts, mount);
    }
    for (index, entry) in service.tmpfs.iter().enumerate() {
        let mount = tmpfs_entry(service, index, entry)?;
        replace_target(&mut spec.mounts, mount);
    }
    for path in ctx.image.config.volumes.keys() {
        if spec.mounts.iter().any(|m| target(m) == path) {
            continue;
        }
        let use_ = anonymous(ctx, path, true);
        spec.mounts.push(bind(&use_.data_dir, path, false));
        out.volumes.push(use_);
    }
    Ok(out)
}

fn target(m: &Mount) -> &str {
    match m {
        Mount::Bind { target, .. } | Mount::Tmpfs { target, .. } => target,
    }
}

/// A service's own mount wins over one inherited from `volumes_from` at
/// the same target (Docker's precedence).
fn replace_target(mounts: &mut Vec<Mount>, mount: Mount) {
    mounts.retain(|m| target(m) != target(&mount));
    mounts.push(mount);
}

fn bind(source: &std::path::Path, target: &str, read_only: bool) -> Mount {
    Mount::Bind {
        source: source.to_path_buf(),
        target: target.to_string(),
        read_only,
    }
}

fn volume(
    service: &ServiceConfig,
    index: usize,
    v: &ServiceVolumeConfig,
    ctx: &Context<'_>,
    out: &mut Mounted,
) -> Result<Mount, RunSpecError> {
    match v.kind.as_str() {
        "bind" => {
            if !v.source.starts_with('/') {
                return Err(RunSpecError::RelativeBind {
                    service: service.name.clone(),
                    index,
                    source_path: v.source.clone(),
                });
            }
            // The short syntax and a long one without `bind:` create a
            // missing source, as Docker does.
            if v.bind.as_ref().is_none_or(|b| b.create_host_path) {
                out.host_dirs.push(PathBuf::from(&v.source));
            }
            Ok(bind(v.source.as_ref(), &v.target, v.read_only))
        }
        "volume" => {
            let nocopy = v.volume.as_ref().is_some_and(|o| o.nocopy);
            let mut use_ = if v.source.is_empty() {
                anonymous(ctx, &v.target, !nocopy)
            } else {
                named(service, index, v, ctx, nocopy)?
            };
            let mut source = use_.data_dir.clone();
            if let Some(sub) = v.volume.as_ref().map(|o| &o.subpath) {
                if !sub.is_empty() {
                    source = source.join(sub);
                    use_.seed_from = None;
                }
            }
            out.volumes.push(use_);
            Ok(bind(&source, &v.target, v.read_only))
        }
        "tmpfs" => Ok(Mount::Tmpfs {
            target: v.target.clone(),
            size: v
                .tmpfs
                .as_ref()
                .and_then(|t| (t.size.0 > 0).then_some(t.size.0 as u64)),
            mode: v
                .tmpfs
                .as_ref()
                .and_then(|t| (t.mode > 0).then_some(t.mode)),
        }),
        other => Err(RunSpecError::VolumeType {
            service: service.name.clone(),
            index,
            kind: other.to_string(),
        }),
    }
}

fn named(
    service: &ServiceConfig,
    index: usize,
    v: &ServiceVolumeConfig,
    ctx: &Context<'_>,
    nocopy: bool,
) -> Result<VolumeUse, RunSpecError> {
    let config = ctx
        .volumes
        .get(&v.source)
        .ok_or_else(|| RunSpecError::UnknownVolume {
            service: service.name.clone(),
            index,
            name: v.source.clone(),
        })?;
    let name = if config.name.is_empty() {
        format!("{}_{}", ctx.project, v.source)
    } else {
        config.name.clone()
    };
    Ok(VolumeUse {
        data_dir: ctx.volume_root.join(&name).join("_data"),
        name,
        seed_from: (!nocopy).then(|| v.target.clone()),
        anonymous: false,
    })
}

/// An anonymous volume, named after the container and the target so that
/// a recreated container gets the same one back (docker compose carries
/// anonymous volumes over on recreate).
fn anonymous(ctx: &Context<'_>, target: &str, seed: bool) -> VolumeUse {
    let digest = Sha256::digest(format!("{}\0{target}", ctx.container_name).as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let name = format!("{}_anon_{hex}", ctx.container_name);
    VolumeUse {
        data_dir: ctx.volume_root.join(&name).join("_data"),
        name,
        seed_from: seed.then(|| target.to_string()),
        anonymous: true,
    }
}

/// `volumes_from: [SERVICE[:ro|rw]]` or `container:NAME[:ro|rw]`.
fn volumes_from(
    service: &ServiceConfig,
    index: usize,
    from: &str,
    ctx: &Context<'_>,
) -> Result<Vec<Mount>, RunSpecError> {
    let (source, mode) = match from.rsplit_once(':') {
        Some((s, m @ ("ro" | "rw"))) => (s, m),
        _ => (from, "rw"),
    };
    let mounts = ctx
        .volumes_from
        .get(source)
        .ok_or_else(|| RunSpecError::VolumesFrom {
            service: service.name.clone(),
            index,
            source_name: source.to_string(),
        })?;
    Ok(mounts
        .iter()
        .filter(|m| matches!(m, Mount::Bind { .. }))
        .map(|m| match m {
            Mount::Bind {
                source,
                target,
                read_only,
            } => Mount::Bind {
                source: source.clone(),
                target: target.clone(),
                read_only: *read_only || mode == "ro",
            },
            other => other.clone(),
        })
        .collect())
}

/// A `tmpfs` entry: `PATH[:OPTIONS]` with `size=` and `mode=` (octal)
/// read; other options (rw, noexec, ...) are accepted and left to the
/// runtime's defaults.
fn tmpfs_entry(service: &ServiceConfig, index: usize, entry: &str) -> Result<Mount, RunSpecError> {
    let err = |reason: String| RunSpecError::Tmpfs {
        service: service.name.clone(),
        index,
        entry: entry.to_string(),
        reason,
    };
    let (path, options) = entry.split_once(':').unwrap_or((entry, ""));
    if !path.starts_with('/') {
        return Err(err("the path must be absolute".into()));
    }
    let (mut size, mut mode) = (None, None);
    for opt in options.split(',').filter(|o| !o.is_empty()) {
        match opt.split_once('=') {
            Some(("size", v)) => {
                let bytes = UnitBytes::parse(v).map_err(|e| err(e.to_string()))?;
                size = Some(bytes.0.max(0) as u64);
            }
            Some(("mode", v)) => {
                mode = Some(
                    u32::from_str_radix(v, 8)
                        .map_err(|_| err(format!("mode {v:?} is not an octal number")))?,
                );
            }
            _ => {}
        }
    }
    Ok(Mount::Tmpfs {
        target: path.to_string(),
        size,
        mode,
    })
}
