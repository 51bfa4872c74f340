//! The tar stream of a sync: each changed host path under the container
//! path it maps to (a directory with everything below it), names relative
//! to the container's root, so one extraction at `/` places them all (what
//! docker compose's tar syncer sends to the engine's copy API). Symlinks
//! are archived as links, never followed; a path that vanished since the
//! event is skipped, as it will be reported again as removed.

use std::io::Write;
use std::path::{Path, PathBuf};

/// One host path and where it goes in the container (absolute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncEntry {
    pub host: PathBuf,
    pub container: String,
}

/// Write the archive of `entries` to `out`. A name that two entries give
/// is written once, from the last (docker compose's last-one-wins).
pub fn write_sync_archive(entries: &[SyncEntry], out: &mut dyn Write) -> std::io::Result<()> {
    let mut members: Vec<(String, PathBuf)> = Vec::new();
    for entry in entries {
        collect(
            &entry.host,
            entry.container.trim_start_matches('/'),
            &mut members,
        )?;
    }
    let mut last = std::collections::HashMap::new();
    for (i, (name, _)) in members.iter().enumerate() {
        last.insert(name.clone(), i);
    }
    let mut builder = tar::Builder::new(out);
    builder.follow_symlinks(false);
    for (i, (name, host)) in members.iter().enumerate() {
        if last.get(name) != Some(&i) || name.is_empty() {
            continue;
        }
        match builder.append_path_with_name(host, name) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            other => other?,
        }
    }
    builder.finish()
}

/// `host` and, for a directory, everything below it, named under `name`.
fn collect(host: &Path, name: &str, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    let meta = match std::fs::symlink_metadata(host) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    out.push((name.to_string(), host.to_path_buf()));
    if !meta.is_dir() {
        return Ok(());
    }
    let mut children: Vec<_> = std::fs::read_dir(host)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    children.sort();
    for child in children {
        let Some(text) = child.to_str() else {
            continue;
        };
        let child_name = if name.is_empty() {
            text.to_string()
        } else {
            format!("{name}/{text}")
        };
        collect(&host.join(&child), &child_name, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(bytes: &[u8]) -> Vec<String> {
        let mut tar = tar::Archive::new(bytes);
        tar.entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn files_and_directories_go_under_their_container_paths() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        std::fs::create_dir_all(src.join("sub")).unwrap();
        std::fs::write(src.join("sub/b.txt"), "b").unwrap();
        std::fs::write(tmp.path().join("a.txt"), "a").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", src.join("link")).unwrap();
        let entries = [
            SyncEntry {
                host: tmp.path().join("a.txt"),
                container: "/app/a.txt".into(),
            },
            SyncEntry {
                host: src.clone(),
                container: "/app/src".into(),
            },
            SyncEntry {
                host: tmp.path().join("gone.txt"),
                container: "/app/gone.txt".into(),
            },
        ];
        let mut bytes = Vec::new();
        write_sync_archive(&entries, &mut bytes).unwrap();
        assert_eq!(
            names(&bytes),
            [
                "app/a.txt",
                "app/src",
                "app/src/link",
                "app/src/sub",
                "app/src/sub/b.txt"
            ]
        );
        let mut tar = tar::Archive::new(&bytes[..]);
        let link = tar
            .entries()
            .unwrap()
            .map(|e| e.unwrap())
            .find(|e| e.path().unwrap().ends_with("link"))
            .unwrap();
        assert_eq!(
            link.link_name().unwrap().unwrap(),
            Path::new("/etc/passwd"),
            "links are archived, not followed"
        );
    }

    #[test]
    fn the_last_entry_for_a_name_wins() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("one"), "1").unwrap();
        std::fs::write(tmp.path().join("two"), "22").unwrap();
        let entries = [
            SyncEntry {
                host: tmp.path().join("one"),
                container: "/x".into(),
            },
            SyncEntry {
                host: tmp.path().join("two"),
                container: "/x".into(),
            },
        ];
        let mut bytes = Vec::new();
        write_sync_archive(&entries, &mut bytes).unwrap();
        let mut tar = tar::Archive::new(&bytes[..]);
        let sizes: Vec<u64> = tar.entries().unwrap().map(|e| e.unwrap().size()).collect();
        assert_eq!(sizes, [2]);
    }
}
