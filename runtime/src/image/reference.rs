//! Image references, normalised as Docker does (distribution's `reference`
//! package, `normalize.go`): `redis` is `docker.io/library/redis:latest`, a
//! first component is a registry host only if it has a `.` or a `:` or is
//! `localhost`, `index.docker.io` is `docker.io`, and `name@sha256:…` pins a
//! digest (with or without a tag).

use super::digest::{Digest, DigestError};
use std::fmt;
use std::str::FromStr;

/// The registry Docker Hub images live in.
pub const DOCKER_HUB: &str = "docker.io";
const MAX_NAME_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;

/// Why a string is not an image reference.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("invalid reference format: empty image name")]
    Empty,
    #[error("invalid reference format: repository name `{0}` must be lowercase")]
    Uppercase(String),
    #[error("invalid reference format: `{reference}`: {what} (names are lowercase letters, digits and `.`, `_`, `__`, `-` between them)")]
    BadName { reference: String, what: String },
    #[error("invalid reference format: `{reference}`: tag `{tag}` must be 1-128 of letters, digits, `_`, `.`, `-` and not start with `.` or `-`")]
    BadTag { reference: String, tag: String },
    #[error("invalid reference format: `{reference}`: registry host `{host}` is malformed")]
    BadHost { reference: String, host: String },
    #[error("invalid reference format: `{reference}`: repository name longer than 255 characters")]
    TooLong { reference: String },
    #[error("invalid reference format: `{reference}`: {source}")]
    BadDigest {
        reference: String,
        source: DigestError,
    },
}

/// A fully normalised image reference.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// Registry host with optional port, e.g. `docker.io`, `localhost:5000`.
    pub registry: String,
    /// Repository path inside the registry, e.g. `library/redis`.
    pub repository: String,
    /// The tag; `latest` when neither a tag nor a digest was given.
    pub tag: Option<String>,
    /// A pinned manifest digest.
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parse and normalise `s` the way `docker pull` does.
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        if s.is_empty() {
            return Err(ReferenceError::Empty);
        }
        let (rest, digest) = match s.rsplit_once('@') {
            Some((rest, d)) => {
                let digest = d.parse().map_err(|source| ReferenceError::BadDigest {
                    reference: s.to_string(),
                    source,
                })?;
                (rest, Some(digest))
            }
            None => (s, None),
        };
        let (name, tag) = split_tag(rest);
        if let Some(tag) = tag {
            check_tag(s, tag)?;
        }
        let (registry, repository) = split_registry(s, name)?;
        check_repository(s, &repository)?;
        if registry.len() + 1 + repository.len() > MAX_NAME_LEN {
            return Err(ReferenceError::TooLong {
                reference: s.to_string(),
            });
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, None) => Some("latest".to_string()),
            (None, Some(_)) => None,
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// `registry/repository`, e.g. `docker.io/library/redis`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The name as Docker prints it: `redis`, `user/app`, `ghcr.io/x/y`.
    pub fn familiar_name(&self) -> String {
        if self.registry != DOCKER_HUB {
            return self.name();
        }
        match self.repository.strip_prefix("library/") {
            Some(short) if !short.contains('/') => short.to_string(),
            _ => self.repository.clone(),
        }
    }

    /// The same repository with another tag and no digest.
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        }
    }

    /// The same repository pinned to a digest, without a tag.
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            tag: None,
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// What to ask the registry's manifest endpoint for: the digest if
    /// pinned (it wins over a tag, as in Docker), else the tag.
    pub fn manifest_ref(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Reference, ReferenceError> {
        Reference::parse(s)
    }
}

/// The tag is after the last `:` that follows the last `/` (a `:` before a
/// `/` is a registry port).
fn split_tag(s: &str) -> (&str, Option<&str>) {
    let last_slash = s.rfind('/').map_or(0, |i| i + 1);
    match s[last_slash..].rfind(':') {
        Some(i) => (&s[..last_slash + i], Some(&s[last_slash + i + 1..])),
        None => (s, None),
    }
}

fn split_registry(reference: &str, name: &str) -> Result<(String, String), ReferenceError> {
    let (registry, path) = match name.split_once('/') {
        Some((first, rest)) if is_host(first) => {
            check_host(reference, first)?;
            (first.to_string(), rest.to_string())
        }
        _ => (DOCKER_HUB.to_string(), name.to_string()),
    };
    let registry = if registry == "index.docker.io" {
        DOCKER_HUB.to_string()
    } else {
        registry
    };
    let path = if registry == DOCKER_HUB && !path.contains('/') {
        format!("library/{path}")
    } else {
        path
    };
    Ok((registry, path))
}

fn is_host(first: &str) -> bool {
    first.contains('.')
        || first.contains(':')
        || first == "localhost"
        || first.bytes().any(|b| b.is_ascii_uppercase())
}

fn check_host(reference: &str, host: &str) -> Result<(), ReferenceError> {
    let bad = || ReferenceError::BadHost {
        reference: reference.to_string(),
        host: host.to_string(),
    };
    let (name, port) = if let Some(v6) = host.strip_prefix('[') {
        let (addr, rest) = v6.split_once(']').ok_or_else(bad)?;
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad());
        }
        (None, rest.strip_prefix(':'))
    } else {
        match host.split_once(':') {
            Some((n, p)) => (Some(n), Some(p)),
            None => (Some(host), None),
        }
    };
    if let Some(port) = port {
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
    }
    if let Some(name) = name {
        let label_ok = |l: &str| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if !name.split('.').all(label_ok) {
            return Err(bad());
        }
    }
    Ok(())
}

fn check_repository(reference: &str, path: &str) -> Result<(), ReferenceError> {
    if path.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(ReferenceError::Uppercase(path.to_string()));
    }
    for component in path.split('/') {
        if let Some(what) = component_problem(component) {
            return Err(ReferenceError::BadName {
                reference: reference.to_string(),
                what,
            });
        }
    }
    Ok(())
}

/// A path component is `[a-z0-9]+` runs joined by `.`, `_`, `__` or `-+`.
fn component_problem(c: &str) -> Option<String> {
    if c.is_empty() {
        return Some("empty path component".to_string());
    }
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = c.as_bytes();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return Some(format!(
            "component `{c}` must start and end with a letter or digit"
        ));
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return Some(format!("component `{c}` has separator `{sep}`"));
        }
    }
    None
}

fn check_tag(reference: &str, tag: &str) -> Result<(), ReferenceError> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let ok = !tag.is_empty()
        && tag.len() <= MAX_TAG_LEN
        && word(tag.as_bytes()[0])
        && tag.bytes().all(|b| word(b) || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ReferenceError::BadTag {
            reference: reference.to_string(),
            tag: tag.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        Reference::parse(s).unwrap().to_string()
    }

    #[test]
    fn normalises_like_docker() {
        assert_eq!(norm("redis"), "docker.io/library/redis:latest");
        assert_eq!(norm("redis:7"), "docker.io/library/redis:7");
        assert_eq!(norm("user/app"), "docker.io/user/app:latest");
        assert_eq!(
            norm("index.docker.io/redis"),
            "docker.io/library/redis:latest"
        );
        assert_eq!(norm("ghcr.io/a/b/c:v1"), "ghcr.io/a/b/c:v1");
        assert_eq!(norm("localhost/x"), "localhost/x:latest");
        assert_eq!(norm("localhost:5000/x:1.0"), "localhost:5000/x:1.0");
        assert_eq!(
            norm("127.0.0.1:5000/a_b/c-d"),
            "127.0.0.1:5000/a_b/c-d:latest"
        );
        assert_eq!(norm("[::1]:5000/x"), "[::1]:5000/x:latest");
    }

    #[test]
    fn digests_pin_and_drop_the_default_tag() {
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("redis@{d}")).unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.manifest_ref(), d);
        assert_eq!(r.to_string(), format!("docker.io/library/redis@{d}"));
        let r = Reference::parse(&format!("redis:7@{d}")).unwrap();
        assert_eq!(r.tag.as_deref(), Some("7"));
        assert_eq!(r.manifest_ref(), d);
    }

    #[test]
    fn familiar_names() {
        let f = |s: &str| Reference::parse(s).unwrap().familiar_name();
        assert_eq!(f("redis"), "redis");
        assert_eq!(f("user/app"), "user/app");
        assert_eq!(f("localhost:5000/x"), "localhost:5000/x");
    }

    #[test]
    fn rejects_malformed_references() {
        assert!(matches!(
            Reference::parse("Redis"),
            Err(ReferenceError::Uppercase(_))
        ));
        assert!(matches!(
            Reference::parse("a//b"),
            Err(ReferenceError::BadName { .. })
        ));
        assert!(matches!(
            Reference::parse("a:"),
            Err(ReferenceError::BadTag { .. })
        ));
        assert!(matches!(
            Reference::parse("a:.x"),
            Err(ReferenceError::BadTag { .. })
        ));
        assert!(matches!(
            Reference::parse("a@sha256:zz"),
            Err(ReferenceError::BadDigest { .. })
        ));
        assert!(matches!(
            Reference::parse("host:x/a"),
            Err(ReferenceError::BadHost { .. })
        ));
        assert!(matches!(
            Reference::parse("a..b"),
            Err(ReferenceError::BadName { .. })
        ));
        assert!(Reference::parse("a__b-c.d").is_ok());
        assert!(matches!(Reference::parse(""), Err(ReferenceError::Empty)));
    }
}
