//! COPY and ADD into a fresh upper dir, as Docker does them: a directory
//! source copies its *contents*; a single file goes to `dest` itself
//! unless `dest` ends in `/` or is an existing directory; several sources
//! need a directory destination. Files keep their mode and mtime and are
//! owned by root unless `--chown`; `--chmod` replaces the mode. ADD
//! unpacks a local tar archive (plain or compressed) into the destination;
//! a downloaded file is copied as it is, 0600 unless `--chmod`. With
//! `COPY --parents` every entry keeps its path from the source's base
//! (the context root or the `/./` pivot) under the destination directory.
//! Parent directories created in the upper dir copy the mode and owner of
//! the same directory in the lower layers, so a COPY does not change them.

use super::error::{io, ExecError};
use crate::build::context::{ContextEntry, EntryKind, Selection};
use crate::build::dockerfile::Location;
use crate::image::compression::decompress;
use std::fs;
use std::io::{BufReader, Read};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// How the copied files are owned and moded.
#[derive(Debug, Clone, Copy, Default)]
pub struct Attrs {
    pub owner: Option<(u32, u32)>,
    pub mode: Option<u32>,
}

/// Entries selected under a source tree (the context, a stage's view or
/// a git checkout).
pub struct Picked {
    /// Where the selected entries are read from.
    pub root: PathBuf,
    pub sel: Selection,
}

/// One COPY/ADD.
pub struct CopyStep<'a> {
    pub at: &'a Location,
    pub picked: Vec<Picked>,
    /// Heredoc sources: (file name, content).
    pub inline: Vec<(String, String)>,
    /// Files ADD downloaded: (file name, where it was saved). They are
    /// 0600 unless `--chmod` (Dockerfile reference, ADD) and keep the
    /// mtime the download gave them.
    pub fetched: Vec<(String, PathBuf)>,
    /// Absolute destination; a trailing `/` marks a directory.
    pub dest: String,
    pub attrs: Attrs,
    pub extract: bool,
}

/// Perform `step` into `upper` over `lowers` (top first).
pub fn copy(step: &CopyStep<'_>, upper: &Path, lowers: &[PathBuf]) -> Result<(), ExecError> {
    let roots: usize = step.picked.iter().map(|p| p.sel.roots.len()).sum::<usize>()
        + step.inline.len()
        + step.fetched.len();
    let parents = step.picked.iter().any(|p| p.sel.base.is_some());
    let resolved = resolve_in_lowers(
        lowers,
        step.dest.trim_start_matches('/').trim_end_matches('/'),
    );
    let dest_rel = resolved.as_str();
    let dest_is_dir = step.dest.ends_with('/')
        || parents
        || dest_rel.is_empty()
        || dest_rel == "."
        || roots > 1
        || lower_meta(lowers, dest_rel).is_some_and(|m| m.is_dir());
    if roots > 1
        && !parents
        && !step.dest.ends_with('/')
        && !lower_meta(lowers, dest_rel).is_some_and(|m| m.is_dir())
    {
        return Err(ExecError::DestNotDir {
            at: step.at.clone(),
            dest: step.dest.clone(),
        });
    }
    let target = upper.join(dest_rel);
    for (name, content) in &step.inline {
        let to = if dest_is_dir {
            target.join(name)
        } else {
            target.clone()
        };
        ensure_parents(upper, lowers, &to)?;
        fs::write(&to, content).map_err(io("write", &to))?;
        fs::set_permissions(
            &to,
            fs::Permissions::from_mode(step.attrs.mode.unwrap_or(0o644)),
        )
        .map_err(io("chmod", &to))?;
        chown(&to, step.attrs.owner.unwrap_or((0, 0)))?;
    }
    for (name, file) in &step.fetched {
        let to = if dest_is_dir {
            target.join(name)
        } else {
            target.clone()
        };
        ensure_parents(upper, lowers, &to)?;
        let attrs = Attrs {
            owner: step.attrs.owner,
            mode: Some(step.attrs.mode.unwrap_or(0o600)),
        };
        copy_entry(file, &to, EntryKind::File, attrs)?;
    }
    for picked in &step.picked {
        let sel = &picked.sel;
        if let Some(base) = &sel.base {
            ensure_dir(upper, lowers, &target)?;
            copy_with_parents(&picked.root, sel, base, &target, step.attrs)?;
            continue;
        }
        for root in &sel.roots {
            let root_kind = sel
                .entries
                .iter()
                .find(|e| &e.path == root)
                .map_or(EntryKind::Dir, |e| e.kind);
            if root_kind == EntryKind::Dir {
                copy_dir_contents(step, picked, root, &target, upper, lowers)?;
                continue;
            }
            let src = picked.root.join(root);
            let base = root.rsplit('/').next().unwrap_or(root);
            if step.extract && root_kind == EntryKind::File && is_tar(&src) {
                ensure_dir(upper, lowers, &target)?;
                extract(&src, &target)?;
                continue;
            }
            let to = if dest_is_dir {
                target.join(base)
            } else {
                target.clone()
            };
            ensure_parents(upper, lowers, &to)?;
            copy_entry(&src, &to, root_kind, step.attrs)?;
        }
    }
    Ok(())
}

/// `COPY --parents`: each selected entry goes to `target` under its path
/// relative to `base`; the directories on the way are copied from the
/// source (mode, mtime, then `--chown`), as BuildKit creates them.
fn copy_with_parents(
    src_root: &Path,
    sel: &Selection,
    base: &str,
    target: &Path,
    attrs: Attrs,
) -> Result<(), ExecError> {
    let rel_of = |path: &str| -> String {
        if base.is_empty() {
            path.to_string()
        } else {
            path.strip_prefix(base)
                .and_then(|r| r.strip_prefix('/'))
                .unwrap_or("")
                .to_string()
        }
    };
    let mut dirs = Vec::new();
    for e in &sel.entries {
        let rel = rel_of(&e.path);
        if rel.is_empty() {
            continue;
        }
        // The parents between the base and the entry, outermost first.
        let parts: Vec<&str> = rel.split('/').collect();
        for n in 1..parts.len() {
            let dir_rel = parts[..n].join("/");
            let to = target.join(&dir_rel);
            if !to.is_dir() {
                let src = src_root.join(base).join(&dir_rel);
                copy_entry(&src, &to, EntryKind::Dir, attrs)?;
                dirs.push((src, to));
            }
        }
        let (src, to) = (src_root.join(&e.path), target.join(&rel));
        copy_entry(&src, &to, e.kind, attrs)?;
        if e.kind == EntryKind::Dir {
            dirs.push((src, to));
        }
    }
    // Directory mtimes last: writing into them changed them.
    for (src, to) in dirs.iter().rev() {
        copy_mtime(src, to)?;
    }
    Ok(())
}

fn copy_dir_contents(
    step: &CopyStep<'_>,
    picked: &Picked,
    root: &str,
    target: &Path,
    upper: &Path,
    lowers: &[PathBuf],
) -> Result<(), ExecError> {
    let sel = &picked.sel;
    ensure_dir(upper, lowers, target)?;
    let under: Vec<&ContextEntry> = sel
        .entries
        .iter()
        .filter(|e| {
            root.is_empty()
                || (e.path.len() > root.len()
                    && e.path.starts_with(root)
                    && e.path[root.len()..].starts_with('/'))
        })
        .collect();
    for e in &under {
        let rel = if root.is_empty() {
            e.path.as_str()
        } else {
            &e.path[root.len() + 1..]
        };
        let to = target.join(rel);
        ensure_parents(upper, lowers, &to)?;
        copy_entry(&picked.root.join(&e.path), &to, e.kind, step.attrs)?;
    }
    // Directory mtimes last: writing into them changed them.
    for e in under.iter().rev().filter(|e| e.kind == EntryKind::Dir) {
        let rel = if root.is_empty() {
            e.path.as_str()
        } else {
            &e.path[root.len() + 1..]
        };
        copy_mtime(&picked.root.join(&e.path), &target.join(rel))?;
    }
    Ok(())
}

fn copy_entry(src: &Path, to: &Path, kind: EntryKind, attrs: Attrs) -> Result<(), ExecError> {
    let meta = fs::symlink_metadata(src).map_err(io("read", src))?;
    if let Ok(old) = fs::symlink_metadata(to) {
        if !(old.is_dir() && kind == EntryKind::Dir) {
            if old.is_dir() {
                fs::remove_dir_all(to).map_err(io("replace", to))?;
            } else {
                fs::remove_file(to).map_err(io("replace", to))?;
            }
        }
    }
    match kind {
        EntryKind::Dir => {
            if !to.is_dir() {
                fs::create_dir(to).map_err(io("create", to))?;
            }
        }
        EntryKind::File => {
            fs::copy(src, to).map_err(io("copy to", to))?;
            copy_mtime(src, to)?;
        }
        EntryKind::Symlink => {
            let target = fs::read_link(src).map_err(io("read", src))?;
            std::os::unix::fs::symlink(&target, to).map_err(io("create", to))?;
        }
        // FIFOs, sockets and devices in a context are not copied (BuildKit
        // sends only regular files, directories and links).
        EntryKind::Special => return Ok(()),
    }
    let (uid, gid) = attrs.owner.unwrap_or((0, 0));
    std::os::unix::fs::lchown(to, Some(uid), Some(gid)).map_err(io("chown", to))?;
    if kind != EntryKind::Symlink {
        let mode = attrs.mode.unwrap_or(meta.mode() & 0o7777);
        fs::set_permissions(to, fs::Permissions::from_mode(mode)).map_err(io("chmod", to))?;
    }
    Ok(())
}

fn copy_mtime(src: &Path, to: &Path) -> Result<(), ExecError> {
    let modified = fs::metadata(src)
        .and_then(|m| m.modified())
        .map_err(io("read", src))?;
    let f = fs::File::open(to).map_err(io("open", to))?;
    f.set_modified(modified).map_err(io("set the mtime of", to))
}

fn chown(path: &Path, (uid, gid): (u32, u32)) -> Result<(), ExecError> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).map_err(io("chown", path))
}

/// `rel` with the symlinks the lowers have along it followed (as the
/// merged view would: `COPY x /bin/` into an image whose `/bin` links to
/// `usr/bin` must write `usr/bin/x`, not replace the link by a directory).
/// Links are resolved inside the image root; loops stop after 40 hops.
pub fn resolve_in_lowers(lowers: &[PathBuf], rel: &str) -> String {
    let mut parts: Vec<String> = rel
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .map(str::to_string)
        .collect();
    let mut hops = 0;
    let mut i = 0;
    while i < parts.len() {
        if parts[i] == ".." {
            parts.remove(i);
            if i > 0 {
                parts.remove(i - 1);
                i -= 1;
            }
            continue;
        }
        let prefix = parts[..=i].join("/");
        let link = lowers.iter().find_map(|l| {
            let p = l.join(&prefix);
            let m = fs::symlink_metadata(&p).ok()?;
            Some(
                m.file_type()
                    .is_symlink()
                    .then(|| fs::read_link(&p).ok())
                    .flatten(),
            )
        });
        match link.flatten() {
            Some(target) if hops < 40 => {
                hops += 1;
                let target = target.to_string_lossy().into_owned();
                let mut next: Vec<String> = if target.starts_with('/') {
                    Vec::new()
                } else {
                    parts[..i].to_vec()
                };
                next.extend(
                    target
                        .split('/')
                        .filter(|p| !p.is_empty() && *p != ".")
                        .map(str::to_string),
                );
                next.extend(parts[i + 1..].iter().cloned());
                parts = next;
                i = 0;
            }
            _ => i += 1,
        }
    }
    parts.join("/")
}

/// The metadata of `rel` in the top-most lower that has it.
pub fn lower_meta(lowers: &[PathBuf], rel: &str) -> Option<fs::Metadata> {
    lowers
        .iter()
        .find_map(|l| fs::symlink_metadata(l.join(rel)).ok())
}

/// Create the parents of `path` (inside `upper`).
fn ensure_parents(upper: &Path, lowers: &[PathBuf], path: &Path) -> Result<(), ExecError> {
    match path.parent() {
        Some(p) if p.starts_with(upper) => ensure_dir(upper, lowers, p),
        _ => Ok(()),
    }
}

/// Create `dir` and its parents in `upper`, each with the mode and owner
/// the lowers give it (root 0755 when new).
fn ensure_dir(upper: &Path, lowers: &[PathBuf], dir: &Path) -> Result<(), ExecError> {
    if dir.is_dir() || !dir.starts_with(upper) || dir == upper {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        ensure_dir(upper, lowers, parent)?;
    }
    fs::create_dir(dir).map_err(io("create", dir))?;
    let rel = dir
        .strip_prefix(upper)
        .unwrap_or(dir)
        .to_string_lossy()
        .into_owned();
    let (mode, uid, gid) = lower_meta(lowers, &rel)
        .filter(|m| m.is_dir())
        .map_or((0o755, 0, 0), |m| (m.mode() & 0o7777, m.uid(), m.gid()));
    fs::set_permissions(dir, fs::Permissions::from_mode(mode)).map_err(io("chmod", dir))?;
    chown(dir, (uid, gid))
}

/// Whether `path` is a tar archive (plain, gzip, bzip2-less: what
/// `compression::decompress` reads): the ustar magic at byte 257.
fn is_tar(path: &Path) -> bool {
    let Ok(f) = fs::File::open(path) else {
        return false;
    };
    let Ok((_, mut plain)) = decompress(BufReader::new(f)) else {
        return false;
    };
    let mut header = [0u8; 512];
    if plain.read_exact(&mut header).is_err() {
        return false;
    }
    &header[257..262] == b"ustar"
}

fn extract(src: &Path, dest: &Path) -> Result<(), ExecError> {
    let f = fs::File::open(src).map_err(io("open", src))?;
    let (_, plain) = decompress(BufReader::new(f)).map_err(io("decompress", src))?;
    let mut archive = tar::Archive::new(plain);
    archive.set_preserve_permissions(true);
    archive.set_preserve_ownerships(true);
    archive.set_preserve_mtime(true);
    archive.unpack(dest).map_err(io("extract", src))
}

/// Resolve `--chown=user[:group]`: numbers as they are, names through the
/// image's /etc/passwd and /etc/group (the lowers, top first). A user
/// without group gets its primary group (or its uid as gid when numeric).
pub fn parse_chown(spec: &str, lowers: &[PathBuf]) -> Result<(u32, u32), String> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let passwd = read_lower(lowers, "etc/passwd");
    let (uid, primary) = match user.parse::<u32>() {
        Ok(n) => (n, lookup(&passwd, 2, n).unwrap_or(n)),
        Err(_) => find_named(&passwd, user)
            .and_then(|f| Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?)))
            .ok_or_else(|| format!("user `{user}` is not in the image's /etc/passwd"))?,
    };
    let gid = match group {
        None => primary,
        Some(g) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => find_named(&read_lower(lowers, "etc/group"), g)
                .and_then(|f| f.get(2)?.parse().ok())
                .ok_or_else(|| format!("group `{g}` is not in the image's /etc/group"))?,
        },
    };
    Ok((uid, gid))
}

fn read_lower(lowers: &[PathBuf], rel: &str) -> String {
    lowers
        .iter()
        .find_map(|l| fs::read_to_string(l.join(rel)).ok())
        .unwrap_or_default()
}

fn find_named<'t>(table: &'t str, name: &str) -> Option<Vec<&'t str>> {
    table
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&name))
}

/// The primary gid of the passwd line whose uid field is `uid`.
fn lookup(passwd: &str, field: usize, uid: u32) -> Option<u32> {
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.get(field).and_then(|v| v.parse::<u32>().ok()) == Some(uid))
        .and_then(|f| f.get(3)?.parse().ok())
}

/// `--chmod=755` (octal only, as BuildKit before 1.14 labs).
pub fn parse_chmod(spec: &str) -> Option<u32> {
    u32::from_str_radix(spec, 8).ok().filter(|m| *m <= 0o7777)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chown_resolves_names_and_numbers() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("etc")).unwrap();
        fs::write(
            d.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n",
        )
        .unwrap();
        fs::write(d.path().join("etc/group"), "root:x:0:\nstaff:x:50:\n").unwrap();
        let lowers = vec![d.path().to_path_buf()];
        assert_eq!(parse_chown("app", &lowers), Ok((1000, 1001)));
        assert_eq!(parse_chown("app:staff", &lowers), Ok((1000, 50)));
        assert_eq!(parse_chown("42", &lowers), Ok((42, 42)));
        assert_eq!(parse_chown("1000:7", &lowers), Ok((1000, 7)));
        assert!(parse_chown("nobody", &lowers)
            .unwrap_err()
            .contains("nobody"));
        assert_eq!(parse_chmod("755"), Some(0o755));
        assert_eq!(parse_chmod("u+x"), None);
    }

    #[test]
    fn destinations_follow_the_images_symlinks() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("usr/bin")).unwrap();
        std::os::unix::fs::symlink("usr/bin", d.path().join("bin")).unwrap();
        std::os::unix::fs::symlink("/usr/bin/../lib", d.path().join("usr/libs")).unwrap();
        std::os::unix::fs::symlink("loop", d.path().join("loop")).unwrap();
        let lowers = vec![d.path().to_path_buf()];
        assert_eq!(resolve_in_lowers(&lowers, "bin/tool"), "usr/bin/tool");
        assert_eq!(resolve_in_lowers(&lowers, "usr/libs/x"), "usr/lib/x");
        assert_eq!(resolve_in_lowers(&lowers, "opt/./a/../b"), "opt/b");
        assert_eq!(
            resolve_in_lowers(&lowers, "loop/x"),
            "loop/x",
            "a loop stops"
        );
    }
}
