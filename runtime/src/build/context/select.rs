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
}

/// Resolve `source` against a context listing (from `walk_context`).
pub fn select(
    listing: &[ContextEntry],
    source: &str,
    exclude: &PatternSet,
) -> Result<Selection, SelectError> {
    let cleaned = super::clean(source.trim_start_matches('/'));
    if cleaned == ".." || cleaned.starts_with("../") {
        return Err(SelectError::OutsideContext {
            path: source.to_string(),
        });
    }
    let roots: Vec<String> = if cleaned == "." {
        vec![String::new()]
    } else if is_glob(&cleaned) {
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
    let under = |path: &str| {
        roots.iter().any(|r| {
            r.is_empty()
                || path == r
                || (path.starts_with(r.as_str()) && path[r.len()..].starts_with('/'))
        })
    };
    let entries = listing
        .iter()
        .filter(|e| under(&e.path) && !exclude.matches(&e.path))
        .cloned()
        .collect();
    Ok(Selection { roots, entries })
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
