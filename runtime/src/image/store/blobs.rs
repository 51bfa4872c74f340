//! Blobs: written to `tmp/` while hashed, checked, fsynced and renamed to
//! `blobs/sha256/<hex>`; a blob in place is therefore always whole and
//! correct.

use super::{io_err, ImageStore, StoreError};
use crate::image::digest::{Digest, HashingWriter};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

impl ImageStore {
    /// Where the blob `d` lives (whether or not it is there).
    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.dir.join("blobs/sha256").join(d.hex())
    }

    /// Whether the blob `d` is in the store.
    pub fn has_blob(&self, d: &Digest) -> bool {
        self.blob_path(d).is_file()
    }

    /// Store the content of `reader` as a blob that must have digest
    /// `expected`; on a mismatch nothing is stored. Returns the size.
    pub fn put_blob_verified<R: Read>(
        &self,
        expected: &Digest,
        reader: R,
    ) -> Result<u64, StoreError> {
        let (tmp, actual, size) = self.spool(reader)?;
        if &actual != expected {
            return Err(StoreError::DigestMismatch {
                expected: expected.clone(),
                actual,
            });
        }
        self.persist(tmp, &actual)?;
        Ok(size)
    }

    /// Store the content of `reader` under whatever digest it has.
    pub fn put_blob<R: Read>(&self, reader: R) -> Result<(Digest, u64), StoreError> {
        let (tmp, digest, size) = self.spool(reader)?;
        self.persist(tmp, &digest)?;
        Ok((digest, size))
    }

    /// Store `bytes` as a blob.
    pub fn put_blob_bytes(&self, bytes: &[u8]) -> Result<Digest, StoreError> {
        Ok(self.put_blob(bytes)?.0)
    }

    /// Open a blob for reading.
    pub fn open_blob(&self, d: &Digest) -> Result<File, StoreError> {
        File::open(self.blob_path(d)).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => StoreError::BlobMissing { digest: d.clone() },
            _ => StoreError::Io {
                path: self.blob_path(d),
                source: e,
            },
        })
    }

    /// The whole content of a (small) blob.
    pub fn read_blob(&self, d: &Digest) -> Result<Vec<u8>, StoreError> {
        let mut out = Vec::new();
        self.open_blob(d)?
            .read_to_end(&mut out)
            .map_err(io_err(&self.blob_path(d)))?;
        Ok(out)
    }

    /// A fresh temporary file in `tmp/`, removed unless persisted.
    pub(crate) fn temp_file(&self) -> Result<tempfile::NamedTempFile, StoreError> {
        tempfile::Builder::new()
            .prefix("blob-")
            .tempfile_in(self.tmp_dir())
            .map_err(io_err(&self.tmp_dir()))
    }

    fn spool<R: Read>(
        &self,
        mut reader: R,
    ) -> Result<(tempfile::NamedTempFile, Digest, u64), StoreError> {
        let tmp = self.temp_file()?;
        let mut w = HashingWriter::new(io::BufWriter::new(tmp));
        io::copy(&mut reader, &mut w).map_err(|source| StoreError::Io {
            path: self.tmp_dir(),
            source,
        })?;
        let (digest, size, buf) = w.finish();
        let tmp = buf.into_inner().map_err(|e| StoreError::Io {
            path: self.tmp_dir(),
            source: e.into_error(),
        })?;
        tmp.as_file().sync_all().map_err(io_err(tmp.path()))?;
        Ok((tmp, digest, size))
    }

    pub(super) fn persist(
        &self,
        tmp: tempfile::NamedTempFile,
        d: &Digest,
    ) -> Result<(), StoreError> {
        let dest = self.blob_path(d);
        tmp.persist(&dest).map_err(|e| StoreError::Io {
            path: dest.clone(),
            source: e.error,
        })?;
        Ok(())
    }
}

/// Write `bytes` to `path` atomically: a temp file beside it, fsync, rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(io_err(dir))?;
    tmp.write_all(bytes).map_err(io_err(tmp.path()))?;
    tmp.as_file().sync_all().map_err(io_err(path))?;
    tmp.persist(path).map_err(|e| StoreError::Io {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}
