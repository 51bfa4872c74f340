//! Paths the init creates or mounts on inside the container (mount
//! targets, the working directory, mapped device nodes), resolved as runc's
//! securejoin does: one component at a time from the container's root,
//! symlinks read and followed by hand, so an absolute link restarts at the
//! container's root, `..` never climbs above it, and a "magic" link of
//! /proc is only ever read as text. Missing components are created, which
//! lands them in the overlay's upper dir (the container's writable layer),
//! never in the image's layers, as Docker does for images built FROM
//! scratch. The result is an `O_PATH` descriptor: the mount goes onto
//! exactly the object that was resolved, the path is not walked again.

use crate::container::error::SetupError;
use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, OFlag};
use nix::sys::stat::{fstat, mkdirat, Mode, SFlag};
use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Component, Path};

/// What to create when the last component is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    /// An empty regular file (the target of a file bind mount).
    File,
}

/// Linux's own limit of symlinks followed in one lookup (path_resolution(7)).
const MAX_SYMLINKS: usize = 40;

/// Resolve `path` inside the current root (after pivot_root), creating
/// what is missing.
pub fn open(path: &Path, kind: Kind) -> Result<OwnedFd, SetupError> {
    open_in(Path::new("/"), path, kind)
}

/// The `/proc/self/fd/N` path of `fd`, for calls that take a path: the
/// kernel follows it to the very object `fd` is open on.
pub fn fd_path(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// Resolve `path` with `root` standing for "/", creating what is missing
/// (directories, and a file or directory last as `kind` says).
pub fn open_in(root: &Path, path: &Path, kind: Kind) -> Result<OwnedFd, SetupError> {
    let err = |errno| SetupError::Target {
        path: path.to_path_buf(),
        errno,
    };
    let path_flags = OFlag::O_PATH | OFlag::O_CLOEXEC;
    let root_fd =
        nix::fcntl::open(root, path_flags | OFlag::O_DIRECTORY, Mode::empty()).map_err(err)?;
    // The directories from the root down to where the walk stands: `..`
    // pops one, and never the root.
    let mut dirs = vec![root_fd];
    let mut todo = components(path);
    let mut links = 0;
    while let Some(name) = todo.pop_front() {
        if name == ".." {
            if dirs.len() > 1 {
                dirs.pop();
            }
            continue;
        }
        let parent = dirs.last().expect("the root is never popped");
        let fd = match openat(
            parent,
            name.as_os_str(),
            path_flags | OFlag::O_NOFOLLOW,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => {
                let what = if todo.is_empty() { kind } else { Kind::Dir };
                create(parent, &name, what).map_err(err)?;
                todo.push_front(name);
                continue;
            }
            Err(errno) => return Err(err(errno)),
        };
        let mode = fstat(&fd).map_err(err)?.st_mode;
        match SFlag::from_bits_truncate(mode & SFlag::S_IFMT.bits()) {
            SFlag::S_IFLNK => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(err(Errno::ELOOP));
                }
                let target = readlinkat(parent, name.as_os_str()).map_err(err)?;
                if Path::new(&target).is_absolute() {
                    dirs.truncate(1);
                }
                for part in components(Path::new(&target)).into_iter().rev() {
                    todo.push_front(part);
                }
            }
            SFlag::S_IFDIR => dirs.push(fd),
            _ if todo.is_empty() => return Ok(fd),
            _ => return Err(err(Errno::ENOTDIR)),
        }
    }
    Ok(dirs.pop().expect("the root is never popped"))
}

/// The components to walk: names and `..`; the root and `.` are no steps.
fn components(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_os_string()),
            Component::ParentDir => Some(OsStr::new("..").to_os_string()),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect()
}

/// Make `name` in `parent`; one that appeared meanwhile is fine.
fn create(parent: &OwnedFd, name: &OsStr, kind: Kind) -> Result<(), Errno> {
    let made = match kind {
        Kind::Dir => mkdirat(parent, name, Mode::from_bits_truncate(0o755)),
        Kind::File => openat(
            parent,
            name,
            OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o644),
        )
        .map(drop),
    };
    match made {
        Ok(()) | Err(Errno::EEXIST) => Ok(()),
        Err(errno) => Err(errno),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn real(fd: &OwnedFd) -> std::path::PathBuf {
        std::fs::read_link(fd_path(fd)).unwrap()
    }

    #[test]
    fn missing_components_are_created_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let fd = open_in(root.path(), Path::new("/a/b/c"), Kind::Dir).unwrap();
        assert_eq!(real(&fd), root.path().join("a/b/c"));
        assert!(root.path().join("a/b/c").is_dir());
        let fd = open_in(root.path(), Path::new("/etc/hosts"), Kind::File).unwrap();
        assert_eq!(real(&fd), root.path().join("etc/hosts"));
        assert!(root.path().join("etc/hosts").is_file());
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let escape = outside.path().join("escape");
        // Absolute, with `..` above the root, and relative climbing out.
        let abs = format!("/../../..{}", escape.display());
        symlink(&abs, root.path().join("abs")).unwrap();
        symlink("../../../../../../..", root.path().join("up")).unwrap();
        let fd = open_in(root.path(), Path::new("/abs/sub"), Kind::Dir).unwrap();
        let inside = root.path().join(escape.strip_prefix("/").unwrap());
        assert_eq!(real(&fd), inside.join("sub"));
        let fd = open_in(root.path(), Path::new("/up/tmp/x"), Kind::Dir).unwrap();
        assert_eq!(real(&fd), root.path().join("tmp/x"));
        assert!(!escape.exists(), "created outside the root");
    }

    #[test]
    fn magic_links_are_read_as_text_and_loops_refused() {
        let root = tempfile::tempdir().unwrap();
        // /proc/self/cwd is the test's cwd on the host; inside the root it
        // is just a path that does not exist yet.
        symlink("/proc/self/cwd", root.path().join("magic")).unwrap();
        std::fs::create_dir(root.path().join("proc")).unwrap();
        let fd = open_in(root.path(), Path::new("/magic/x"), Kind::Dir).unwrap();
        assert_eq!(real(&fd), root.path().join("proc/self/cwd/x"));
        symlink("loop", root.path().join("loop")).unwrap();
        let err = open_in(root.path(), Path::new("/loop"), Kind::Dir).unwrap_err();
        assert!(
            matches!(
                err,
                SetupError::Target {
                    errno: Errno::ELOOP,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_file_in_the_middle_is_not_a_directory() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("f"), "").unwrap();
        let err = open_in(root.path(), Path::new("/f/x"), Kind::Dir).unwrap_err();
        assert!(
            matches!(
                err,
                SetupError::Target {
                    errno: Errno::ENOTDIR,
                    ..
                }
            ),
            "{err}"
        );
    }
}
