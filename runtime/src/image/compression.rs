//! Layer compression: gzip, zstd or none, recognised by the stream's magic
//! bytes rather than trusted from the media type (Docker does the same in
//! `archive.DetectCompression`), so a mislabelled layer still unpacks.

use std::io::{self, BufReader, Read};

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

impl Compression {
    /// Recognise the compression from the first bytes of a stream.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&GZIP_MAGIC) {
            Compression::Gzip
        } else if head.starts_with(&ZSTD_MAGIC) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// What a stream of this compression is, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Compression::None => "tar",
            Compression::Gzip => "gzip-compressed tar",
            Compression::Zstd => "zstd-compressed tar",
        }
    }

    /// The OCI layer media type for this compression.
    pub fn oci_media_type(self) -> &'static str {
        match self {
            Compression::None => super::oci::OCI_LAYER,
            Compression::Gzip => super::oci::OCI_LAYER_GZIP,
            Compression::Zstd => super::oci::OCI_LAYER_ZSTD,
        }
    }
}

/// Wrap `reader` in the decompressor its magic bytes call for.
pub fn decompress<'a, R: Read + 'a>(
    mut reader: R,
) -> io::Result<(Compression, Box<dyn Read + 'a>)> {
    // Read the magic by hand: one short read from a socket must not hide it.
    let mut head = [0u8; 4];
    let mut have = 0;
    while have < head.len() {
        match reader.read(&mut head[have..]) {
            Ok(0) => break,
            Ok(n) => have += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let kind = Compression::sniff(&head[..have]);
    let whole = BufReader::with_capacity(
        64 * 1024,
        io::Cursor::new(head).take(have as u64).chain(reader),
    );
    let out: Box<dyn Read + 'a> = match kind {
        Compression::None => Box::new(whole),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(whole)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(whole)?),
    };
    Ok((kind, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn roundtrip(data: &[u8], packed: Vec<u8>, want: Compression) {
        let (kind, mut r) = decompress(&packed[..]).unwrap();
        assert_eq!(kind, want);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn recognises_gzip_zstd_and_plain() {
        let data = b"some layer bytes".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        roundtrip(&data, gz.finish().unwrap(), Compression::Gzip);
        roundtrip(
            &data,
            zstd::encode_all(&data[..], 1).unwrap(),
            Compression::Zstd,
        );
        roundtrip(&data, data.clone(), Compression::None);
        roundtrip(b"", Vec::new(), Compression::None);
    }

    #[test]
    fn corrupt_gzip_is_an_error() {
        let mut bad = vec![0x1f, 0x8b, 8, 0];
        bad.extend_from_slice(&[0xff; 32]);
        let (_, mut r) = decompress(&bad[..]).unwrap();
        assert!(r.read_to_end(&mut Vec::new()).is_err());
    }
}
