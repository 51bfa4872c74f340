//! The cache key of a build step: a step is reused when its parent, its
//! instruction (after expansion), the build args it sees and the content
//! of the files it reads are unchanged (issue 7, "Cache"; Docker's
//! "Build cache invalidation" rules: COPY/ADD compare file contents and
//! modes, not mtimes).
//!
//! The key is a sha256 over a length-prefixed encoding, so no two
//! different inputs can encode alike (`a=bc` vs `ab=c`), with args and
//! files sorted, so the order they were gathered in does not matter.

use super::context::{ContextEntry, EntryKind};
use crate::image::digest::{Digest, HashingWriter};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Version tag of the encoding: bump it when the encoding changes so old
/// cache entries stop matching.
const VERSION: &[u8] = b"compose-build-cache-v1";

/// Everything a step's result depends on.
#[derive(Debug, Clone, Copy)]
pub struct CacheInputs<'a> {
    /// What the step starts from: the previous step's cache key (which
    /// chains config-only steps such as ENV too), or for the first step of
    /// a stage the base image's chain ID (None for `FROM scratch`).
    pub parent: Option<&'a Digest>,
    /// The instruction with its variables expanded, flags included.
    pub instruction: &'a str,
    /// The build args the step sees (for RUN: every ARG in scope), by name.
    pub build_args: &'a BTreeMap<String, String>,
    /// Context-relative path and content digest of every file COPY/ADD
    /// reads (see [`digest_entries`]), in any order.
    pub files: &'a [(String, Digest)],
}

/// The cache key of a step.
pub fn cache_key(inputs: &CacheInputs<'_>) -> Digest {
    let mut buf = Vec::new();
    field(&mut buf, VERSION);
    match inputs.parent {
        Some(p) => field(&mut buf, p.to_string().as_bytes()),
        None => field(&mut buf, b""),
    }
    field(&mut buf, inputs.instruction.as_bytes());
    count(&mut buf, inputs.build_args.len());
    for (k, v) in inputs.build_args {
        field(&mut buf, k.as_bytes());
        field(&mut buf, v.as_bytes());
    }
    let mut files: Vec<&(String, Digest)> = inputs.files.iter().collect();
    files.sort();
    files.dedup();
    count(&mut buf, files.len());
    for (path, digest) in files {
        field(&mut buf, path.as_bytes());
        field(&mut buf, digest.to_string().as_bytes());
    }
    Digest::of(&buf)
}

fn count(buf: &mut Vec<u8>, n: usize) {
    buf.extend_from_slice(&(n as u64).to_le_bytes());
}

fn field(buf: &mut Vec<u8>, bytes: &[u8]) {
    count(buf, bytes.len());
    buf.extend_from_slice(bytes);
}

/// A context file that could not be hashed.
#[derive(Debug, thiserror::Error)]
#[error("cannot read `{}` to compute the build cache key: {source}", path.display())]
pub struct HashError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// The content digest of each entry of a context listing: kind, permission
/// bits and content (files), target (symlinks); not owner or mtime, which
/// COPY does not carry over by default (`--chown` is in the instruction).
pub fn digest_entries(
    context: &Path,
    entries: &[ContextEntry],
) -> Result<Vec<(String, Digest)>, HashError> {
    entries
        .iter()
        .map(|e| {
            Ok((
                e.path.clone(),
                digest_entry(&context.join(&e.path), e.kind)?,
            ))
        })
        .collect()
}

fn digest_entry(path: &Path, kind: EntryKind) -> Result<Digest, HashError> {
    let err = |source| HashError {
        path: path.to_path_buf(),
        source,
    };
    let meta = fs::symlink_metadata(path).map_err(err)?;
    let mut w = HashingWriter::new(io::sink());
    let mode = meta.mode() & 0o7777;
    let (tag, extra): (&[u8], Vec<u8>) = match kind {
        EntryKind::File => (b"file", Vec::new()),
        EntryKind::Dir => (b"dir", Vec::new()),
        EntryKind::Symlink => (
            b"symlink",
            fs::read_link(path)
                .map_err(err)?
                .into_os_string()
                .into_encoded_bytes(),
        ),
        EntryKind::Special => (b"special", meta.rdev().to_le_bytes().to_vec()),
    };
    let mut header = Vec::new();
    field(&mut header, tag);
    count(&mut header, mode as usize);
    field(&mut header, &extra);
    w.write_all(&header).map_err(err)?;
    if kind == EntryKind::File {
        let mut f = File::open(path).map_err(err)?;
        io::copy(&mut f, &mut w).map_err(err)?;
    }
    Ok(w.finish().0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::context::{walk_context, IgnoreRules};
    use std::os::unix::fs::PermissionsExt;

    fn args(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn key(
        parent: Option<&Digest>,
        ins: &str,
        a: &[(&str, &str)],
        files: &[(String, Digest)],
    ) -> Digest {
        cache_key(&CacheInputs {
            parent,
            instruction: ins,
            build_args: &args(a),
            files,
        })
    }

    #[test]
    fn stable_across_calls_and_input_order() {
        let p = Digest::of(b"parent");
        let f1 = ("a".to_string(), Digest::of(b"1"));
        let f2 = ("b".to_string(), Digest::of(b"2"));
        let k = key(
            Some(&p),
            "COPY a b /x",
            &[("V", "1")],
            &[f1.clone(), f2.clone()],
        );
        assert_eq!(k, key(Some(&p), "COPY a b /x", &[("V", "1")], &[f2, f1]));
        // Pinned: a change of encoding must bump VERSION, not slip through.
        assert_eq!(
            key(None, "RUN true", &[], &[]).to_string(),
            "sha256:3afb7fb3b22ef1d833c7e764b5b5344a33e1caba4240724647b70c025552644c"
        );
    }

    #[test]
    fn sensitive_to_every_input() {
        let p = Digest::of(b"parent");
        let f = vec![("a".to_string(), Digest::of(b"1"))];
        let base = key(Some(&p), "RUN make", &[("V", "1")], &f);
        assert_ne!(base, key(None, "RUN make", &[("V", "1")], &f));
        assert_ne!(
            base,
            key(Some(&Digest::of(b"other")), "RUN make", &[("V", "1")], &f)
        );
        assert_ne!(base, key(Some(&p), "RUN make all", &[("V", "1")], &f));
        assert_ne!(base, key(Some(&p), "RUN make", &[("V", "2")], &f));
        assert_ne!(base, key(Some(&p), "RUN make", &[], &f));
        assert_ne!(base, key(Some(&p), "RUN make", &[("V", "1")], &[]));
        assert_ne!(
            base,
            key(
                Some(&p),
                "RUN make",
                &[("V", "1")],
                &[("b".to_string(), Digest::of(b"1"))]
            )
        );
        assert_ne!(
            base,
            key(
                Some(&p),
                "RUN make",
                &[("V", "1")],
                &[("a".to_string(), Digest::of(b"2"))]
            )
        );
        assert_ne!(
            key(None, "x", &[("a", "bc")], &[]),
            key(None, "x", &[("ab", "c")], &[])
        );
    }

    #[test]
    fn file_digests_follow_content_and_mode_not_mtime() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("f"), "one").unwrap();
        std::os::unix::fs::symlink("f", d.path().join("l")).unwrap();
        let digests = || {
            let entries = walk_context(d.path(), &IgnoreRules::default()).unwrap();
            digest_entries(d.path(), &entries).unwrap()
        };
        let first = digests();
        assert_eq!(
            first.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
            ["f", "l"]
        );
        let f = File::options()
            .write(true)
            .open(d.path().join("f"))
            .unwrap();
        f.set_modified(std::time::SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(digests(), first, "mtime is not content");
        fs::set_permissions(d.path().join("f"), fs::Permissions::from_mode(0o600)).unwrap();
        let moded = digests();
        assert_ne!(moded[0], first[0]);
        assert_eq!(moded[1], first[1]);
        fs::write(d.path().join("f"), "two").unwrap();
        assert_ne!(digests()[0], moded[0]);
        assert_ne!(
            first[0].1, first[1].1,
            "a symlink is not its target's content"
        );
    }
}
