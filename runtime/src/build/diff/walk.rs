//! Walking the upper dir in a fixed order and writing one tar entry (or
//! two, for an opaque directory) per path.

use super::{DiffError, DiffOptions};
use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, File, Metadata};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use tar::{EntryType, Header};

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";
const OPAQUE_XATTR: &str = "trusted.overlay.opaque";
/// overlayfs's own bookkeeping (`trusted.overlay.*`, or `user.overlay.*`
/// with the `userxattr` mount option): never part of image content.
const OVERLAY_XATTRS: [&str; 2] = ["trusted.overlay.", "user.overlay."];

pub struct Walker<'a> {
    lowers: &'a [PathBuf],
    upper: &'a Path,
    options: DiffOptions,
    /// First path written for each (dev, inode) with several links.
    links: HashMap<(u64, u64), PathBuf>,
    entries: usize,
}

impl<'a> Walker<'a> {
    pub fn new(lowers: &'a [PathBuf], upper: &'a Path, options: DiffOptions) -> Walker<'a> {
        Walker {
            lowers,
            upper,
            options,
            links: HashMap::new(),
            entries: 0,
        }
    }

    /// Write every entry; returns how many were written.
    pub fn write_all<W: Write>(mut self, tar: &mut tar::Builder<W>) -> Result<usize, DiffError> {
        self.dir(tar, Path::new(""))?;
        Ok(self.entries)
    }

    fn dir<W: Write>(&mut self, tar: &mut tar::Builder<W>, rel: &Path) -> Result<(), DiffError> {
        let full = self.upper.join(rel);
        let read_err = |source| DiffError::Read {
            path: full.clone(),
            source,
        };
        let mut names: Vec<OsString> = fs::read_dir(&full)
            .map_err(read_err)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .map_err(read_err)?;
        names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        for name in names {
            let child = rel.join(&name);
            self.entry(tar, &child)?;
        }
        Ok(())
    }

    fn entry<W: Write>(&mut self, tar: &mut tar::Builder<W>, rel: &Path) -> Result<(), DiffError> {
        let full = self.upper.join(rel);
        let meta = fs::symlink_metadata(&full).map_err(|source| DiffError::Read {
            path: full.clone(),
            source,
        })?;
        let ft = meta.file_type();
        if ft.is_char_device() && meta.rdev() == 0 {
            return self.whiteout(tar, rel, &meta);
        }
        if ft.is_socket() {
            // Docker leaves sockets out of layers: they cannot be archived.
            return Ok(());
        }
        let xattrs = self.xattrs(&full)?;
        let mut header = self.header(&meta);
        if ft.is_dir() {
            header.set_entry_type(EntryType::Directory);
            self.append(tar, &header, &xattrs, rel, Payload::None)?;
            if xattr_is(&full, OPAQUE_XATTR, b"y") {
                let mut marker = self.header(&meta);
                marker.set_entry_type(EntryType::Regular);
                marker.set_mode(0o600);
                self.append(tar, &marker, &[], &rel.join(OPAQUE_MARKER), Payload::None)?;
            }
            return self.dir(tar, rel);
        }
        if meta.nlink() > 1 && !ft.is_dir() {
            let key = (meta.dev(), meta.ino());
            if let Some(first) = self.links.get(&key).cloned() {
                header.set_entry_type(EntryType::Link);
                header.set_size(0);
                return self.append(tar, &header, &[], rel, Payload::Link(&first));
            }
            self.links.insert(key, rel.to_path_buf());
        }
        if ft.is_symlink() {
            let target = fs::read_link(&full).map_err(|source| DiffError::Read {
                path: full.clone(),
                source,
            })?;
            header.set_entry_type(EntryType::Symlink);
            return self.append(tar, &header, &xattrs, rel, Payload::Link(&target));
        }
        if ft.is_file() {
            header.set_entry_type(EntryType::Regular);
            header.set_size(meta.len());
            let file = File::open(&full).map_err(|source| DiffError::Read {
                path: full.clone(),
                source,
            })?;
            return self.append(tar, &header, &xattrs, rel, Payload::File(file));
        }
        let kind = if ft.is_char_device() {
            EntryType::Char
        } else if ft.is_block_device() {
            EntryType::Block
        } else {
            EntryType::Fifo
        };
        header.set_entry_type(kind);
        if kind != EntryType::Fifo {
            let rdev = meta.rdev();
            let set = |r: std::io::Result<()>| {
                r.map_err(|source| DiffError::Name {
                    path: full.clone(),
                    source,
                })
            };
            set(header.set_device_major(nix::sys::stat::major(rdev) as u32))?;
            set(header.set_device_minor(nix::sys::stat::minor(rdev) as u32))?;
        }
        self.append(tar, &header, &xattrs, rel, Payload::None)
    }

    /// A 0/0 char device: `.wh.<name>`, if some lower has `<name>`.
    fn whiteout<W: Write>(
        &mut self,
        tar: &mut tar::Builder<W>,
        rel: &Path,
        meta: &Metadata,
    ) -> Result<(), DiffError> {
        let hides_something = self
            .lowers
            .iter()
            .any(|l| fs::symlink_metadata(l.join(rel)).is_ok());
        if !hides_something {
            return Ok(());
        }
        let mut name = OsString::from(WHITEOUT_PREFIX);
        name.push(rel.file_name().unwrap_or_default());
        let path = rel.with_file_name(name);
        let mut header = self.header(meta);
        header.set_entry_type(EntryType::Regular);
        header.set_mode(0o600);
        self.append(tar, &header, &[], &path, Payload::None)
    }

    /// Owner, mode and (clamped) mtime; size 0 until a file sets it.
    fn header(&self, meta: &Metadata) -> Header {
        let mut h = Header::new_gnu();
        h.set_uid(u64::from(meta.uid()));
        h.set_gid(u64::from(meta.gid()));
        h.set_mode(meta.mode() & 0o7777);
        let mtime = meta.mtime().max(0) as u64;
        h.set_mtime(match self.options.clamp_mtime {
            Some(limit) => mtime.min(limit),
            None => mtime,
        });
        h.set_size(0);
        h
    }

    /// Extended attributes other than overlayfs's own, sorted by name.
    fn xattrs(&self, path: &Path) -> Result<Vec<(String, Vec<u8>)>, DiffError> {
        let read_err = |source| DiffError::Read {
            path: path.to_path_buf(),
            source,
        };
        let mut out = Vec::new();
        for name in xattr::list(path).map_err(read_err)? {
            let Some(name) = name.to_str().map(str::to_string) else {
                continue;
            };
            if OVERLAY_XATTRS.iter().any(|p| name.starts_with(p)) {
                continue;
            }
            if let Some(value) = xattr::get(path, &name).map_err(read_err)? {
                out.push((name, value));
            }
        }
        out.sort();
        Ok(out)
    }

    fn append<W: Write>(
        &mut self,
        tar: &mut tar::Builder<W>,
        header: &Header,
        xattrs: &[(String, Vec<u8>)],
        rel: &Path,
        payload: Payload<'_>,
    ) -> Result<(), DiffError> {
        let write_err = |source| DiffError::Write {
            upper: self.upper.to_path_buf(),
            source,
        };
        if !xattrs.is_empty() {
            let records: Vec<(String, &[u8])> = xattrs
                .iter()
                .map(|(k, v)| (format!("SCHILY.xattr.{k}"), v.as_slice()))
                .collect();
            tar.append_pax_extensions(records.iter().map(|(k, v)| (k.as_str(), *v)))
                .map_err(write_err)?;
        }
        let mut header = header.clone();
        let result = match payload {
            Payload::None => tar.append_data(&mut header, rel, std::io::empty()),
            Payload::File(f) => tar.append_data(&mut header, rel, f),
            Payload::Link(target) => tar.append_link(&mut header, rel, target),
        };
        result.map_err(write_err)?;
        self.entries += 1;
        Ok(())
    }
}

enum Payload<'p> {
    None,
    File(File),
    Link(&'p Path),
}

fn xattr_is(path: &Path, name: &str, want: &[u8]) -> bool {
    matches!(xattr::get(path, name), Ok(Some(v)) if v == want)
}
