//! Turning an entry's path into a path under the layer root, refusing any
//! that would leave it.

use super::UnpackError;
use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};

/// How an entry tried to leave the layer root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscapeKind {
    AbsolutePath,
    ParentComponent,
    SymlinkParent,
    LinkAbsolute,
    LinkParentComponent,
    LinkThroughSymlink,
    BadWhiteout,
}

impl fmt::Display for EscapeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EscapeKind::AbsolutePath => "has an absolute path",
            EscapeKind::ParentComponent => "has a `..` component",
            EscapeKind::SymlinkParent => {
                "lies under a symlink (it would be written outside the layer)"
            }
            EscapeKind::LinkAbsolute => "is a hard link with an absolute target",
            EscapeKind::LinkParentComponent => "is a hard link whose target has a `..` component",
            EscapeKind::LinkThroughSymlink => "is a hard link whose target lies under a symlink",
            EscapeKind::BadWhiteout => "is a whiteout naming no file",
        })
    }
}

/// The entry path as a relative path of plain components; `None` for the
/// root itself (`./`).
pub fn relative(entry: &str, p: &Path, link: bool) -> Result<Option<PathBuf>, UnpackError> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(escape(
                    entry,
                    if link {
                        EscapeKind::LinkParentComponent
                    } else {
                        EscapeKind::ParentComponent
                    },
                ))
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(escape(
                    entry,
                    if link {
                        EscapeKind::LinkAbsolute
                    } else {
                        EscapeKind::AbsolutePath
                    },
                ))
            }
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

pub fn escape(entry: &str, kind: EscapeKind) -> UnpackError {
    UnpackError::Escape {
        entry: entry.to_string(),
        kind,
    }
}

/// Make sure every parent of `rel` under `root` is a real directory
/// (creating missing ones), refusing symlinks. Returns the parent's path.
pub fn ensure_parents(
    root: &Path,
    rel: &Path,
    entry: &str,
    link: bool,
) -> Result<PathBuf, UnpackError> {
    let mut cur = root.to_path_buf();
    let Some(parent) = rel.parent() else {
        return Ok(cur);
    };
    for c in parent.components() {
        cur.push(c);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                let kind = if link {
                    EscapeKind::LinkThroughSymlink
                } else {
                    EscapeKind::SymlinkParent
                };
                return Err(escape(entry, kind));
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(UnpackError::NotADirectory {
                    entry: entry.to_string(),
                    parent: cur.strip_prefix(root).unwrap_or(&cur).display().to_string(),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound && !link => {
                std::fs::create_dir(&cur).map_err(|source| UnpackError::Write {
                    path: cur.clone(),
                    source,
                })?;
                set_mode(&cur, 0o755)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(UnpackError::MissingLinkTarget {
                    entry: entry.to_string(),
                    target: rel.display().to_string(),
                })
            }
            Err(source) => return Err(UnpackError::Write { path: cur, source }),
        }
    }
    Ok(cur)
}

pub fn set_mode(path: &Path, mode: u32) -> Result<(), UnpackError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|source| {
        UnpackError::Metadata {
            path: path.to_path_buf(),
            what: "mode",
            source,
        }
    })
}

/// Remove whatever is at `path` (a directory with its contents), if anything.
pub fn remove_existing(path: &Path) -> Result<(), UnpackError> {
    let res = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    };
    res.map_err(|source| UnpackError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_plain() {
        assert_eq!(
            relative("e", Path::new("./a/./b"), false).unwrap(),
            Some(PathBuf::from("a/b"))
        );
        assert_eq!(relative("e", Path::new("./"), false).unwrap(), None);
        assert!(matches!(
            relative("e", Path::new("a/../../b"), false),
            Err(UnpackError::Escape {
                kind: EscapeKind::ParentComponent,
                ..
            })
        ));
        assert!(matches!(
            relative("e", Path::new("/etc/passwd"), false),
            Err(UnpackError::Escape {
                kind: EscapeKind::AbsolutePath,
                ..
            })
        ));
        assert!(matches!(
            relative("e", Path::new("/etc/passwd"), true),
            Err(UnpackError::Escape {
                kind: EscapeKind::LinkAbsolute,
                ..
            })
        ));
    }
}
