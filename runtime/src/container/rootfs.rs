//! The container's root filesystem: an overlay of the image layers with a
//! per-container upper dir, then pivot_root into it (pivot_root(2); the
//! `pivot_root(".", ".")` form is runc's, it needs no temporary directory).

use crate::container::error::SetupError;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use std::path::{Path, PathBuf};

/// Directories of the overlay inside the state directory.
pub const UPPER: &str = "upper";
pub const WORK: &str = "work";
pub const MERGED: &str = "merged";

/// Linux limits mount data to one page.
const MAX_MOUNT_DATA: usize = 4095;

/// The overlay mount options for `lowers` (top-most first).
pub fn overlay_options(state: &Path, lowers: &[PathBuf]) -> Result<String, SetupError> {
    if lowers.is_empty() {
        return Err(SetupError::NoLayers);
    }
    let mut lowerdir = Vec::with_capacity(lowers.len());
    for dir in lowers {
        let text = dir.to_string_lossy();
        if text.contains(':') || text.contains(',') {
            return Err(SetupError::BadLayerPath { path: dir.clone() });
        }
        lowerdir.push(text.into_owned());
    }
    let options = format!(
        "lowerdir={},upperdir={},workdir={}",
        lowerdir.join(":"),
        state.join(UPPER).display(),
        state.join(WORK).display()
    );
    if options.len() > MAX_MOUNT_DATA {
        return Err(SetupError::OverlayOptionsTooLong { len: options.len() });
    }
    Ok(options)
}

/// Mount the overlay at `<state>/merged` and return that path.
pub fn mount_overlay(state: &Path, lowers: &[PathBuf]) -> Result<PathBuf, SetupError> {
    let options = overlay_options(state, lowers)?;
    for dir in [UPPER, WORK, MERGED] {
        let path = state.join(dir);
        std::fs::create_dir_all(&path).map_err(SetupError::io("create", &path))?;
    }
    let merged = state.join(MERGED);
    mount(
        Some("overlay"),
        &merged,
        Some("overlay"),
        MsFlags::empty(),
        Some(options.as_str()),
    )
    .map_err(|errno| SetupError::Mount {
        fstype: "overlay".into(),
        source_desc: options.clone(),
        target: merged.clone(),
        errno,
    })?;
    Ok(merged)
}

/// Make every mount of the new mount namespace private, so nothing we mount
/// propagates back to the host (mount_namespaces(7)).
pub fn make_private() -> Result<(), SetupError> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|errno| SetupError::Mount {
        fstype: "(propagation)".into(),
        source_desc: "private".into(),
        target: "/".into(),
        errno,
    })
}

/// Where pivot_root(2) puts the host's root, detached at once by
/// [`detach_old_root`] (bind sources are cloned before the pivot, see
/// `mounts::OpenedBind`, so nothing needs it afterwards).
pub const OLD_ROOT: &str = "/.compose-old-root";

/// Switch the root to `new_root`, keeping the old root at [`OLD_ROOT`].
pub fn pivot(new_root: &Path) -> Result<(), SetupError> {
    let err = |errno| SetupError::PivotRoot {
        root: new_root.to_path_buf(),
        errno,
    };
    let put_old = new_root.join(OLD_ROOT.trim_start_matches('/'));
    // Never through a symlink of the image: pivot_root needs put_old under
    // the new root, and create_dir_all would create the link's target.
    match std::fs::create_dir(&put_old) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let meta =
                std::fs::symlink_metadata(&put_old).map_err(SetupError::io("stat", &put_old))?;
            if !meta.is_dir() {
                return Err(SetupError::NotADirectory {
                    path: OLD_ROOT.into(),
                });
            }
        }
        Err(e) => return Err(SetupError::io("create", &put_old)(e)),
    }
    nix::unistd::chdir(new_root).map_err(err)?;
    nix::unistd::pivot_root(".", &put_old).map_err(err)?;
    nix::unistd::chdir("/").map_err(err)?;
    Ok(())
}

/// Detach the host's root from the container and remove its mount point.
pub fn detach_old_root() -> Result<(), SetupError> {
    umount2(OLD_ROOT, MntFlags::MNT_DETACH).map_err(|errno| SetupError::Sys {
        action: "detach the host's root",
        errno,
    })?;
    std::fs::remove_dir(OLD_ROOT).map_err(SetupError::io("remove", OLD_ROOT))
}

/// Compose `read_only: true`: remount the root read-only.
pub fn make_root_readonly() -> Result<(), SetupError> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
        None::<&str>,
    )
    .map_err(|errno| SetupError::Mount {
        fstype: "(remount)".into(),
        source_desc: "read-only".into(),
        target: "/".into(),
        errno,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_list_layers_top_first() {
        let opts = overlay_options(Path::new("/s"), &["/l2".into(), "/l1".into()]).unwrap();
        assert_eq!(opts, "lowerdir=/l2:/l1,upperdir=/s/upper,workdir=/s/work");
    }

    #[test]
    fn bad_layer_lists_are_refused() {
        assert!(matches!(
            overlay_options(Path::new("/s"), &[]),
            Err(SetupError::NoLayers)
        ));
        assert!(matches!(
            overlay_options(Path::new("/s"), &["/a:b".into()]),
            Err(SetupError::BadLayerPath { .. })
        ));
        let many: Vec<PathBuf> = (0..200)
            .map(|i| format!("/var/lib/compose/images/layers/{i:040}").into())
            .collect();
        assert!(matches!(
            overlay_options(Path::new("/s"), &many),
            Err(SetupError::OverlayOptionsTooLong { .. })
        ));
    }
}
