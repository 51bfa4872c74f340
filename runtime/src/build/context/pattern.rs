//! Path patterns of `.dockerignore` and `COPY --exclude`, with the
//! semantics of moby/patternmatcher: Go `filepath.Match` syntax (`*`, `?`,
//! `[...]`, `\` escapes) plus `**` for any number of directories, `!` for
//! exceptions, the last matching pattern wins, and a pattern that matches
//! a parent directory matches everything below it.

use regex::Regex;

/// A pattern that cannot be compiled.
#[derive(Debug, thiserror::Error)]
#[error("bad pattern `{pattern}`: {reason}")]
pub struct PatternError {
    pub pattern: String,
    pub reason: String,
}

#[derive(Debug, Clone)]
struct Pattern {
    exception: bool,
    regex: Regex,
}

/// An ordered list of patterns.
#[derive(Debug, Clone, Default)]
pub struct PatternSet {
    patterns: Vec<Pattern>,
    exceptions: bool,
}

impl PatternSet {
    /// Compile `patterns` (blank ones skipped, each cleaned as Go's
    /// `filepath.Clean` would).
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<PatternSet, PatternError> {
        let mut set = PatternSet::default();
        for raw in patterns {
            let p = raw.as_ref().trim();
            if p.is_empty() {
                continue;
            }
            let (exception, body) = match p.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, p),
            };
            if body.is_empty() {
                return Err(PatternError {
                    pattern: p.to_string(),
                    reason: "`!` needs a pattern after it".into(),
                });
            }
            let cleaned = clean(body);
            let cleaned = match cleaned.strip_prefix('/') {
                Some(rest) if !rest.is_empty() => rest.to_string(),
                _ => cleaned,
            };
            let regex = Regex::new(&to_regex(&cleaned)).map_err(|e| PatternError {
                pattern: p.to_string(),
                reason: match e {
                    regex::Error::Syntax(_) => "unclosed or malformed `[...]` class".to_string(),
                    other => other.to_string(),
                },
            })?;
            set.exceptions |= exception;
            set.patterns.push(Pattern { exception, regex });
        }
        Ok(set)
    }

    /// Whether any pattern is an exception (`!...`).
    pub fn has_exceptions(&self) -> bool {
        self.exceptions
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether `path` (slash-separated, relative) is matched, directly or
    /// through a parent directory (patternmatcher `MatchesOrParentMatches`).
    pub fn matches(&self, path: &str) -> bool {
        let path = clean(path);
        if path == "." {
            return false;
        }
        let parents: Vec<&str> = match path.rfind('/') {
            Some(i) => path[..i].split('/').collect(),
            None => Vec::new(),
        };
        let mut matched = false;
        for p in &self.patterns {
            // An inclusion cannot change a match, an exception cannot
            // change a non-match: skip them.
            if p.exception != matched {
                continue;
            }
            let hit = p.regex.is_match(&path)
                || (1..=parents.len()).any(|n| p.regex.is_match(&parents[..n].join("/")));
            if hit {
                matched = !p.exception;
            }
        }
        matched
    }
}

/// Go's `filepath.Clean` on a slash path.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return if rooted { "/".into() } else { ".".into() };
    }
    let joined = parts.join("/");
    if rooted {
        format!("/{joined}")
    } else {
        joined
    }
}

/// The regex of a cleaned pattern, as patternmatcher builds it.
fn to_regex(pattern: &str) -> String {
    let mut re = String::from("^");
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                }
                // `**` at the end takes everything; elsewhere any number
                // of whole directories (even none).
                re.push_str(if chars.peek().is_none() {
                    ".*"
                } else {
                    "(.*/)?"
                });
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '\\' => match chars.next() {
                Some(n) => re.push_str(&regex::escape(&n.to_string())),
                None => re.push_str("\\\\"),
            },
            '[' | ']' | '^' | '-' => re.push(c),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    re
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(patterns: &[&str], path: &str) -> bool {
        PatternSet::new(patterns).unwrap().matches(path)
    }

    #[test]
    fn go_match_syntax() {
        assert!(m(&["*.md"], "README.md"));
        assert!(!m(&["*.md"], "docs/README.md"), "`*` does not cross `/`");
        assert!(m(&["*/*.md"], "docs/README.md"));
        assert!(m(&["file?.txt"], "file1.txt"));
        assert!(!m(&["file?.txt"], "file10.txt"));
        assert!(m(&["[a-c]x"], "bx"));
        assert!(!m(&["[a-c]x"], "dx"));
        assert!(m(&["a\\*b"], "a*b"));
        assert!(!m(&["a\\*b"], "axb"));
        assert!(
            m(&["a.b"], "a.b") && !m(&["a.b"], "axb"),
            "regex specials are literal"
        );
    }

    #[test]
    fn double_star_and_parents() {
        assert!(m(&["**/*.go"], "main.go"));
        assert!(m(&["**/*.go"], "a/b/c.go"));
        assert!(m(&["a/**/z"], "a/z"));
        assert!(m(&["a/**/z"], "a/b/c/z"));
        assert!(m(&["a/**"], "a/b/c"));
        assert!(m(&["node_modules"], "node_modules/x/y.js"), "parent match");
        assert!(m(&["**"], "anything/at/all"));
    }

    #[test]
    fn exceptions_and_last_match_wins() {
        let set = ["*.md", "!README.md", "README*"];
        assert!(m(&set, "CHANGES.md"));
        assert!(m(&set, "README.md"), "the last pattern re-excludes it");
        assert!(!m(&["*.md", "!README.md"], "README.md"));
        assert!(m(&["docs", "!docs/keep.txt"], "docs/other"));
        assert!(!m(&["docs", "!docs/keep.txt"], "docs/keep.txt"));
    }

    #[test]
    fn patterns_and_paths_are_cleaned() {
        assert!(m(&["/build"], "build/x"));
        assert!(m(&["./tmp//cache/"], "tmp/cache/a"));
        assert!(m(&["a/../b"], "b"));
        assert_eq!(clean("../a/./b/../c"), "../a/c");
        assert_eq!(clean("/../x"), "/x");
        assert!(!m(&["*"], "."), "the context root is never excluded");
    }

    #[test]
    fn bad_patterns_are_errors() {
        assert!(PatternSet::new(&["[abc"]).is_err());
        assert!(PatternSet::new(&["!"]).is_err());
    }
}
