//! Images for tests to push: Debian's static busybox as a rootfs, layers of
//! pseudo-random (incompressible) bytes, and a push of config, layers and
//! manifest in one call.

use super::LocalRegistry;
use crate::image::Digest;
use serde_json::json;
use std::io::Write;

/// A layer as (uncompressed tar, blob as pushed, media type).
pub type Layer = (Vec<u8>, Vec<u8>, &'static str);

const MTIME: u64 = 1_600_000_000;

/// A tar header with fixed owner and mtime, for reproducible test layers.
pub fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(MTIME);
    h.set_uid(0);
    h.set_gid(0);
    h
}

fn append(b: &mut tar::Builder<Vec<u8>>, kind: tar::EntryType, path: &str, mode: u32, data: &[u8]) {
    let mut h = header(kind, mode, data.len() as u64);
    b.append_data(&mut h, path, data).expect("append to tar");
}

fn link(b: &mut tar::Builder<Vec<u8>>, kind: tar::EntryType, path: &str, target: &str) {
    let mut h = header(kind, 0o777, 0);
    b.append_link(&mut h, path, target)
        .expect("append link to tar");
}

/// A rootfs tarball with Debian's static busybox as /bin/busybox and
/// applet links, as a minimal real image would be.
pub fn busybox_rootfs_tar() -> Vec<u8> {
    use tar::EntryType::{Directory, Link, Regular, Symlink};
    let busybox = std::fs::read("/usr/bin/busybox")
        .or_else(|_| std::fs::read("/bin/busybox"))
        .expect("busybox-static must be installed (apt-get install busybox-static)");
    let mut b = tar::Builder::new(Vec::new());
    append(&mut b, Directory, "bin", 0o755, b"");
    append(&mut b, Regular, "bin/busybox", 0o755, &busybox);
    link(&mut b, Symlink, "bin/sh", "busybox");
    link(&mut b, Symlink, "bin/ls", "busybox");
    link(&mut b, Link, "bin/cat", "bin/busybox");
    append(&mut b, Directory, "etc", 0o755, b"");
    let passwd = b"root:x:0:0:root:/root:/bin/sh\n";
    append(&mut b, Regular, "etc/passwd", 0o644, passwd);
    append(&mut b, Directory, "tmp", 0o1777, b"");
    append(&mut b, Directory, "root", 0o700, b"");
    b.into_inner().expect("finish tar")
}

/// A layer tarball holding one file, `data/<seed>.bin`, of `size`
/// pseudo-random bytes (splitmix64: fast, and no compressor shrinks it).
pub fn random_layer(seed: u64, size: usize) -> Vec<u8> {
    let mut data = Vec::with_capacity(size + 8);
    let mut state = seed;
    while data.len() < size {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        data.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    data.truncate(size);
    let mut b = tar::Builder::new(Vec::new());
    append(&mut b, tar::EntryType::Directory, "data", 0o755, b"");
    let name = format!("data/{seed}.bin");
    append(&mut b, tar::EntryType::Regular, &name, 0o644, &data);
    b.into_inner().expect("finish tar")
}

/// `data` gzip-compressed at the fastest level.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("gzip");
    gz.finish().expect("gzip")
}

/// Push a config for `arch` and the layers, then return the manifest of
/// `manifest_type` (not pushed: the caller pushes it under a tag or
/// references it from an index).
pub fn push_image(
    reg: &LocalRegistry,
    repo: &str,
    layers: &[Layer],
    arch: &str,
    manifest_type: &str,
    config_type: &str,
) -> Vec<u8> {
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| Digest::of(&l.0).to_string())
        .collect();
    let config = serde_json::to_vec(&json!({
        "architecture": arch, "os": "linux",
        "created": "2024-01-02T03:04:05Z",
        "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .expect("config JSON");
    let config_digest = reg.push_blob(repo, &config);
    let layer_descs: Vec<_> = layers
        .iter()
        .map(|(_, blob, media)| {
            let digest = reg.push_blob(repo, blob);
            json!({"mediaType": media, "digest": digest, "size": blob.len()})
        })
        .collect();
    serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": manifest_type,
        "config": {"mediaType": config_type, "digest": config_digest, "size": config.len()},
        "layers": layer_descs,
    }))
    .expect("manifest JSON")
}
