//! Which context entries a COPY/ADD source names. A source is relative to
//! the context root (a leading `/` too), is cleaned, may not leave the
//! context, and may be a Go `filepath.Match` glob (`*`, `?`, `[...]`,
//! `\` escapes; `*` does not cross `/`). A matched directory brings
//! everything below it; `--exclude` patterns take entries out again.

use super::{ContextEntry, EntryKind, PatternSet};
use regex::Regex;

/// A source that selects nothing usable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SelectError {
    #[error("COPY source `{path}` is outside the build context; sources are relative to the context directory")]
    OutsideContext { path: String },
    #[error(
        "COPY source `{path}` was not found in the build context (or is excluded by .dockerignore)"
    )]
    NotFound { path: String },
    #[error("COPY source `{path}` is not a valid pattern: {reason}")]
    BadPattern { path: String, reason: String },
}

/// What one source selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The paths the source named (several for a glob), in order; `""` is
    /// the context root (`.`).
    pub roots: Vec<String>,
    /// Those paths and everything below them, minus `--exclude`, in the
    /// context listing's order.
    pub entries: Vec<ContextEntry>,
    /// `COPY --parents`: the directory the copied paths are kept relative
    /// to (the part of the source before `/./`, else the root `""`).
    pub base: Option<String>,
}

/// Resolve `source` against a context listing (from `walk_context`).
/// `--exclude` patterns match paths relative to each root the source
/// named (BuildKit matches them inside the copied tree), and a root a
/// wildcard found is matched by its path below the wildcard's directory
/// (`COPY --exclude=*.txt hom* /dir/` leaves out `home.txt`).
pub fn select(
    listing: &[ContextEntry],
    source: &str,
    exclude: &PatternSet,
) -> Result<Selection, SelectError> {
    select_in(listing, source, exclude, None)
}

/// `COPY --parents`: as [`select`], but the selection remembers which
/// parent directories to keep: all of the source's, or those after a
/// `/./` pivot (`COPY --parents ./x/./y/*.txt /d/` writes `/d/y/a.txt`).
/// `--exclude` patterns match paths relative to that base.
pub fn select_parents(
    listing: &[ContextEntry],
    source: &str,
    exclude: &PatternSet,
) -> Result<Selection, SelectError> {
    let trimmed = source.trim_start_matches('/');
    let (base, full) = match trimmed.split_once("/./") {
        Some((base, rest)) => (super::clean(base), format!("{base}/{rest}")),
        None => (String::new(), trimmed.to_string()),
    };
    let base = if base == "." { String::new() } else { base };
    if base == ".." || base.starts_with("../") {
        return Err(SelectError::OutsideContext {
            path: source.to_string(),
        });
    }
    let mut sel = select_in(listing, &full, exclude, Some(&base)).map_err(|e| match e {
        SelectError::NotFound { .. } => SelectError::NotFound {
            path: source.to_string(),
        },
        other => other,
    })?;
    sel.base = Some(base);
    Ok(sel)
}

fn select_in(
    listing: &[ContextEntry],
    source: &str,
    exclude: &PatternSet,
    base: Option<&str>,
) -> Result<Selection, SelectError> {
    let cleaned = super::clean(source.trim_start_matches('/'));
    if cleaned == ".." || cleaned.starts_with("../") {
        return Err(SelectError::OutsideContext {
            path: source.to_string(),
        });
    }
    let glob = cleaned != "." && is_glob(&cleaned);
    let roots: Vec<String> = if cleaned == "." {
        vec![String::new()]
    } else if glob && base.is_some() && cleaned.contains("**") {
        // `--parents` selects with BuildKit's include patterns, where `**`
        // spans directories (`COPY --parents **/package.json /app/`): the
        // top-most entries a pattern matches are the roots.
        let set = PatternSet::new(&[cleaned.as_str()]).map_err(|e| SelectError::BadPattern {
            path: source.to_string(),
            reason: e.reason,
        })?;
        let mut roots: Vec<String> = Vec::new();
        for e in listing {
            if !roots.iter().any(|r| below(&e.path, r)) && set.matches(&e.path) {
                roots.push(e.path.clone());
            }
        }
        roots
    } else if glob {
        let re = glob_regex(&cleaned).map_err(|reason| SelectError::BadPattern {
            path: source.to_string(),
            reason,
        })?;
        listing
            .iter()
            .filter(|e| re.is_match(&e.path))
            .map(|e| e.path.clone())
            .collect()
    } else {
        listing
            .iter()
            .find(|e| e.path == cleaned)
            .map(|e| vec![e.path.clone()])
            .unwrap_or_default()
    };
    if roots.is_empty() {
        return Err(SelectError::NotFound {
            path: source.to_string(),
        });
    }
    // The directory a wildcard searched: its components before the first
    // one with a wildcard (fsutil `splitWildcards`).
    let glob_dir = glob.then(|| {
        cleaned
            .split('/')
            .take_while(|c| !is_glob(c))
            .collect::<Vec<_>>()
            .join("/")
    });
    let root_excluded = |root: &str| match (base, &glob_dir) {
        (None, Some(dir)) => exclude.matches(relative(root, dir)),
        _ => false,
    };
    let mut entries = Vec::new();
    for e in listing {
        let Some(root) = roots.iter().find(|r| below(&e.path, r)) else {
            continue;
        };
        if root_excluded(root) {
            continue;
        }
        let rel = match base {
            Some(b) => relative(&e.path, b),
            None => relative(&e.path, root),
        };
        if rel.is_empty() || !exclude.matches(rel) {
            entries.push(e.clone());
        }
    }
    Ok(Selection {
        roots,
        entries,
        base: None,
    })
}

/// Whether `path` is `root` or below it (`""` is the context root).
fn below(path: &str, root: &str) -> bool {
    root.is_empty()
        || path == root
        || (path.starts_with(root) && path[root.len()..].starts_with('/'))
}

/// `path` relative to the directory `dir` (`""` when they are equal).
fn relative<'p>(path: &'p str, dir: &str) -> &'p str {
    if dir.is_empty() {
        path
    } else if path == dir {
        ""
    } else {
        path.strip_prefix(dir)
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or(path)
    }
}

impl Selection {
    /// The regular files selected (what a cache key hashes).
    pub fn files(&self) -> impl Iterator<Item = &ContextEntry> {
        self.entries.iter().filter(|e| e.kind == EntryKind::File)
    }
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '\\'])
}

/// Go `filepath.Match` as a regex over the whole path.
fn glob_regex(pattern: &str) -> Result<Regex, String> {
    let mut re = String::from("^");
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '*' if !in_class => re.push_str("[^/]*"),
            '?' if !in_class => re.push_str("[^/]"),
            '[' if !in_class => {
                in_class = true;
                re.push('[');
            }
            ']' if in_class => {
                in_class = false;
                re.push(']');
            }
            '\\' => match chars.next() {
                Some(n) => re.push_str(&regex::escape(&n.to_string())),
                None => return Err("trailing `\\`".into()),
            },
            '^' | '-' if in_class => re.push(c),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    if in_class {
        return Err("unclosed `[`".into());
    }
    re.push('$');
    Regex::new(&re).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing() -> Vec<ContextEntry> {
        let e = |p: &str, kind| ContextEntry {
            path: p.into(),
            kind,
        };
        vec![
            e("Cargo.toml", EntryKind::File),
            e("README.md", EntryKind::File),
            e("src", EntryKind::Dir),
            e("src/main.rs", EntryKind::File),
            e("src/util", EntryKind::Dir),
            e("src/util/mod.rs", EntryKind::File),
            e("srcx", EntryKind::File),
        ]
    }

    fn paths(s: &Selection) -> Vec<&str> {
        s.entries.iter().map(|e| e.path.as_str()).collect()
    }

    #[test]
    fn files_directories_and_the_root() {
        let none = PatternSet::default();
        let s = select(&listing(), "./Cargo.toml", &none).unwrap();
        assert_eq!(paths(&s), ["Cargo.toml"]);
        let s = select(&listing(), "/src/", &none).unwrap();
        assert_eq!(
            paths(&s),
            ["src", "src/main.rs", "src/util", "src/util/mod.rs"]
        );
        assert_eq!(s.files().count(), 2);
        let s = select(&listing(), ".", &none).unwrap();
        assert_eq!(s.roots, [""]);
        assert_eq!(s.entries.len(), 7);
    }

    #[test]
    fn globs_do_not_cross_directories() {
        let none = PatternSet::default();
        let s = select(&listing(), "*.toml", &none).unwrap();
        assert_eq!(paths(&s), ["Cargo.toml"]);
        let s = select(&listing(), "src/*.rs", &none).unwrap();
        assert_eq!(paths(&s), ["src/main.rs"]);
        let s = select(&listing(), "src*", &none).unwrap();
        assert_eq!(s.roots, ["src", "srcx"]);
        let s = select(&listing(), "[CR]*", &none).unwrap();
        assert_eq!(s.roots, ["Cargo.toml", "README.md"]);
    }

    #[test]
    fn excludes_apply_below_the_roots() {
        let ex = PatternSet::new(&["**/mod.rs"]).unwrap();
        let s = select(&listing(), "src", &ex).unwrap();
        assert_eq!(paths(&s), ["src", "src/main.rs", "src/util"]);
    }

    #[test]
    fn excludes_match_inside_each_root_and_wildcard_matches_by_name() {
        let ex = PatternSet::new(&["*.rs"]).unwrap();
        let s = select(&listing(), "src", &ex).unwrap();
        assert_eq!(paths(&s), ["src", "src/util", "src/util/mod.rs"]);
        let ex = PatternSet::new(&["util"]).unwrap();
        let s = select(&listing(), "src", &ex).unwrap();
        assert_eq!(paths(&s), ["src", "src/main.rs"]);
        // `COPY --exclude=*.md [CR]* /d/`: the wildcard's matches are
        // matched by name.
        let ex = PatternSet::new(&["*.md"]).unwrap();
        let s = select(&listing(), "[CR]*", &ex).unwrap();
        assert_eq!(paths(&s), ["Cargo.toml"]);
        let ex = PatternSet::new(&["src"]).unwrap();
        let s = select(&listing(), "src*", &ex).unwrap();
        assert_eq!(paths(&s), ["srcx"], "an excluded match takes its tree");
        // A root named explicitly is copied whatever the patterns say.
        let s = select(&listing(), "README.md", &ex).unwrap();
        assert_eq!(paths(&s), ["README.md"]);
    }

    #[test]
    fn parents_keep_the_path_from_the_root_or_the_pivot() {
        let none = PatternSet::default();
        let s = select_parents(&listing(), "./src/util/mod.rs", &none).unwrap();
        assert_eq!(s.base.as_deref(), Some(""));
        assert_eq!(s.roots, ["src/util/mod.rs"]);
        let s = select_parents(&listing(), "src/./util", &none).unwrap();
        assert_eq!(s.base.as_deref(), Some("src"));
        assert_eq!(paths(&s), ["src/util", "src/util/mod.rs"]);
        let ex = PatternSet::new(&["src/main.rs"]).unwrap();
        let s = select_parents(&listing(), "src/*.rs", &ex);
        assert!(s.unwrap().entries.is_empty(), "excluded from the base");
        let s = select_parents(&listing(), "**/mod.rs", &none).unwrap();
        assert_eq!(s.roots, ["src/util/mod.rs"]);
        let s = select_parents(&listing(), "src/**/*.rs", &none).unwrap();
        assert_eq!(s.roots, ["src/main.rs", "src/util/mod.rs"]);
        assert!(matches!(
            select_parents(&listing(), "../x/./y", &none),
            Err(SelectError::OutsideContext { .. })
        ));
        assert_eq!(
            select_parents(&listing(), "src/./nope", &none).unwrap_err(),
            SelectError::NotFound {
                path: "src/./nope".into()
            }
        );
    }

    #[test]
    fn errors_name_the_source() {
        let none = PatternSet::default();
        assert_eq!(
            select(&listing(), "../secret", &none).unwrap_err().to_string(),
            "COPY source `../secret` is outside the build context; sources are relative to the context directory"
        );
        assert!(matches!(
            select(&listing(), "src/../../x", &none),
            Err(SelectError::OutsideContext { .. })
        ));
        assert!(matches!(
            select(&listing(), "nope.txt", &none),
            Err(SelectError::NotFound { .. })
        ));
        assert!(matches!(
            select(&listing(), "*.py", &none),
            Err(SelectError::NotFound { .. })
        ));
        assert!(matches!(
            select(&listing(), "[ab", &none),
            Err(SelectError::BadPattern { .. })
        ));
    }
}
