//! `RUN --mount` (Dockerfile reference, "RUN --mount"): `type=cache`, a
//! directory kept across builds under `$COMPOSE_ROOT/build-cache/mounts/`
//! (keyed by `id`, else the target), `type=tmpfs`, and `type=bind` of a
//! context path, read-only. The mounts are the RUN container's; their
//! content is never part of the layer. `type=secret` is parsed here and
//! provided by the `secrets` module. `ssh` (no agent is forwarded to
//! builds), a writable bind and a bind `from` a stage are refused as not
//! supported yet.

use super::error::{io, ExecError};
use crate::build::dockerfile::Location;
use crate::container::Mount;
use crate::image::digest::Digest;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// One parsed `--mount` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunMount {
    Cache {
        id: String,
        target: String,
        mode: u32,
        uid: u32,
        gid: u32,
    },
    Tmpfs {
        target: String,
    },
    /// A context path (`source`, default the context root), read-only.
    Bind {
        source: String,
        target: String,
    },
    /// A build secret: a read-only file at `target` (default
    /// `/run/secrets/<id>`) and/or the variable `env`; absent from the
    /// build's secrets, it is an error only when `required`.
    Secret {
        id: String,
        target: Option<String>,
        env: Option<String>,
        required: bool,
        mode: u32,
        uid: u32,
        gid: u32,
    },
}

impl RunMount {
    /// Where a secret's file is mounted: its target, else
    /// `/run/secrets/<id>` unless it goes to an environment variable only
    /// (BuildKit: `env=` without `target=` mounts no file).
    pub fn secret_path(&self) -> Option<String> {
        match self {
            RunMount::Secret {
                id, target, env, ..
            } => match (target, env) {
                (Some(t), _) => Some(t.clone()),
                (None, Some(_)) => None,
                (None, None) => Some(format!("/run/secrets/{id}")),
            },
            _ => None,
        }
    }
}

/// Parse `type=cache,target=/root/.cache,id=pip` (already expanded).
pub fn parse(spec: &str, at: &Location) -> Result<RunMount, ExecError> {
    let unsupported = |what: String| ExecError::Unsupported {
        at: at.clone(),
        what,
    };
    let mut kind = "bind".to_string();
    let (mut target, mut source, mut id, mut from) = (None, None, None, None);
    let (mut mode, mut uid, mut gid, mut rw) = (None, 0, 0, false);
    let (mut env, mut required) = (None, false);
    for field in spec.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let (k, v) = field.split_once('=').unwrap_or((field, "true"));
        let num = |radix| {
            u32::from_str_radix(v, radix)
                .map_err(|_| unsupported(format!("RUN --mount option `{field}`")))
        };
        match k.to_ascii_lowercase().as_str() {
            "type" => kind = v.to_ascii_lowercase(),
            "target" | "dst" | "destination" => target = Some(v.to_string()),
            "source" | "src" => source = Some(v.to_string()),
            "id" => id = Some(v.to_string()),
            "from" => from = Some(v.to_string()),
            "mode" => mode = Some(num(8)?),
            "env" => env = Some(v.to_string()),
            "required" => required = v != "false",
            "uid" => uid = num(10)?,
            "gid" => gid = num(10)?,
            "rw" | "readwrite" => rw = v != "false",
            "ro" | "readonly" => rw = v == "false",
            "sharing" | "size" => {}
            _ => return Err(unsupported(format!("RUN --mount option `{k}`"))),
        }
    }
    match kind.as_str() {
        "secret" => {
            // BuildKit: the id defaults to the target's file name.
            let id = id
                .or_else(|| {
                    target
                        .as_deref()
                        .and_then(|t| t.rsplit('/').next())
                        .filter(|n| !n.is_empty())
                        .map(str::to_string)
                })
                .ok_or_else(|| ExecError::BadSecretMount {
                    at: at.clone(),
                    spec: spec.to_string(),
                })?;
            return Ok(RunMount::Secret {
                id,
                target,
                env,
                required,
                mode: mode.unwrap_or(0o400),
                uid,
                gid,
            });
        }
        "ssh" => {
            return Err(unsupported(
                "RUN --mount=type=ssh (no SSH agent is forwarded to builds; \
                 use a build secret instead)"
                    .into(),
            ))
        }
        _ => {}
    }
    let target =
        target.ok_or_else(|| unsupported(format!("RUN --mount without a target (`{spec}`)")))?;
    let mode = mode.unwrap_or(0o755);
    match kind.as_str() {
        "cache" => Ok(RunMount::Cache {
            id: id.unwrap_or_else(|| target.clone()),
            target,
            mode,
            uid,
            gid,
        }),
        "tmpfs" => Ok(RunMount::Tmpfs { target }),
        "bind" if from.is_some() => Err(unsupported("RUN --mount=type=bind,from=...".into())),
        "bind" if rw => Err(unsupported("RUN --mount=type=bind,rw".into())),
        "bind" => Ok(RunMount::Bind {
            source: source.unwrap_or_else(|| ".".into()),
            target,
        }),
        other => Err(unsupported(format!("RUN --mount=type={other}"))),
    }
}

/// The container mount of `m`: cache directories are created on first
/// use with the requested owner and mode. Secrets are the `secrets`
/// module's (None here).
pub fn to_container(
    m: &RunMount,
    compose_root: &Path,
    context: &Path,
) -> Result<Option<Mount>, ExecError> {
    Ok(Some(match m {
        RunMount::Secret { .. } => return Ok(None),
        RunMount::Cache {
            id,
            target,
            mode,
            uid,
            gid,
        } => {
            let dir = compose_root
                .join("build-cache/mounts")
                .join(Digest::of(id.as_bytes()).hex());
            if !dir.exists() {
                std::fs::create_dir_all(&dir).map_err(io("create", &dir))?;
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(*mode))
                    .map_err(io("chmod", &dir))?;
                std::os::unix::fs::chown(&dir, Some(*uid), Some(*gid))
                    .map_err(io("chown", &dir))?;
            }
            Mount::Bind {
                source: dir,
                target: target.clone(),
                read_only: false,
            }
        }
        RunMount::Tmpfs { target } => Mount::Tmpfs {
            target: target.clone(),
            size: None,
            mode: None,
        },
        RunMount::Bind { source, target } => Mount::Bind {
            source: context.join(source.trim_start_matches('/')),
            target: target.clone(),
            read_only: true,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> Location {
        Location {
            file: "Dockerfile".into(),
            line: 3,
        }
    }

    #[test]
    fn cache_tmpfs_and_bind_parse_others_are_refused() {
        assert_eq!(
            parse(
                "type=cache,target=/root/.cache,id=pip,uid=1000,mode=0700",
                &at()
            )
            .unwrap(),
            RunMount::Cache {
                id: "pip".into(),
                target: "/root/.cache".into(),
                mode: 0o700,
                uid: 1000,
                gid: 0
            }
        );
        assert!(matches!(
            parse("type=cache,dst=/var/cache/apt,sharing=locked", &at()).unwrap(),
            RunMount::Cache { target, id, .. } if target == "/var/cache/apt" && id == target
        ));
        assert_eq!(
            parse("target=/src,source=app", &at()).unwrap(),
            RunMount::Bind {
                source: "app".into(),
                target: "/src".into()
            }
        );
        assert_eq!(
            parse("type=tmpfs,target=/tmp", &at()).unwrap(),
            RunMount::Tmpfs {
                target: "/tmp".into()
            }
        );
        for bad in [
            "type=secret",
            "type=ssh",
            "type=bind,from=build,target=/x",
            "type=bind,target=/x,rw",
            "type=cache",
        ] {
            let e = parse(bad, &at()).unwrap_err().to_string();
            assert!(e.starts_with("Dockerfile:3: "), "{bad}: {e}");
        }
    }
}
