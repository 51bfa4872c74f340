//! Volumes: directories under `$COMPOSE_ROOT/volumes/<name>/_data`, bound
//! into containers. A volume is created atomically (made under a temp name,
//! then renamed) and, like Docker's, an empty volume is seeded with the
//! image's content at the mount target the first time a container mounts
//! it (unless `nocopy`).

use super::ProjectError;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The `_data` directory of volume `name`.
pub fn data_dir(volumes_dir: &Path, name: &str) -> PathBuf {
    volumes_dir.join(name).join("_data")
}

/// Create volume `name` if it does not exist; returns whether it did now.
pub fn create(volumes_dir: &Path, name: &str) -> Result<bool, ProjectError> {
    let dir = volumes_dir.join(name);
    if dir.exists() {
        return Ok(false);
    }
    std::fs::create_dir_all(volumes_dir).map_err(ProjectError::io("create", volumes_dir))?;
    let tmp = volumes_dir.join(format!(".tmp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let data = tmp.join("_data");
    std::fs::create_dir_all(&data).map_err(ProjectError::io("create", &data))?;
    match std::fs::rename(&tmp, &dir) {
        Ok(()) => Ok(true),
        Err(_) if dir.exists() => {
            // Another command created it meanwhile: theirs is as good.
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(false)
        }
        Err(source) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(ProjectError::Io {
                action: "create",
                path: dir,
                source,
            })
        }
    }
}

/// Copy the image's content at `target` into `data` when `data` is empty
/// (Docker's copy-up of a fresh volume). `lower_dirs` are top-most first;
/// lower layers are copied first so that upper ones win.
pub fn seed(data: &Path, lower_dirs: &[PathBuf], target: &str) -> Result<(), ProjectError> {
    let empty = std::fs::read_dir(data)
        .map_err(ProjectError::io("read", data))?
        .next()
        .is_none();
    if !empty {
        return Ok(());
    }
    let rel = target.trim_start_matches('/');
    for layer in lower_dirs.iter().rev() {
        let src = layer.join(rel);
        if src.symlink_metadata().map(|m| m.is_dir()).unwrap_or(false) {
            copy_metadata(&src, data)?;
            copy_tree(&src, data)?;
        }
    }
    Ok(())
}

/// Remove volume `name` (its whole directory); a missing one is fine.
pub fn remove(volumes_dir: &Path, name: &str) -> Result<(), ProjectError> {
    let dir = volumes_dir.join(name);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(ProjectError::Io {
            action: "remove",
            path: dir,
            source,
        }),
    }
}

fn copy_metadata(src: &Path, dst: &Path) -> Result<(), ProjectError> {
    let meta = src
        .symlink_metadata()
        .map_err(ProjectError::io("read", src))?;
    std::fs::set_permissions(dst, std::fs::Permissions::from_mode(meta.mode() & 0o7777))
        .map_err(ProjectError::io("set the mode of", dst))?;
    std::os::unix::fs::lchown(dst, Some(meta.uid()), Some(meta.gid()))
        .map_err(ProjectError::io("set the owner of", dst))
}

/// Copy a directory tree: files, directories and symlinks with their mode
/// and owner; overlay whiteouts and special files are skipped.
fn copy_tree(src: &Path, dst: &Path) -> Result<(), ProjectError> {
    for entry in std::fs::read_dir(src).map_err(ProjectError::io("read", src))? {
        let entry = entry.map_err(ProjectError::io("read", src))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(".wh.") {
            continue;
        }
        let (from, to) = (entry.path(), dst.join(&name));
        let meta = from
            .symlink_metadata()
            .map_err(ProjectError::io("read", &from))?;
        let kind = meta.file_type();
        if kind.is_dir() {
            if !to.is_dir() {
                std::fs::create_dir(&to).map_err(ProjectError::io("create", &to))?;
            }
            copy_tree(&from, &to)?;
            copy_metadata(&from, &to)?;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&from).map_err(ProjectError::io("read", &from))?;
            let _ = std::fs::remove_file(&to);
            std::os::unix::fs::symlink(target, &to).map_err(ProjectError::io("create", &to))?;
            let _ = std::os::unix::fs::lchown(&to, Some(meta.uid()), Some(meta.gid()));
        } else if kind.is_file() {
            std::fs::copy(&from, &to).map_err(ProjectError::io("copy", &from))?;
            copy_metadata(&from, &to)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_volume_is_seeded_once_from_the_layers() {
        let root = tempfile::tempdir().unwrap();
        let layer = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(layer.path().join("etc/app/conf.d")).unwrap();
        std::fs::write(layer.path().join("etc/app/conf.d/a.conf"), "x").unwrap();
        std::os::unix::fs::symlink("conf.d/a.conf", layer.path().join("etc/app/main")).unwrap();
        let vols = root.path().join("volumes");
        assert!(create(&vols, "p_conf").unwrap());
        assert!(!create(&vols, "p_conf").unwrap());
        let data = data_dir(&vols, "p_conf");
        seed(&data, &[layer.path().to_path_buf()], "/etc/app").unwrap();
        assert_eq!(std::fs::read_to_string(data.join("main")).unwrap(), "x");
        // Not empty any more: a second seed keeps the volume's own content.
        std::fs::write(data.join("conf.d/a.conf"), "mine").unwrap();
        seed(&data, &[layer.path().to_path_buf()], "/etc/app").unwrap();
        assert_eq!(std::fs::read_to_string(data.join("main")).unwrap(), "mine");
        remove(&vols, "p_conf").unwrap();
        assert!(!vols.join("p_conf").exists());
        remove(&vols, "p_conf").unwrap();
    }
}
