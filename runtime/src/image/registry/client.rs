//! A client of the OCI distribution API v2 (`spec.md` of
//! opencontainers/distribution-spec): manifest and blob GETs for one
//! repository, answering 401 challenges with Basic or a bearer token.
//! Every request goes through [`RegistryClient::execute`], which the push
//! side (`upload.rs`) uses for its HEAD, POST, PUT and PATCH requests.
//!
//! Blocking `ureq` (rustls, no async runtime): a pull is a handful of
//! sequential requests plus a few parallel blob downloads, which scoped
//! threads do without tying the image store to an executor.

use super::auth::{
    credentials_in, docker_config_path, parse_challenge, AuthError, Challenge, Credentials,
    TokenResponse,
};
use super::RegistryError;
use std::io::{self, Read};
use std::sync::Mutex;
use std::time::Duration;

const MAX_MANIFEST_BYTES: u64 = 8 * 1024 * 1024;

/// A client bound to one repository of one registry.
pub struct RegistryClient {
    agent: ureq::Agent,
    /// `scheme://host`, what relative upload locations are resolved against.
    pub(super) origin: String,
    pub(super) base: String,
    registry: String,
    repository: String,
    credentials: Option<Credentials>,
    /// The token scopes a push asks for (`repository:NAME:pull,push` and
    /// `repository:SOURCE:pull` per mount source); `None` for a pull,
    /// which takes the challenge's scope.
    push_scopes: Option<Vec<String>>,
    /// The `Authorization` value that last worked, reused by every request
    /// (and every download thread) until a new 401.
    authorization: Mutex<Option<String>>,
}

/// Opens a request body (again, when a request is retried).
pub(super) type Opener<'a> = dyn Fn() -> io::Result<Box<dyn Read + 'a>> + 'a;

/// The body of a request; a stream is opened again when the request is
/// retried after a 401.
pub(super) enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    Stream { size: u64, open: &'a Opener<'a> },
}

/// A fetched manifest or index.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    pub media_type: String,
    pub bytes: Vec<u8>,
}

impl RegistryClient {
    /// A client for `registry/repository`, with the credentials of the
    /// user's Docker config for that registry.
    pub fn new(
        registry: &str,
        repository: &str,
        docker_config: Option<&std::path::Path>,
    ) -> Result<RegistryClient, RegistryError> {
        let credentials = match docker_config {
            Some(path) => credentials_in(path, registry)?,
            None => match docker_config_path() {
                Some(path) => credentials_in(&path, registry)?,
                None => None,
            },
        };
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(15))
            .timeout_read(Duration::from_secs(120))
            .redirects(5)
            .redirect_auth_headers(ureq::RedirectAuthHeaders::SameHost)
            .user_agent(concat!("compose/", env!("CARGO_PKG_VERSION")))
            // HTTPS_PROXY and friends, as Docker honours them; never for
            // loopback registries (ureq 2 does not read NO_PROXY).
            .try_proxy_from_env(scheme(registry) == "https")
            .build();
        let origin = format!("{}://{}", scheme(registry), api_host(registry));
        Ok(RegistryClient {
            agent,
            base: format!("{origin}/v2/{repository}"),
            origin,
            registry: registry.to_string(),
            repository: repository.to_string(),
            credentials,
            push_scopes: None,
            authorization: Mutex::new(None),
        })
    }

    /// A client that may push to `registry/repository` and mount blobs
    /// from the repositories `mount_from` of the same registry: its bearer
    /// tokens ask for `pull,push` on the target and `pull` on each source
    /// (as Docker's push does, distribution `docs/spec/auth/scope.md`).
    pub fn for_push(
        registry: &str,
        repository: &str,
        mount_from: &[String],
        docker_config: Option<&std::path::Path>,
    ) -> Result<RegistryClient, RegistryError> {
        let mut client = RegistryClient::new(registry, repository, docker_config)?;
        let mut scopes = vec![format!("repository:{repository}:pull,push")];
        scopes.extend(
            mount_from
                .iter()
                .filter(|r| *r != repository)
                .map(|r| format!("repository:{r}:pull")),
        );
        client.push_scopes = Some(scopes);
        Ok(client)
    }

    /// GET a manifest by tag or digest.
    pub fn manifest(
        &self,
        reference: &str,
        accept: &[&str],
    ) -> Result<FetchedManifest, RegistryError> {
        let url = format!("{}/manifests/{}", self.base, reference);
        let resp = self.get(&url, Some(&accept.join(", ")))?;
        let media_type = resp.content_type().to_string();
        let mut bytes = Vec::new();
        resp.into_reader()
            .take(MAX_MANIFEST_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|source| RegistryError::Read { url, source })?;
        Ok(FetchedManifest { media_type, bytes })
    }

    /// GET a blob; the body reader.
    pub fn blob(
        &self,
        digest: &crate::image::Digest,
    ) -> Result<Box<dyn Read + Send + Sync>, RegistryError> {
        let url = format!("{}/blobs/{}", self.base, digest);
        Ok(self.get(&url, None)?.into_reader())
    }

    fn get(&self, url: &str, accept: Option<&str>) -> Result<ureq::Response, RegistryError> {
        let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept", a)).into_iter().collect();
        self.execute("GET", url, &headers, &Body::Empty)
    }

    /// Send a request with the authorization that last worked; on a 401,
    /// answer its challenge and send it once more. Statuses of 400 and
    /// above become errors.
    pub(super) fn execute(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &Body<'_>,
    ) -> Result<ureq::Response, RegistryError> {
        let auth = self.authorization.lock().expect("auth lock").clone();
        match self.send(method, url, headers, body, auth.as_deref()) {
            Err(e) if matches!(&e, SendError::Http(h) if matches!(**h, ureq::Error::Status(401, _))) =>
            {
                let SendError::Http(h) = e else {
                    unreachable!("matched an HTTP error")
                };
                let ureq::Error::Status(_, resp) = *h else {
                    unreachable!("matched a 401 status")
                };
                let header = resp
                    .header("www-authenticate")
                    .unwrap_or_default()
                    .to_string();
                let fresh = self.authorize(&header)?;
                *self.authorization.lock().expect("auth lock") = Some(fresh.clone());
                self.send(method, url, headers, body, Some(&fresh))
                    .map_err(|e| self.send_error(url, e))
            }
            other => other.map_err(|e| self.send_error(url, e)),
        }
    }

    fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &Body<'_>,
        auth: Option<&str>,
    ) -> Result<ureq::Response, SendError> {
        let mut req = self.agent.request(method, url);
        for (k, v) in headers {
            req = req.set(k, v);
        }
        if let Some(a) = auth {
            req = req.set("Authorization", a);
        }
        let sent = match body {
            Body::Empty => req.call(),
            Body::Bytes(b) => req.send_bytes(b),
            Body::Stream { size, open } => {
                let reader = open().map_err(SendError::Body)?;
                // A known length, not chunked encoding: some registries
                // refuse chunked uploads.
                req.set("Content-Length", &size.to_string()).send(reader)
            }
        };
        sent.map_err(|e| SendError::Http(Box::new(e)))
    }

    fn send_error(&self, url: &str, e: SendError) -> RegistryError {
        match e {
            SendError::Http(h) => self.status_error(url, h),
            SendError::Body(source) => RegistryError::Read {
                url: url.to_string(),
                source,
            },
        }
    }

    /// Answer a challenge: Basic with the stored credentials, or a bearer
    /// token from the realm (with the credentials, if any).
    fn authorize(&self, header: &str) -> Result<String, RegistryError> {
        let unauthorized = || self.denied();
        match parse_challenge(header)? {
            Challenge::Basic => Ok(self
                .credentials
                .as_ref()
                .ok_or_else(unauthorized)?
                .basic_header()),
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let scopes = match &self.push_scopes {
                    Some(push) => push.clone(),
                    None => {
                        vec![scope.unwrap_or_else(|| format!("repository:{}:pull", self.repository))]
                    }
                };
                let mut req = self.agent.get(&realm);
                for scope in &scopes {
                    req = req.query("scope", scope);
                }
                if let Some(s) = &service {
                    req = req.query("service", s);
                }
                if let Some(c) = &self.credentials {
                    req = req.set("Authorization", &c.basic_header());
                }
                let resp = req.call().map_err(|e| match e {
                    ureq::Error::Status(401 | 403, _) => self.denied(),
                    other => self.status_error(&realm, Box::new(other)),
                })?;
                let body: TokenResponse =
                    resp.into_json().map_err(|source| RegistryError::Read {
                        url: realm.clone(),
                        source,
                    })?;
                let token =
                    body.into_token()
                        .ok_or(RegistryError::Auth(AuthError::BadChallenge {
                            header: format!("token endpoint {realm} returned no token"),
                        }))?;
                Ok(format!("Bearer {token}"))
            }
        }
    }

    fn status_error(&self, url: &str, e: Box<ureq::Error>) -> RegistryError {
        match *e {
            ureq::Error::Status(404, _) => RegistryError::NotFound {
                what: if url.contains("/manifests/") {
                    "manifest"
                } else {
                    "blob"
                },
                url: url.to_string(),
            },
            ureq::Error::Status(401 | 403, _) => self.denied(),
            ureq::Error::Status(status, resp) => RegistryError::Status {
                url: url.to_string(),
                status,
                body: resp
                    .into_string()
                    .unwrap_or_default()
                    .chars()
                    .take(300)
                    .collect(),
            },
            ureq::Error::Transport(t) => RegistryError::Unreachable {
                registry: self.registry.clone(),
                message: t.to_string(),
            },
        }
    }
}

/// Why a request was not answered.
enum SendError {
    Http(Box<ureq::Error>),
    /// The body to send could not be read.
    Body(io::Error),
}

impl RegistryClient {
    /// The error of a 401/403: a push names the repository it may not
    /// write to.
    fn denied(&self) -> RegistryError {
        match self.push_scopes {
            Some(_) => RegistryError::PushDenied {
                registry: self.registry.clone(),
                repository: self.repository.clone(),
            },
            None => RegistryError::Unauthorized {
                registry: self.registry.clone(),
            },
        }
    }
}

/// Docker Hub's API lives on another host than its name.
fn api_host(registry: &str) -> &str {
    if registry == crate::image::reference::DOCKER_HUB {
        "registry-1.docker.io"
    } else {
        registry
    }
}

/// Plain HTTP for loopback registries (Docker trusts 127.0.0.0/8 as
/// insecure by default) and for hosts listed in
/// `COMPOSE_INSECURE_REGISTRIES` (comma-separated); HTTPS otherwise.
fn scheme(registry: &str) -> &'static str {
    let host = match registry.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => registry.split(':').next().unwrap_or_default(),
    };
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let listed = std::env::var("COMPOSE_INSECURE_REGISTRIES")
        .map(|v| v.split(',').any(|h| h.trim() == registry))
        .unwrap_or(false);
    if loopback || listed {
        "http"
    } else {
        "https"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries_use_plain_http() {
        assert_eq!(scheme("localhost:5000"), "http");
        assert_eq!(scheme("127.0.0.1:5000"), "http");
        assert_eq!(scheme("[::1]:5000"), "http");
        assert_eq!(scheme("ghcr.io"), "https");
        assert_eq!(api_host("docker.io"), "registry-1.docker.io");
    }
}
