//! Finding the workload's program before the container starts, so `up`
//! fails with "executable file not found" the way Docker's `create` does
//! (runc resolves argv[0] before the start), not with a container that
//! exits 127 a moment later. Looks through the image's layers as overlayfs
//! would (top-most first, symlinks resolved inside the image) and through
//! bind mounts; a path under a tmpfs cannot be known and passes.

use super::ProjectError;
use crate::container::spec::DEFAULT_PATH;
use crate::container::{ContainerSpec, Mount};
use std::path::{Component, Path, PathBuf};

/// Symlink hops followed before giving up (Linux's MAXSYMLINKS).
const MAX_LINKS: usize = 40;

/// Check that `spec.process.args[0]` exists in the container's filesystem.
pub fn check(spec: &ContainerSpec) -> Result<(), ProjectError> {
    let Some(program) = spec.process.args.first() else {
        return Ok(());
    };
    let view = View { spec };
    if program.contains('/') {
        if !program.starts_with('/') {
            // Relative to the working directory, which may be a volume.
            return Ok(());
        }
        return match view.exists(program) {
            Some(false) => Err(ProjectError::NoSuchFile {
                name: spec.id.clone(),
                command: program.clone(),
            }),
            _ => Ok(()),
        };
    }
    let path = spec
        .process
        .env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    let mut unknown = false;
    for dir in path.split(':').filter(|d| d.starts_with('/')) {
        match view.exists(&format!("{dir}/{program}")) {
            Some(true) => return Ok(()),
            None => unknown = true,
            Some(false) => {}
        }
    }
    if unknown {
        return Ok(());
    }
    Err(ProjectError::CommandNotFound {
        name: spec.id.clone(),
        command: program.clone(),
        path: path.to_string(),
    })
}

struct View<'a> {
    spec: &'a ContainerSpec,
}

impl View<'_> {
    /// Whether `path` exists in the container; `None` when it cannot be
    /// known (under a tmpfs).
    fn exists(&self, path: &str) -> Option<bool> {
        let mut current = PathBuf::from("/");
        let mut pending: Vec<String> = components(path);
        pending.reverse();
        let mut hops = 0;
        while let Some(part) = pending.pop() {
            if part == ".." {
                current.pop();
                continue;
            }
            let candidate = current.join(&part);
            match self.entry(&candidate)? {
                None => return Some(false),
                Some(host) => match std::fs::read_link(&host) {
                    Ok(target) => {
                        hops += 1;
                        if hops > MAX_LINKS {
                            return Some(false);
                        }
                        let target = target.to_string_lossy().into_owned();
                        if target.starts_with('/') {
                            current = PathBuf::from("/");
                        }
                        let mut parts = components(&target);
                        parts.reverse();
                        pending.extend(parts);
                    }
                    Err(_) => current = candidate,
                },
            }
        }
        Some(true)
    }

    /// The host path of the container path `p`, if it exists; the outer
    /// `None` when it is under a tmpfs.
    fn entry(&self, p: &Path) -> Option<Option<PathBuf>> {
        for mount in self.spec.mounts.iter().rev() {
            match mount {
                Mount::Bind { source, target, .. } => {
                    if let Ok(rest) = p.strip_prefix(target) {
                        let host = source.join(rest);
                        return Some(host.symlink_metadata().ok().map(|_| host));
                    }
                }
                Mount::Tmpfs { target, .. } => {
                    if p.starts_with(target) {
                        return None;
                    }
                }
            }
        }
        let rel = p.strip_prefix("/").unwrap_or(p);
        for layer in &self.spec.rootfs.lower_dirs {
            let host = layer.join(rel);
            if host.symlink_metadata().is_ok() {
                return Some(Some(host));
            }
        }
        Some(None)
    }
}

fn components(path: &str) -> Vec<String> {
    Path::new(path)
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".to_string()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(layers: Vec<PathBuf>, args: &[&str]) -> ContainerSpec {
        ContainerSpec::new("t", layers, args.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn finds_programs_across_layers_and_symlinked_dirs() {
        let bottom = tempfile::tempdir().unwrap();
        let top = tempfile::tempdir().unwrap();
        // A merged-/usr image: bin -> usr/bin in one layer, the program in another.
        std::os::unix::fs::symlink("usr/bin", bottom.path().join("bin")).unwrap();
        std::fs::create_dir_all(top.path().join("usr/bin")).unwrap();
        std::fs::write(top.path().join("usr/bin/busybox"), "").unwrap();
        std::os::unix::fs::symlink("busybox", top.path().join("usr/bin/sh")).unwrap();
        let layers = vec![top.path().to_path_buf(), bottom.path().to_path_buf()];
        assert!(check(&spec(layers.clone(), &["sh", "-c", "x"])).is_ok());
        assert!(check(&spec(layers.clone(), &["/bin/sh"])).is_ok());
        assert!(matches!(
            check(&spec(layers.clone(), &["nope"])),
            Err(ProjectError::CommandNotFound { .. })
        ));
        assert!(matches!(
            check(&spec(layers.clone(), &["/bin/nope"])),
            Err(ProjectError::NoSuchFile { .. })
        ));
        // Under a tmpfs nothing can be known before the start.
        let mut s = spec(layers, &["/scratch/run"]);
        s.mounts.push(Mount::Tmpfs {
            target: "/scratch".into(),
            size: None,
            mode: None,
        });
        assert!(check(&s).is_ok());
    }

    #[test]
    fn finds_programs_in_bind_mounts() {
        let layer = tempfile::tempdir().unwrap();
        let src = tempfile::tempdir().unwrap();
        std::fs::write(src.path().join("run.sh"), "").unwrap();
        let mut s = spec(vec![layer.path().to_path_buf()], &["/app/run.sh"]);
        s.mounts.push(Mount::Bind {
            source: src.path().to_path_buf(),
            target: "/app".into(),
            read_only: true,
        });
        assert!(check(&s).is_ok());
    }
}
