//! `RUN --mount=type=secret` (Dockerfile reference, "RUN --mount=type=secret"):
//! the secret's bytes are written to a private file of the step's scratch
//! directory, owned and moded as the mount asks (default root, 0400), and
//! bind-mounted read-only at the target; with `env=NAME` the step's
//! process gets the value in that variable instead of (or as well as) the
//! file. Nothing of a secret reaches a layer, the image config, the
//! history or a cache key: the key hashes the `--mount` text only, as
//! BuildKit's does, and the file is removed when the step ends.

use super::error::{io, ExecError};
use super::mounts::RunMount;
use super::BuildSecret;
use crate::build::dockerfile::Location;
use crate::container::Mount;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The secrets of one RUN step, made available; the files go with it.
pub(super) struct StepSecrets {
    pub(super) mounts: Vec<Mount>,
    /// `NAME=value` entries for the step's environment.
    pub(super) env: Vec<String>,
    dir: PathBuf,
}

impl Drop for StepSecrets {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Materialise the secret mounts among `mounts` in `dir` (created here).
pub(super) fn materialise(
    mounts: &[RunMount],
    secrets: &BTreeMap<String, BuildSecret>,
    dir: &Path,
    at: &Location,
) -> Result<StepSecrets, ExecError> {
    let mut out = StepSecrets {
        mounts: Vec::new(),
        env: Vec::new(),
        dir: dir.to_path_buf(),
    };
    for (n, m) in mounts.iter().enumerate() {
        let RunMount::Secret {
            id,
            env,
            required,
            mode,
            uid,
            gid,
            ..
        } = m
        else {
            continue;
        };
        let Some(secret) = secrets.get(id) else {
            if *required {
                return Err(ExecError::MissingSecret {
                    at: at.clone(),
                    id: id.clone(),
                    known: secrets.keys().cloned().collect(),
                });
            }
            // BuildKit skips an optional secret that was not given.
            continue;
        };
        let value = read(secret, id, at)?;
        if let Some(name) = env {
            out.env
                .push(format!("{name}={}", String::from_utf8_lossy(&value)));
        }
        if let Some(target) = m.secret_path() {
            if out.mounts.is_empty() {
                create_private_dir(dir)?;
            }
            let file = dir.join(format!("secret-{n}"));
            write_private(&file, &value, *mode, (*uid, *gid))?;
            out.mounts.push(Mount::Bind {
                source: file,
                target,
                read_only: true,
            });
        }
    }
    Ok(out)
}

fn read(secret: &BuildSecret, id: &str, at: &Location) -> Result<Vec<u8>, ExecError> {
    match secret {
        BuildSecret::Value(v) => Ok(v.clone()),
        BuildSecret::File(path) => std::fs::read(path).map_err(|source| ExecError::ReadSecret {
            at: at.clone(),
            id: id.to_string(),
            path: path.clone(),
            source,
        }),
    }
}

fn create_private_dir(dir: &Path) -> Result<(), ExecError> {
    std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io("chmod", dir))
}

fn write_private(file: &Path, value: &[u8], mode: u32, owner: (u32, u32)) -> Result<(), ExecError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
        .map_err(io("create", file))?;
    f.write_all(value).map_err(io("write", file))?;
    std::os::unix::fs::chown(file, Some(owner.0), Some(owner.1)).map_err(io("chown", file))?;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode)).map_err(io("chmod", file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn at() -> Location {
        Location {
            file: "Dockerfile".into(),
            line: 4,
        }
    }

    fn secret(spec: &str) -> RunMount {
        super::super::mounts::parse(spec, &at()).unwrap()
    }

    #[test]
    fn files_env_defaults_and_missing_secrets() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("token.txt");
        std::fs::write(&src, "from-file").unwrap();
        let secrets = BTreeMap::from([
            ("tok".to_string(), BuildSecret::File(src)),
            ("api".to_string(), BuildSecret::Value(b"from-env".to_vec())),
        ]);
        let dir = d.path().join("step");
        let mounts = vec![
            secret("type=secret,id=tok"),
            secret("type=secret,id=api,env=API_KEY"),
            secret("type=secret,id=api,target=/etc/api,env=ALSO,mode=0440,uid=7"),
            secret("type=secret,id=absent"),
        ];
        let s = materialise(&mounts, &secrets, &dir, &at()).unwrap();
        assert_eq!(s.env, vec!["API_KEY=from-env", "ALSO=from-env"]);
        let targets: Vec<(String, String, u32, u32)> = s
            .mounts
            .iter()
            .map(|m| match m {
                Mount::Bind {
                    source,
                    target,
                    read_only,
                } => {
                    assert!(read_only);
                    let meta = std::fs::metadata(source).unwrap();
                    (
                        target.clone(),
                        std::fs::read_to_string(source).unwrap(),
                        meta.mode() & 0o7777,
                        meta.uid(),
                    )
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            targets,
            vec![
                ("/run/secrets/tok".into(), "from-file".into(), 0o400, 0),
                ("/etc/api".into(), "from-env".into(), 0o440, 7),
            ]
        );
        drop(s);
        assert!(!dir.exists(), "the secret files go with the step");

        let e = materialise(
            &[secret("type=secret,id=absent,required=true")],
            &secrets,
            &dir,
            &at(),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            e.starts_with("Dockerfile:4: ") && e.contains("`absent`"),
            "{e}"
        );
        assert!(e.contains("api, tok"), "{e}");
    }

    #[test]
    fn the_id_defaults_to_the_target_file_name() {
        assert_eq!(
            secret("type=secret,target=/root/.npmrc"),
            RunMount::Secret {
                id: ".npmrc".into(),
                target: Some("/root/.npmrc".into()),
                env: None,
                required: false,
                mode: 0o400,
                uid: 0,
                gid: 0
            }
        );
        assert!(super::super::mounts::parse("type=secret", &at()).is_err());
    }
}
