//! Path patterns of `develop.watch` (`ignore`, `include`) and of the build
//! context's `.dockerignore`, matched against the absolute paths the file
//! watcher reports. docker compose makes every pattern absolute under a
//! root (the rule's `path`, the build context, or `/`) and asks moby's
//! patternmatcher whether the path or one of its parents matches; the same
//! here with the builder's [`PatternSet`] on the path relative to the root
//! (a path outside the root matches nothing, as no absolute pattern under
//! it could).

use compose_runtime::build::context::{PatternError, PatternSet};
use std::path::{Path, PathBuf};

/// Patterns rooted at a directory.
#[derive(Debug, Clone)]
pub struct Matcher {
    root: PathBuf,
    set: PatternSet,
}

impl Matcher {
    /// `patterns` relative to `root`. As docker compose's
    /// `NewDockerPatternMatcher`: when `*` is among them, only the
    /// exceptions (`!...`) are kept.
    pub fn new<S: AsRef<str>>(root: &Path, patterns: &[S]) -> Result<Matcher, PatternError> {
        let all = patterns.iter().any(|p| p.as_ref() == "*");
        let kept: Vec<&str> = patterns
            .iter()
            .map(|p| p.as_ref())
            .filter(|p| !all || p.starts_with('!'))
            .collect();
        Ok(Matcher {
            root: root.to_path_buf(),
            set: PatternSet::new(&kept)?,
        })
    }

    /// A matcher over an already compiled set (a `.dockerignore`).
    pub fn from_set(root: &Path, set: PatternSet) -> Matcher {
        Matcher {
            root: root.to_path_buf(),
            set,
        }
    }

    /// Whether `path` (absolute) or one of its parents under the root
    /// matches.
    pub fn matches(&self, path: &Path) -> bool {
        let Ok(rel) = path.strip_prefix(&self.root) else {
            return false;
        };
        match rel.to_str() {
            Some(rel) => self.set.matches(rel),
            None => false,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// Editors' temporary and lock files, never synced nor rebuilt on
/// (docker compose's `EphemeralPathMatcher`: GoLand, Emacs, Vim, Kate and
/// Go's umask probe files).
pub fn ephemeral() -> Matcher {
    const PATTERNS: [&str; 14] = [
        "**/*___jb_old___",
        "**/*___jb_tmp___",
        "**/.idea/**",
        "**/.#*",
        "**/#*#",
        "**/4913",
        "**/*~",
        "**/.*.swp",
        "**/.*.swx",
        "**/.*.swo",
        "**/.*.swn",
        "**/.*.kate-swp",
        "**/*-go-tmp-umask",
        // docker compose's hard-coded `.git/` ignore is rooted at `/`, so
        // it only ever skips `/.git`; its intent, skipping repositories'
        // metadata, is what users expect, so any `.git` directory is.
        "**/.git",
    ];
    Matcher::new(Path::new("/"), &PATTERNS).expect("the built-in patterns compile")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(root: &str, patterns: &[&str], path: &str) -> bool {
        Matcher::new(Path::new(root), patterns)
            .unwrap()
            .matches(Path::new(path))
    }

    #[test]
    fn patterns_are_rooted() {
        assert!(m("/p/src", &["*.tmp"], "/p/src/a.tmp"));
        assert!(!m("/p/src", &["*.tmp"], "/p/src/sub/a.tmp"));
        assert!(m("/p/src", &["**/*.tmp"], "/p/src/sub/a.tmp"));
        assert!(m(
            "/p/src",
            &["node_modules/"],
            "/p/src/node_modules/x/y.js"
        ));
        assert!(!m("/p/src", &["*.tmp"], "/other/a.tmp"), "outside the root");
        assert!(!m("/p/src", &["*"], "/p/src"), "the root itself");
    }

    #[test]
    fn a_star_keeps_only_the_exceptions() {
        // docker compose drops every non-exception pattern next to `*`.
        assert!(!m("/p", &["*"], "/p/a"));
        assert!(!m("/p", &["*", "!keep"], "/p/a"));
        assert!(m("/p", &["a*"], "/p/abc"));
    }

    #[test]
    fn editor_files_are_ephemeral() {
        let e = ephemeral();
        for p in [
            "/p/src/.main.go.swp",
            "/p/src/main.go~",
            "/p/.#notes",
            "/p/#notes#",
            "/p/4913",
            "/p/.idea/workspace.xml",
            "/p/x.go___jb_tmp___",
            "/p/.git/index",
            "/p/sub/.git/HEAD",
        ] {
            assert!(e.matches(Path::new(p)), "{p}");
        }
        for p in ["/p/src/main.go", "/p/.gitignore", "/p/swp"] {
            assert!(!e.matches(Path::new(p)), "{p}");
        }
    }
}
