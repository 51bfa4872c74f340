//! Registry authentication: the `WWW-Authenticate` challenge of a 401
//! (RFC 7235; Docker's token flow in distribution's `docs/spec/auth/token.md`),
//! credentials from `~/.docker/config.json` `auths` (or `$DOCKER_CONFIG`),
//! and the bearer token request.

use base64::Engine as _;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Why credentials could not be read or a token obtained.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read Docker credentials `{}`: {source}", path.display())]
    ConfigRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("Docker credentials `{}` are not valid JSON: {source}", path.display())]
    ConfigJson {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("credentials for `{registry}` in `{}` are not base64 `user:password`", path.display())]
    BadAuthField { registry: String, path: PathBuf },
    #[error("registry answered 401 with an unusable challenge `{header}`")]
    BadChallenge { header: String },
}

/// What a 401 asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Parse a `WWW-Authenticate` header value.
pub fn parse_challenge(header: &str) -> Result<Challenge, AuthError> {
    let bad = || AuthError::BadChallenge {
        header: header.to_string(),
    };
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let params = parse_params(rest);
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Ok(Challenge::Basic),
        "bearer" => Ok(Challenge::Bearer {
            realm: params.get("realm").cloned().ok_or_else(bad)?,
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        }),
        _ => Err(bad()),
    }
}

/// `key="value", key=value` pairs; quoted values may hold commas.
fn parse_params(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    out
}

/// A user name and password (or identity token) for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, <redacted>)", self.username)
    }
}

impl Credentials {
    /// The `Authorization` header value for HTTP Basic.
    pub fn basic_header(&self) -> String {
        let raw = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

#[derive(Debug, Deserialize, Default)]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
}

#[derive(Debug, Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json"))
}

/// The credentials the Docker config at `path` stores for `registry` (as
/// written in a reference, e.g. `docker.io`, `localhost:5000`), if any. A
/// missing file means none.
pub fn credentials_in(
    path: &std::path::Path,
    registry: &str,
) -> Result<Option<Credentials>, AuthError> {
    let path = path.to_path_buf();
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(AuthError::ConfigRead { path, source }),
    };
    let config: DockerConfig =
        serde_json::from_slice(&bytes).map_err(|source| AuthError::ConfigJson {
            path: path.clone(),
            source,
        })?;
    let Some((key, entry)) = config
        .auths
        .iter()
        .find(|(k, _)| auth_key_matches(k, registry))
    else {
        return Ok(None);
    };
    entry_credentials(key, entry, &path)
}

/// Docker keys `auths` by host, or by URL (`https://index.docker.io/v1/`
/// for Docker Hub).
fn auth_key_matches(key: &str, registry: &str) -> bool {
    let host = key
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default();
    let hub = ["docker.io", "index.docker.io", "registry-1.docker.io"];
    host == registry || (registry == super::super::reference::DOCKER_HUB && hub.contains(&host))
}

fn entry_credentials(
    key: &str,
    e: &AuthEntry,
    path: &std::path::Path,
) -> Result<Option<Credentials>, AuthError> {
    let bad = || AuthError::BadAuthField {
        registry: key.to_string(),
        path: path.to_path_buf(),
    };
    if let Some(auth) = e.auth.as_deref().filter(|a| !a.is_empty()) {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let (user, pass) = raw.split_once(':').ok_or_else(bad)?;
        return Ok(Some(Credentials {
            username: user.to_string(),
            password: pass.to_string(),
        }));
    }
    if let Some(token) = &e.identitytoken {
        // An identity token is sent as the password of user `<token>`
        // (the convention of Docker's credential flow).
        return Ok(Some(Credentials {
            username: "<token>".to_string(),
            password: token.clone(),
        }));
    }
    match (&e.username, &e.password) {
        (Some(u), Some(p)) => Ok(Some(Credentials {
            username: u.clone(),
            password: p.clone(),
        })),
        _ => Ok(None),
    }
}

/// The token endpoint's answer; Docker Hub sends `token`, others
/// `access_token` (token.md, "Token Response Fields").
#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub access_token: Option<String>,
}

impl TokenResponse {
    pub fn into_token(self) -> Option<String> {
        self.token.or(self.access_token).filter(|t| !t.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenges_with_commas_in_scope() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(
            c,
            Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:a/b:pull,push".into()),
            }
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#).unwrap(),
            Challenge::Basic
        );
        assert!(parse_challenge("Negotiate").is_err());
        assert!(parse_challenge("Bearer service=x").is_err());
    }

    #[test]
    fn auth_keys_match_hosts_and_docker_hub_urls() {
        assert!(auth_key_matches("https://index.docker.io/v1/", "docker.io"));
        assert!(auth_key_matches("localhost:5000", "localhost:5000"));
        assert!(auth_key_matches(
            "http://localhost:5000/v2/",
            "localhost:5000"
        ));
        assert!(!auth_key_matches("localhost:5001", "localhost:5000"));
    }

    #[test]
    fn decodes_the_auth_field() {
        let e = AuthEntry {
            auth: Some(base64::engine::general_purpose::STANDARD.encode("me:s3:cret")),
            ..AuthEntry::default()
        };
        let c = entry_credentials("h", &e, std::path::Path::new("/c.json"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("me", "s3:cret")
        );
        assert_eq!(c.basic_header(), format!("Basic {}", e.auth.unwrap()));
    }
}
