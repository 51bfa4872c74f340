//! Applying one tar entry to the layer directory: files, directories,
//! symlinks, hard links, devices, FIFOs and whiteouts, with their owner,
//! mode, mtime and extended attributes (PAX `SCHILY.xattr.*` records, as GNU
//! tar and Docker write them).

use super::path::{ensure_parents, escape, relative, remove_existing, set_mode, EscapeKind};
use super::UnpackError;
use nix::sys::stat::{makedev, mknod, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use std::ffi::OsStr;
use std::fs::OpenOptions;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use tar::EntryType;

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";
const OPAQUE_XATTR: &str = "trusted.overlay.opaque";
const OVERLAY_XATTR_PREFIX: &str = "trusted.overlay.";

/// Unpacking state carried across the entries of one layer.
pub struct State {
    root: PathBuf,
    /// Directory mtimes, set at the end: creating children changes them.
    dir_times: Vec<(PathBuf, u64)>,
    /// Bytes of regular file content written.
    pub size: u64,
}

/// The metadata of one entry, PAX overrides applied.
struct Meta {
    uid: u64,
    gid: u64,
    mode: u32,
    mtime: u64,
    xattrs: Vec<(String, Vec<u8>)>,
}

impl State {
    pub fn new(root: &Path) -> State {
        State {
            root: root.to_path_buf(),
            dir_times: Vec::new(),
            size: 0,
        }
    }

    pub fn set_root_mode(&self, mode: u32) -> Result<(), UnpackError> {
        set_mode(&self.root, mode)
    }

    /// Apply one entry.
    pub fn apply<R: Read>(&mut self, mut e: tar::Entry<'_, R>) -> Result<(), UnpackError> {
        let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        let kind = e.header().entry_type();
        if matches!(
            kind,
            EntryType::XGlobalHeader
                | EntryType::XHeader
                | EntryType::GNULongName
                | EntryType::GNULongLink
        ) {
            return Ok(());
        }
        let meta = read_meta(&mut e).map_err(|source| UnpackError::Corrupt {
            format: "tar",
            source,
        })?;
        let raw = e
            .path()
            .map_err(|source| UnpackError::Corrupt {
                format: "tar",
                source,
            })?
            .into_owned();
        let Some(rel) = relative(&name, &raw, false)? else {
            // `./` itself: the layer root takes its mode, owner and mtime.
            let root = self.root.clone();
            return self.finish_dir(&root, &meta);
        };
        let parent = ensure_parents(&self.root, &rel, &name, false)?;
        // Names stay bytes: Linux file names need not be UTF-8.
        let file_name = rel.file_name().unwrap_or_default();
        let target = parent.join(file_name);
        if file_name.as_bytes() == OPAQUE_MARKER.as_bytes() {
            return set_xattr(&parent, OPAQUE_XATTR, b"y");
        }
        if let Some(hidden) = file_name
            .as_bytes()
            .strip_prefix(WHITEOUT_PREFIX.as_bytes())
        {
            return self.whiteout(&name, &parent, OsStr::from_bytes(hidden), &meta);
        }
        match kind {
            EntryType::Directory => self.directory(&target, &meta),
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                self.regular(&mut e, &target, &meta)
            }
            EntryType::Symlink => self.symlink(&e, &name, &target, &meta),
            EntryType::Link => self.hard_link(&e, &name, &target),
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                self.special(&e, kind, &target, &meta)
            }
            other => Err(UnpackError::UnsupportedType {
                entry: name,
                kind: format!("{other:?}"),
            }),
        }
    }

    /// Set the directory mtimes recorded while unpacking.
    pub fn finish(&self) -> Result<(), UnpackError> {
        for (dir, mtime) in self.dir_times.iter().rev() {
            set_mtime(dir, *mtime)?;
        }
        Ok(())
    }

    fn whiteout(
        &mut self,
        entry: &str,
        parent: &Path,
        hidden: &OsStr,
        meta: &Meta,
    ) -> Result<(), UnpackError> {
        if hidden.is_empty() || hidden == "." || hidden == ".." || hidden.as_bytes().contains(&b'/')
        {
            return Err(escape(entry, EscapeKind::BadWhiteout));
        }
        let path = parent.join(hidden);
        remove_existing(&path)?;
        mknod(&path, SFlag::S_IFCHR, Mode::empty(), makedev(0, 0))
            .map_err(|e| write_err(&path, e.into()))?;
        chown(&path, meta)
    }

    fn directory(&mut self, path: &Path, meta: &Meta) -> Result<(), UnpackError> {
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => {}
            _ => {
                remove_existing(path)?;
                std::fs::create_dir(path).map_err(|e| write_err(path, e))?;
            }
        }
        self.finish_dir(path, meta)
    }

    fn finish_dir(&mut self, path: &Path, meta: &Meta) -> Result<(), UnpackError> {
        chown(path, meta)?;
        set_mode(path, meta.mode)?;
        apply_xattrs(path, meta)?;
        self.dir_times.push((path.to_path_buf(), meta.mtime));
        Ok(())
    }

    fn regular<R: Read>(
        &mut self,
        e: &mut tar::Entry<'_, R>,
        path: &Path,
        meta: &Meta,
    ) -> Result<(), UnpackError> {
        remove_existing(path)?;
        // O_EXCL|O_NOFOLLOW: never write through anything planted at `path`.
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(path)
            .map_err(|err| write_err(path, err))?;
        let n = io::copy(e, &mut file).map_err(|source| UnpackError::Corrupt {
            format: "tar",
            source,
        })?;
        self.size += n;
        drop(file);
        chown(path, meta)?;
        set_mode(path, meta.mode)?;
        apply_xattrs(path, meta)?;
        set_mtime(path, meta.mtime)
    }

    fn symlink<R: Read>(
        &mut self,
        e: &tar::Entry<'_, R>,
        entry: &str,
        path: &Path,
        meta: &Meta,
    ) -> Result<(), UnpackError> {
        // The target is stored verbatim: it is resolved inside the
        // container's root, never by us.
        let target = link_name(e, entry)?;
        remove_existing(path)?;
        std::os::unix::fs::symlink(&target, path).map_err(|err| write_err(path, err))?;
        chown(path, meta)?;
        apply_xattrs(path, meta)?;
        set_mtime(path, meta.mtime)
    }

    fn hard_link<R: Read>(
        &mut self,
        e: &tar::Entry<'_, R>,
        entry: &str,
        path: &Path,
    ) -> Result<(), UnpackError> {
        let raw = link_name(e, entry)?;
        let missing = || UnpackError::MissingLinkTarget {
            entry: entry.to_string(),
            target: raw.display().to_string(),
        };
        let rel = relative(entry, &raw, true)?.ok_or_else(missing)?;
        let dir = ensure_parents(&self.root, &rel, entry, true)?;
        let source = dir.join(rel.file_name().ok_or_else(missing)?);
        match std::fs::symlink_metadata(&source) {
            Ok(m) if !m.is_dir() => {}
            _ => return Err(missing()),
        }
        if source == path {
            return Ok(());
        }
        remove_existing(path)?;
        // linkat(2) without AT_SYMLINK_FOLLOW: a symlink source is linked
        // itself, never followed.
        std::fs::hard_link(&source, path).map_err(|err| write_err(path, err))
    }

    fn special<R: Read>(
        &mut self,
        e: &tar::Entry<'_, R>,
        kind: EntryType,
        path: &Path,
        meta: &Meta,
    ) -> Result<(), UnpackError> {
        let h = e.header();
        let major = h.device_major().ok().flatten().unwrap_or(0);
        let minor = h.device_minor().ok().flatten().unwrap_or(0);
        let sflag = match kind {
            EntryType::Char => SFlag::S_IFCHR,
            EntryType::Block => SFlag::S_IFBLK,
            _ => SFlag::S_IFIFO,
        };
        remove_existing(path)?;
        let dev = makedev(major.into(), minor.into());
        mknod(path, sflag, Mode::empty(), dev).map_err(|err| write_err(path, err.into()))?;
        chown(path, meta)?;
        set_mode(path, meta.mode)?;
        set_mtime(path, meta.mtime)
    }
}

fn link_name<R: Read>(e: &tar::Entry<'_, R>, entry: &str) -> Result<PathBuf, UnpackError> {
    match e.link_name() {
        Ok(Some(p)) => Ok(p.into_owned()),
        Ok(None) => Err(UnpackError::MissingLinkTarget {
            entry: entry.to_string(),
            target: String::new(),
        }),
        Err(source) => Err(UnpackError::Corrupt {
            format: "tar",
            source,
        }),
    }
}

fn read_meta<R: Read>(e: &mut tar::Entry<'_, R>) -> io::Result<Meta> {
    let h = e.header();
    let mut meta = Meta {
        uid: h.uid()?,
        gid: h.gid()?,
        mode: h.mode()? & 0o7777,
        mtime: h.mtime()?,
        xattrs: Vec::new(),
    };
    if let Some(exts) = e.pax_extensions()? {
        for ext in exts {
            let ext = ext?;
            let key = ext
                .key()
                .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))?;
            let number = || {
                std::str::from_utf8(ext.value_bytes())
                    .ok()
                    .and_then(|v| v.split('.').next()?.parse::<u64>().ok())
            };
            match key {
                "uid" => meta.uid = number().unwrap_or(meta.uid),
                "gid" => meta.gid = number().unwrap_or(meta.gid),
                "mtime" => meta.mtime = number().unwrap_or(meta.mtime),
                _ => {
                    // overlayfs reads its own `trusted.overlay.*` attributes
                    // (opaque, redirect, metacopy) from lower dirs; only our
                    // whiteout conversion may set them, never the layer.
                    let name = key
                        .strip_prefix("SCHILY.xattr.")
                        .filter(|n| !n.starts_with(OVERLAY_XATTR_PREFIX));
                    if let Some(name) = name {
                        meta.xattrs
                            .push((name.to_string(), ext.value_bytes().to_vec()));
                    }
                }
            }
        }
    }
    Ok(meta)
}

fn write_err(path: &Path, source: io::Error) -> UnpackError {
    UnpackError::Write {
        path: path.to_path_buf(),
        source,
    }
}

fn chown(path: &Path, meta: &Meta) -> Result<(), UnpackError> {
    let id = |v: u64| u32::try_from(v).ok();
    std::os::unix::fs::lchown(path, id(meta.uid), id(meta.gid)).map_err(|source| {
        UnpackError::Metadata {
            path: path.to_path_buf(),
            what: "owner",
            source,
        }
    })
}

fn set_mtime(path: &Path, mtime: u64) -> Result<(), UnpackError> {
    let t = TimeSpec::new(i64::try_from(mtime).unwrap_or(i64::MAX), 0);
    utimensat(
        nix::fcntl::AT_FDCWD,
        path,
        &t,
        &t,
        UtimensatFlags::NoFollowSymlink,
    )
    .map_err(|e| UnpackError::Metadata {
        path: path.to_path_buf(),
        what: "mtime",
        source: e.into(),
    })
}

fn set_xattr(path: &Path, name: &str, value: &[u8]) -> Result<(), UnpackError> {
    // The xattr crate uses the l* calls: symlinks are not followed.
    xattr::set(path, name, value).map_err(|source| UnpackError::Metadata {
        path: path.to_path_buf(),
        what: "extended attribute",
        source,
    })
}

fn apply_xattrs(path: &Path, meta: &Meta) -> Result<(), UnpackError> {
    for (name, value) in &meta.xattrs {
        set_xattr(path, name, value)?;
    }
    Ok(())
}
