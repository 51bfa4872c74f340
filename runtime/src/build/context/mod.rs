//! The build context: which files of the context directory a build may
//! read. `.dockerignore` at the context root excludes paths, unless a
//! `<Dockerfile name>.dockerignore` next to the Dockerfile exists, which
//! then takes precedence (BuildKit "Dockerfile-specific ignore files").
//! Lines starting with `#` are comments; patterns follow [`PatternSet`].
//! [`select`] resolves a COPY/ADD source against the listing.

mod pattern;
mod select;

pub use pattern::{clean, PatternError, PatternSet};
pub use select::{select, select_parents, SelectError, Selection};

use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Why the context could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("cannot read ignore file `{}`: {source}", path.display())]
    ReadIgnore { path: PathBuf, source: io::Error },
    #[error("{}:{line}: {source}", path.display())]
    Pattern {
        path: PathBuf,
        line: usize,
        source: PatternError,
    },
    #[error("cannot read build context `{}`: {source}", path.display())]
    Walk { path: PathBuf, source: io::Error },
    #[error("build context `{}` has a file name that is not UTF-8; rename it or exclude it in .dockerignore", path.display())]
    NonUtf8 { path: PathBuf },
}

/// The ignore rules of a context and the file they came from.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    pub patterns: PatternSet,
    /// The ignore file read, if any.
    pub source: Option<PathBuf>,
}

impl IgnoreRules {
    /// Parse ignore-file text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<IgnoreRules, ContextError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            // Compile one by one so an error names its line.
            PatternSet::new(&[line]).map_err(|source| ContextError::Pattern {
                path: path.to_path_buf(),
                line: i + 1,
                source,
            })?;
            lines.push(line);
        }
        let patterns = PatternSet::new(&lines).map_err(|source| ContextError::Pattern {
            path: path.to_path_buf(),
            line: 0,
            source,
        })?;
        Ok(IgnoreRules {
            patterns,
            source: Some(path.to_path_buf()),
        })
    }

    /// The rules for a build of `context` with `dockerfile` (None: the
    /// default `Dockerfile`): `<dockerfile>.dockerignore` if present, else
    /// `<context>/.dockerignore`, else nothing excluded.
    pub fn load(context: &Path, dockerfile: Option<&Path>) -> Result<IgnoreRules, ContextError> {
        let mut candidates = Vec::new();
        if let Some(df) = dockerfile {
            let df = if df.is_absolute() {
                df.to_path_buf()
            } else {
                context.join(df)
            };
            let mut name = df.as_os_str().to_owned();
            name.push(".dockerignore");
            candidates.push(PathBuf::from(name));
        }
        candidates.push(context.join(".dockerignore"));
        for path in candidates {
            match fs::read_to_string(&path) {
                Ok(text) => return IgnoreRules::parse(&text, &path),
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(source) => return Err(ContextError::ReadIgnore { path, source }),
            }
        }
        Ok(IgnoreRules::default())
    }

    /// Whether the context-relative `path` is excluded.
    pub fn excludes(&self, path: &str) -> bool {
        self.patterns.matches(path)
    }
}

/// What kind of file a context entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    /// A FIFO, socket or device: sent as-is, never read.
    Special,
}

/// One included path of the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextEntry {
    /// Relative to the context root, `/`-separated.
    pub path: String,
    pub kind: EntryKind,
}

/// Every included path under `context`, parents before children, siblings
/// sorted by name bytes. Symlinks are listed, never followed. An excluded
/// directory is skipped whole unless an exception pattern exists, in
/// which case it is searched and listed only when something in it is
/// included again.
pub fn walk_context(
    context: &Path,
    rules: &IgnoreRules,
) -> Result<Vec<ContextEntry>, ContextError> {
    let mut out = Vec::new();
    walk_dir(context, "", rules, &mut out)?;
    Ok(out)
}

fn walk_dir(
    dir: &Path,
    prefix: &str,
    rules: &IgnoreRules,
    out: &mut Vec<ContextEntry>,
) -> Result<(), ContextError> {
    let walk_err = |source| ContextError::Walk {
        path: dir.to_path_buf(),
        source,
    };
    let mut names: Vec<_> = fs::read_dir(dir)
        .map_err(walk_err)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()
        .map_err(walk_err)?;
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    for name in names {
        let full = dir.join(&name);
        let lossy = name.to_string_lossy();
        let rel = if prefix.is_empty() {
            lossy.to_string()
        } else {
            format!("{prefix}/{lossy}")
        };
        if name.to_str().is_none() {
            // Patterns are text: a name that is not UTF-8 can only be
            // excluded through a pattern matching its lossy form or a parent.
            if rules.excludes(&rel) {
                continue;
            }
            return Err(ContextError::NonUtf8 { path: full });
        }
        let meta = fs::symlink_metadata(&full).map_err(|source| ContextError::Walk {
            path: full.clone(),
            source,
        })?;
        let ft = meta.file_type();
        let kind = if ft.is_dir() {
            EntryKind::Dir
        } else if ft.is_symlink() {
            EntryKind::Symlink
        } else if ft.is_file() {
            EntryKind::File
        } else {
            EntryKind::Special
        };
        let excluded = rules.excludes(&rel);
        if kind != EntryKind::Dir {
            if !excluded {
                out.push(ContextEntry { path: rel, kind });
            }
            continue;
        }
        if !excluded {
            out.push(ContextEntry {
                path: rel.clone(),
                kind,
            });
            walk_dir(&full, &rel, rules, out)?;
        } else if rules.patterns.has_exceptions() {
            let mut inner = Vec::new();
            walk_dir(&full, &rel, rules, &mut inner)?;
            if !inner.is_empty() {
                out.push(ContextEntry { path: rel, kind });
                out.extend(inner);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
