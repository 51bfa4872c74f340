//! Helpers shared by the image store's integration tests: the root check,
//! a temporary `COMPOSE_ROOT`, and a tarball builder that can also write
//! the hostile entries the `tar` crate's safe API refuses to make.
#![allow(dead_code)]

pub mod token;

// Not every test binary uses both.
#[allow(unused_imports)]
pub use compose_runtime::testing::{busybox_rootfs_tar, gzip};

use std::io::Write;
use std::path::{Path, PathBuf};

/// These tests create device nodes, chown files and set trusted.* xattrs:
/// they must run as root, and fail loudly (never skip) when they are not.
pub fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test needs root (mknod, chown, trusted.* xattrs); run the suite as root"
    );
}

/// A temporary `COMPOSE_ROOT` with its image store, removed on drop.
pub struct TestRoot {
    pub dir: tempfile::TempDir,
    pub store: compose_runtime::image::ImageStore,
}

impl TestRoot {
    pub fn new() -> TestRoot {
        require_root();
        let dir = tempfile::tempdir().expect("temp dir");
        let store = compose_runtime::image::ImageStore::open(dir.path()).expect("open store");
        TestRoot { dir, store }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Builds a layer tarball entry by entry.
pub struct TarBuilder {
    b: tar::Builder<Vec<u8>>,
}

pub const MTIME: u64 = 1_600_000_000;

impl Default for TarBuilder {
    fn default() -> Self {
        TarBuilder::new()
    }
}

impl TarBuilder {
    pub fn new() -> TarBuilder {
        TarBuilder {
            b: tar::Builder::new(Vec::new()),
        }
    }

    fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        compose_runtime::testing::header(kind, mode, size)
    }

    pub fn dir(&mut self, path: &str, mode: u32) -> &mut Self {
        let mut h = Self::header(tar::EntryType::Directory, mode, 0);
        self.b.append_data(&mut h, path, std::io::empty()).unwrap();
        self
    }

    pub fn file(&mut self, path: &str, data: &[u8], mode: u32) -> &mut Self {
        self.file_owned(path, data, mode, 0, 0)
    }

    pub fn file_owned(
        &mut self,
        path: &str,
        data: &[u8],
        mode: u32,
        uid: u64,
        gid: u64,
    ) -> &mut Self {
        let mut h = Self::header(tar::EntryType::Regular, mode, data.len() as u64);
        h.set_uid(uid);
        h.set_gid(gid);
        self.b.append_data(&mut h, path, data).unwrap();
        self
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        let mut h = Self::header(tar::EntryType::Symlink, 0o777, 0);
        self.b.append_link(&mut h, path, target).unwrap();
        self
    }

    pub fn hardlink(&mut self, path: &str, target: &str) -> &mut Self {
        let mut h = Self::header(tar::EntryType::Link, 0o644, 0);
        self.b.append_link(&mut h, path, target).unwrap();
        self
    }

    /// A PAX extended header applying to the next entry.
    pub fn pax(&mut self, records: &[(&str, &[u8])]) -> &mut Self {
        let mut data = Vec::new();
        for (k, v) in records {
            let body_len = 1 + k.len() + 1 + v.len() + 1;
            let mut len = body_len + 1;
            while len != body_len + len.to_string().len() {
                len = body_len + len.to_string().len();
            }
            write!(data, "{len} {k}=").unwrap();
            data.extend_from_slice(v);
            data.push(b'\n');
        }
        let mut h = Self::header(tar::EntryType::XHeader, 0o644, data.len() as u64);
        h.set_path("PaxHeaders/x").unwrap();
        h.set_cksum();
        self.b.append(&h, &data[..]).unwrap();
        self
    }

    /// An entry with raw name and link name bytes, bypassing the `tar`
    /// crate's own checks (which refuse `..` and absolute paths).
    pub fn raw(&mut self, kind: tar::EntryType, name: &str, link: &str, data: &[u8]) -> &mut Self {
        let mut h = Self::header(kind, 0o644, data.len() as u64);
        {
            let old = h.as_old_mut();
            old.name = [0; 100];
            old.name[..name.len()].copy_from_slice(name.as_bytes());
            old.linkname = [0; 100];
            old.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        h.set_cksum();
        self.b.append(&h, data).unwrap();
        self
    }

    pub fn finish(self) -> Vec<u8> {
        self.b.into_inner().unwrap()
    }
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

pub fn sha256(data: &[u8]) -> compose_runtime::image::Digest {
    compose_runtime::image::Digest::of(data)
}

pub fn read_link(p: &Path) -> PathBuf {
    std::fs::read_link(p).unwrap()
}
