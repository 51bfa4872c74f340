//! Storing a layer blob and unpacking it in one pass over the download,
//! so a pull reads each layer once instead of writing it, then reading it
//! back to unpack.
//!
//! Safe because nothing becomes visible before both checks pass: the
//! unpacker treats every tarball as hostile whatever its digest (see
//! `unpack`), it writes only under a fresh directory in `tmp/`, and the
//! blob and the layer are renamed into place only once the blob's digest
//! and the layer's diff ID both match. A failure drops both temporaries.

use super::{io_err, ImageStore, StoreError};
use crate::image::digest::{Digest, HashingWriter};
use crate::image::unpack::unpack_layer;
use std::io::{self, BufWriter, Read, Write};

/// Blob writes go through a buffer this large: few, large write(2) calls.
const BLOB_BUFFER: usize = 1 << 20;

impl ImageStore {
    /// Store layer blob `blob` from `reader` (which must hash to `blob`),
    /// unpacking it meanwhile as layer stack `chain_id` (whose content
    /// must hash to `diff_id`). Returns the blob's size. A layer already
    /// unpacked is not unpacked again.
    pub fn put_layer_unpacking<R: Read>(
        &self,
        blob: &Digest,
        diff_id: &Digest,
        chain_id: &Digest,
        reader: R,
    ) -> Result<u64, StoreError> {
        if self.has_layer(chain_id) {
            return self.put_blob_verified(blob, reader);
        }
        let dir = self.temp_layer_dir()?;
        let file = self.temp_file()?;
        let mut tee = Tee {
            inner: reader,
            out: HashingWriter::new(BufWriter::with_capacity(BLOB_BUFFER, file)),
        };
        let unpacked = unpack_layer(&mut tee, dir.path());
        // Decoders stop at the end of their stream: the blob's digest
        // covers every byte, trailing ones included.
        let drained = io::copy(&mut tee, &mut io::sink());
        let (actual, size, buffered) = tee.out.finish();
        drained.map_err(io_err(&self.tmp_dir()))?;
        // A blob that is not what the manifest says explains any unpack
        // error that came of it: report the mismatch first.
        if &actual != blob {
            return Err(StoreError::DigestMismatch {
                expected: blob.clone(),
                actual,
            });
        }
        let unpacked = unpacked.map_err(|source| StoreError::Unpack {
            layer: blob.clone(),
            source,
        })?;
        if &unpacked.diff_id != diff_id {
            return Err(StoreError::DiffIdMismatch {
                layer: blob.clone(),
                expected: diff_id.clone(),
                actual: unpacked.diff_id,
            });
        }
        let file = buffered.into_inner().map_err(|e| StoreError::Io {
            path: self.tmp_dir(),
            source: e.into_error(),
        })?;
        file.as_file().sync_all().map_err(io_err(file.path()))?;
        self.persist(file, blob)?;
        self.install_layer(dir, blob, diff_id, chain_id, unpacked.size)?;
        Ok(size)
    }
}

/// Copies everything read through it into `out`.
struct Tee<R, W> {
    inner: R,
    out: W,
}

impl<R: Read, W: Write> Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out.write_all(&buf[..n])?;
        Ok(n)
    }
}
