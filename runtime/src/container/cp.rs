//! `docker compose cp`: files into and out of a container's root
//! filesystem as tar streams, as `docker cp` moves them.
//!
//! The container side runs in a *copy shim*: our binary, from the same
//! sealed memfd as the init (CVE-2019-5736), as `compose cp-shim
//! <state-dir> <op>`. The shim enters the container's mount namespace
//! (setns(2) on `/proc/<init>/ns/mnt`, which also makes the namespace's
//! root, the container's pivoted root, its own root and working
//! directory). From then on every path, `..` and symlink, absolute or not,
//! resolves inside the container as the kernel resolves it for the
//! container's processes: nothing the container put in its filesystem can
//! lead the copy to a host file (the class of CVE-2018-15664, which hit
//! `docker cp`'s host-side resolver). A stopped container has no mount
//! namespace: the shim makes a private one, mounts the overlay of the
//! image layers and the container's upper dir, and chroots into it (the
//! container's volumes are not mounted then; docker mounts them).
//!
//! Both sides share [`write_archive`] and [`extract_archive`]: the tar
//! stream carries one top entry named after the source (or, for `SRC/.`,
//! the directory's contents), and the extracting side places it as
//! `docker cp` does (into an existing directory, else as the destination
//! name).

use crate::container::create::Container;
use crate::container::error::ContainerError;
use crate::container::launch::InitProgram;
use crate::container::rootfs;
use crate::container::state::{InitConfig, StateDir, Status, CONFIG_FILE};
use crate::sys::process::SingleThreaded;
use nix::sched::{setns, unshare, CloneFlags};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// What a copy shim does inside the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CopyOp {
    /// Write a tar of `src` to stdout.
    Out {
        src: PathBuf,
        /// `-L`: follow `src` itself if it is a symlink.
        follow: bool,
        /// `src` ended in `/.`: its contents, not the directory.
        contents: bool,
    },
    /// Read a tar from stdin into `dest`.
    In {
        dest: String,
        layout: Layout,
        archive: bool,
    },
}

/// The shape of a tar stream, and so where its entries go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Layout {
    /// One top entry named after the source: into `dest` when that is a
    /// directory, else it becomes `dest`.
    Top,
    /// A directory's contents: into `dest`, created if missing.
    Contents,
    /// A user's tar (`compose cp - SERVICE:DIR`): into `dest`, which must
    /// be an existing directory.
    Stream,
}

/// Why a copy failed; each names the path involved.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no such directory: {} (create it first)", path.display())]
    NoSuchDirectory { path: PathBuf },
    #[error("{} is not a directory", path.display())]
    NotADirectory { path: PathBuf },
    #[error("cannot copy a directory onto the file {}", path.display())]
    DirectoryOntoFile { path: PathBuf },
    #[error("{} does not name a file to copy (use DIR/. to copy a directory's contents)", path.display())]
    NoName { path: PathBuf },
    #[error("the archive has no entry to copy")]
    EmptyArchive,
    #[error("cannot enter the container's mount namespace ({path}): {errno}")]
    Enter {
        path: String,
        errno: nix::errno::Errno,
    },
    #[error("cannot mount the stopped container's filesystem: {0}")]
    Mount(#[from] crate::container::error::SetupError),
    #[error("cannot {action}: {errno}")]
    Sys {
        action: &'static str,
        errno: nix::errno::Errno,
    },
    #[error("container {id} has no root filesystem to copy from (status {status:?})")]
    NoRootfs { id: String, status: Status },
    #[error("bad copy request {text:?}: {source}")]
    Request {
        text: String,
        source: serde_json::Error,
    },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> CopyError {
    let path = path.to_path_buf();
    move |source| CopyError::Io {
        action,
        path,
        source,
    }
}

/// A ready-to-spawn copy shim; keeps the sealed binary alive until spawned.
#[derive(Debug)]
pub struct CopyCommand {
    command: Command,
    _program: InitProgram,
}

impl CopyCommand {
    /// Set stdin/stdout/stderr here.
    pub fn command_mut(&mut self) -> &mut Command {
        &mut self.command
    }

    pub fn spawn(mut self) -> std::io::Result<std::process::Child> {
        self.command.spawn()
    }
}

impl Container {
    /// Prepare a copy shim performing `op` in this container (running or
    /// not).
    pub fn copy(&self, op: &CopyOp, init: &InitProgram) -> Result<CopyCommand, ContainerError> {
        let program = init.sealed_path().map_err(|source| ContainerError::Spawn {
            id: self.id().to_string(),
            program: init.path().to_path_buf(),
            source,
        })?;
        let mut command = Command::new(program);
        std::os::unix::process::CommandExt::arg0(&mut command, "compose")
            .arg("cp-shim")
            .arg(self.state_dir())
            .arg(serde_json::to_string(op).expect("copy ops serialise"))
            .env_clear();
        Ok(CopyCommand {
            command,
            _program: init.clone(),
        })
    }
}

/// The copy shim's entry point (`compose cp-shim <state-dir> <op>`);
/// returns the exit code (1 after printing the error).
pub fn shim_main(state_dir: &Path, op: &str) -> i32 {
    match shim(state_dir, op) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

fn shim(state_dir: &Path, op: &str) -> Result<(), CopyError> {
    let op: CopyOp = serde_json::from_str(op).map_err(|source| CopyError::Request {
        text: op.to_string(),
        source,
    })?;
    enter_rootfs(state_dir)?;
    match op {
        CopyOp::Out {
            src,
            follow,
            contents,
        } => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            write_archive(&src, follow, contents, &mut out)?;
            out.flush().map_err(io("write", Path::new("stdout")))
        }
        CopyOp::In {
            dest,
            layout,
            archive,
        } => extract_archive(std::io::stdin().lock(), &dest, layout, archive),
    }
}

/// Make the container's root filesystem ours (root and working directory).
fn enter_rootfs(state_dir: &Path) -> Result<(), CopyError> {
    let dir = StateDir::open(state_dir).map_err(io("open", state_dir))?;
    let config: InitConfig = dir
        .read_json(CONFIG_FILE)
        .map_err(io("read", &state_dir.join(CONFIG_FILE)))?;
    let state = dir
        .load_state()
        .map_err(io("read", &state_dir.join("state.json")))?;
    // setns(CLONE_NEWNS) refuses a process sharing its filesystem
    // information with other threads.
    SingleThreaded::check().map_err(io("count threads in", Path::new("/proc/self/task")))?;
    match (state.status, state.pid) {
        (Status::Running | Status::Paused, Some(pid)) => {
            let path = format!("/proc/{pid}/ns/mnt");
            let ns = std::fs::File::open(&path).map_err(io("open", Path::new(&path)))?;
            setns(&ns, CloneFlags::CLONE_NEWNS).map_err(|errno| CopyError::Enter { path, errno })
        }
        (Status::Created | Status::Stopped, _) => mount_stopped(state_dir, &config),
        (status, None) => Err(CopyError::NoRootfs {
            id: config.spec.id,
            status,
        }),
    }
}

/// A stopped container: its overlay in a mount namespace of our own.
fn mount_stopped(state_dir: &Path, config: &InitConfig) -> Result<(), CopyError> {
    unshare(CloneFlags::CLONE_NEWNS).map_err(|errno| CopyError::Sys {
        action: "create a mount namespace",
        errno,
    })?;
    rootfs::make_private()?;
    let merged = rootfs::mount_overlay(state_dir, &config.spec.rootfs.lower_dirs)?;
    nix::unistd::chroot(&merged).map_err(|errno| CopyError::Sys {
        action: "enter the container's filesystem",
        errno,
    })?;
    nix::unistd::chdir("/").map_err(|errno| CopyError::Sys {
        action: "enter the container's filesystem",
        errno,
    })
}

/// Write `src` as a tar stream: one top entry named after it, or with
/// `contents` the directory's entries. Symlinks are archived as links
/// (with `follow`, `src` itself is resolved first); devices and fifos as
/// headers only, never opened.
pub fn write_archive(
    src: &Path,
    follow: bool,
    contents: bool,
    out: &mut dyn Write,
) -> Result<(), CopyError> {
    let mut builder = tar::Builder::new(out);
    builder.follow_symlinks(false);
    let resolved = if follow {
        std::fs::canonicalize(src).map_err(io("resolve", src))?
    } else {
        src.to_path_buf()
    };
    let meta = std::fs::symlink_metadata(&resolved).map_err(io("read", src))?;
    if contents {
        if !meta.is_dir() {
            return Err(CopyError::NotADirectory {
                path: src.to_path_buf(),
            });
        }
        builder
            .append_dir_all("", &resolved)
            .map_err(io("archive", src))?;
    } else {
        let name = src.file_name().ok_or_else(|| CopyError::NoName {
            path: src.to_path_buf(),
        })?;
        if meta.is_dir() {
            builder
                .append_dir_all(name, &resolved)
                .map_err(io("archive", src))?;
        } else {
            builder
                .append_path_with_name(&resolved, name)
                .map_err(io("archive", src))?;
        }
    }
    builder.finish().map_err(io("archive", src))
}

/// Unpack a tar stream at `dest` (as the user wrote it: a trailing `/`
/// says it must be a directory). `archive` keeps the entries' owners
/// (`cp -a`); otherwise files belong to whoever extracts. The tar crate
/// refuses entries with `..` or absolute paths and writes through no
/// symlink leaving the directory it unpacks into.
pub fn extract_archive(
    input: impl Read,
    dest: &str,
    layout: Layout,
    archive: bool,
) -> Result<(), CopyError> {
    let path = Path::new(dest);
    let exists = std::fs::metadata(path).ok();
    let unpack = |into: &Path, input| {
        let mut tar = tar::Archive::new(input);
        tar.set_preserve_permissions(true);
        tar.set_preserve_mtime(true);
        tar.set_preserve_ownerships(archive);
        tar.set_overwrite(true);
        tar.unpack(into).map_err(io("unpack into", into))
    };
    match (layout, exists) {
        (Layout::Stream | Layout::Contents, Some(m)) if !m.is_dir() => {
            Err(CopyError::NotADirectory {
                path: path.to_path_buf(),
            })
        }
        (Layout::Stream, None) => Err(CopyError::NoSuchDirectory {
            path: path.to_path_buf(),
        }),
        (Layout::Contents, None) => {
            std::fs::create_dir(path).map_err(io("create", path))?;
            unpack(path, input)
        }
        (_, Some(m)) if m.is_dir() => unpack(path, input),
        (Layout::Top, _) if dest.ends_with('/') => Err(CopyError::NoSuchDirectory {
            path: path.to_path_buf(),
        }),
        (Layout::Top, exists) => replace_with_top(input, path, exists.is_some(), &unpack),
        (Layout::Stream | Layout::Contents, Some(_)) => unreachable!("directories handled above"),
    }
}

/// `dest` is not a directory: unpack next to it, then rename the single
/// top entry onto it (a file replaces a file; a directory needs the name
/// free).
fn replace_with_top<R: Read>(
    input: R,
    dest: &Path,
    exists: bool,
    unpack: &dyn Fn(&Path, R) -> Result<(), CopyError>,
) -> Result<(), CopyError> {
    let parent = match dest.parent() {
        Some(p) if p.as_os_str().is_empty() => Path::new("."),
        Some(p) => p,
        None => Path::new("/"),
    };
    if !parent.is_dir() {
        return Err(CopyError::NoSuchDirectory {
            path: parent.to_path_buf(),
        });
    }
    let staging = tempfile::Builder::new()
        .prefix(".compose-cp-")
        .tempdir_in(parent)
        .map_err(io("create a staging directory in", parent))?;
    unpack(staging.path(), input)?;
    let top = single_top(staging.path())?;
    let top_is_dir = std::fs::symlink_metadata(&top)
        .map(|m| m.is_dir())
        .unwrap_or(false);
    if exists && top_is_dir {
        return Err(CopyError::DirectoryOntoFile {
            path: dest.to_path_buf(),
        });
    }
    std::fs::rename(&top, dest).map_err(io("create", dest))
}

/// The one entry at the top of an unpacked archive.
fn single_top(dir: &Path) -> Result<PathBuf, CopyError> {
    let mut entries = std::fs::read_dir(dir).map_err(io("list", dir))?;
    let first = entries
        .next()
        .ok_or(CopyError::EmptyArchive)?
        .map_err(io("list", dir))?;
    Ok(first.path())
}

/// Split `SERVICE:PATH` into its parts; `None` for a local path (one that
/// has no `:` before its first `/`, as docker decides).
pub fn split_container_path(arg: &str) -> Option<(&str, &str)> {
    if arg.starts_with('/') || arg.starts_with('.') {
        return None;
    }
    let (name, path) = arg.split_once(':')?;
    (!name.contains('/') && !name.is_empty()).then_some((name, path))
}

/// Whether a source path asks for a directory's contents (`DIR/.`).
pub fn wants_contents(path: &str) -> bool {
    path.ends_with("/.") || path == "."
}

/// A container path made absolute: `docker cp` takes relative container
/// paths as relative to the container's root directory.
pub fn container_path(path: &str) -> PathBuf {
    let joined = Path::new("/").join(path);
    // Drop `.` components so `DIR/.` names DIR (its contents are asked
    // for separately).
    joined
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_paths_are_told_from_local_ones() {
        assert_eq!(
            split_container_path("web:/etc/hosts"),
            Some(("web", "/etc/hosts"))
        );
        assert_eq!(
            split_container_path("proj-web-1:tmp"),
            Some(("proj-web-1", "tmp"))
        );
        assert_eq!(split_container_path("./a:b"), None);
        assert_eq!(split_container_path("/tmp/a:b"), None);
        assert_eq!(split_container_path("dir/a:b"), None);
        assert_eq!(split_container_path("file.txt"), None);
    }

    #[test]
    fn container_paths_are_relative_to_the_root() {
        assert_eq!(container_path("a/b"), PathBuf::from("/a/b"));
        assert_eq!(container_path("/data/."), PathBuf::from("/data"));
        assert!(wants_contents("/data/."));
        assert!(!wants_contents("/data"));
    }

    fn roundtrip(src: &Path, contents: bool, dest: &str, layout: Layout) -> Result<(), CopyError> {
        let mut tar = Vec::new();
        write_archive(src, false, contents, &mut tar)?;
        extract_archive(&tar[..], dest, layout, false)
    }

    #[test]
    fn a_file_goes_into_a_directory_or_becomes_the_destination() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("a.txt");
        std::fs::write(&src, "hello").unwrap();
        let into = tmp.path().join("into");
        std::fs::create_dir(&into).unwrap();
        roundtrip(&src, false, into.to_str().unwrap(), Layout::Top).unwrap();
        assert_eq!(
            std::fs::read_to_string(into.join("a.txt")).unwrap(),
            "hello"
        );
        let renamed = tmp.path().join("b.txt");
        roundtrip(&src, false, renamed.to_str().unwrap(), Layout::Top).unwrap();
        assert_eq!(std::fs::read_to_string(&renamed).unwrap(), "hello");
        // Over an existing file: replaced.
        std::fs::write(&src, "again").unwrap();
        roundtrip(&src, false, renamed.to_str().unwrap(), Layout::Top).unwrap();
        assert_eq!(std::fs::read_to_string(&renamed).unwrap(), "again");
        // No staging directory is left behind.
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".compose-cp-"))
            .collect();
        assert!(left.is_empty());
        let missing = format!("{}/nodir/", tmp.path().display());
        assert!(matches!(
            roundtrip(&src, false, &missing, Layout::Top),
            Err(CopyError::NoSuchDirectory { .. })
        ));
    }

    #[test]
    fn directories_copy_whole_or_their_contents() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("d");
        std::fs::create_dir_all(src.join("sub")).unwrap();
        std::fs::write(src.join("sub/f"), "x").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", src.join("link")).unwrap();
        let copy = tmp.path().join("copy");
        roundtrip(&src, false, copy.to_str().unwrap(), Layout::Top).unwrap();
        assert_eq!(std::fs::read_to_string(copy.join("sub/f")).unwrap(), "x");
        // Links stay links.
        assert_eq!(
            std::fs::read_link(copy.join("link")).unwrap(),
            PathBuf::from("/etc/passwd")
        );
        let flat = tmp.path().join("flat");
        roundtrip(&src, true, flat.to_str().unwrap(), Layout::Contents).unwrap();
        assert_eq!(std::fs::read_to_string(flat.join("sub/f")).unwrap(), "x");
        let file = tmp.path().join("file");
        std::fs::write(&file, "").unwrap();
        assert!(matches!(
            roundtrip(&src, false, file.to_str().unwrap(), Layout::Top),
            Err(CopyError::DirectoryOntoFile { .. })
        ));
    }

    #[test]
    fn hostile_archives_cannot_leave_the_destination() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("dest");
        std::fs::create_dir(&dest).unwrap();
        std::os::unix::fs::symlink(tmp.path(), dest.join("escape")).unwrap();
        let mut data = Vec::new();
        {
            let mut b = tar::Builder::new(&mut data);
            let mut h = tar::Header::new_gnu();
            h.set_size(1);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, "escape/owned", &b"x"[..]).unwrap();
            b.finish().unwrap();
        }
        let result = extract_archive(&data[..], dest.to_str().unwrap(), Layout::Stream, false);
        assert!(result.is_err());
        assert!(!tmp.path().join("owned").exists());
    }
}
