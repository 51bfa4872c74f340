//! The files below a watched path, for `initial_sync` (docker compose
//! copies every file of the path that no ignore rule skips when watching
//! starts).

use std::path::{Path, PathBuf};

/// Every non-directory below `root` (or `root` itself when it is a
/// file), in name order; a directory `skip` accepts is not entered, a
/// file it accepts is left out. A missing `root` has no files.
pub fn files_under(root: &Path, skip: &dyn Fn(&Path) -> bool) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    match std::fs::symlink_metadata(root) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
        Ok(m) if !m.is_dir() => {
            if !skip(root) {
                out.push(root.to_path_buf());
            }
            return Ok(out);
        }
        Ok(_) => {}
    }
    walk(root, skip, &mut out)?;
    Ok(out)
}

fn walk(dir: &Path, skip: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut children: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    children.sort();
    for child in children {
        if skip(&child) {
            continue;
        }
        let is_dir = std::fs::symlink_metadata(&child)
            .map(|m| m.is_dir())
            .unwrap_or(false);
        if is_dir {
            walk(&child, skip, out)?;
        } else {
            out.push(child);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_directories_are_not_entered() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
        std::fs::write(root.join("a/b/f.txt"), "").unwrap();
        std::fs::write(root.join("top.txt"), "").unwrap();
        std::fs::write(root.join("top.tmp"), "").unwrap();
        std::fs::write(root.join("node_modules/x/m.js"), "").unwrap();
        let skip = |p: &Path| p.ends_with("node_modules") || p.extension() == Some("tmp".as_ref());
        let found = files_under(root, &skip).unwrap();
        assert_eq!(found, [root.join("a/b/f.txt"), root.join("top.txt")]);
        assert_eq!(
            files_under(&root.join("top.txt"), &skip).unwrap(),
            [root.join("top.txt")]
        );
        assert!(files_under(&root.join("missing"), &skip)
            .unwrap()
            .is_empty());
    }
}
