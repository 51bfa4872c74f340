//! A private `docker-registry` (Debian's package of distribution) on a free
//! 127.0.0.1 port with storage in a temp dir, and a minimal push client for
//! the registry API, so tests have images of their own making.

use crate::image::Digest;
use base64::Engine as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Mints a bearer token granting pull and push on a repository.
pub type MintToken = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// A running registry; killed (exactly its PID) and its storage removed on drop.
pub struct LocalRegistry {
    child: Child,
    pub dir: tempfile::TempDir,
    /// `127.0.0.1:<port>`, the registry part of references to it.
    pub host: String,
    basic: Option<String>,
    push_token: Option<MintToken>,
}

/// The registry side of `auth: token` (distribution `docs/spec/auth/token.md`).
pub struct TokenAuth {
    pub realm: String,
    pub service: String,
    pub issuer: String,
    /// The certificate whose key signs the tokens (`rootcertbundle`).
    pub cert_pem: String,
    /// Mints a token granting pull and push on a repository, for pushing.
    pub push_token: MintToken,
}

/// How the registry authenticates clients.
pub enum Auth<'a> {
    Anonymous,
    /// HTTP Basic against an htpasswd file (bcrypt, by apache2-utils' htpasswd).
    Basic(&'a str, &'a str),
    /// Bearer tokens from a token server.
    Token(TokenAuth),
}

/// A TCP port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

impl LocalRegistry {
    /// Start a registry with the given authentication; panics (these are
    /// tests) when `docker-registry` is missing or does not come up.
    pub fn start(auth: Auth<'_>) -> LocalRegistry {
        let binary = Path::new("/usr/bin/docker-registry");
        assert!(
            binary.exists(),
            "docker-registry must be installed (apt-get install docker-registry)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let host = format!("127.0.0.1:{}", free_port());
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
            dir.path().join("data").display()
        );
        let (mut basic, mut push_token) = (None, None);
        match auth {
            Auth::Anonymous => {}
            Auth::Basic(user, password) => {
                basic = Some(basic_header(user, password));
                let htpasswd = dir.path().join("htpasswd");
                let out = Command::new("htpasswd")
                    .args(["-Bbn", user, password])
                    .output()
                    .expect("htpasswd (apache2-utils) must be installed");
                assert!(out.status.success(), "htpasswd failed");
                std::fs::write(&htpasswd, out.stdout).expect("write htpasswd");
                config.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: test-realm\n    path: {}\n",
                    htpasswd.display()
                ));
            }
            Auth::Token(t) => {
                let bundle = dir.path().join("token-cert.pem");
                std::fs::write(&bundle, &t.cert_pem).expect("write cert bundle");
                config.push_str(&format!(
                    "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                    t.realm, t.service, t.issuer, bundle.display()
                ));
                push_token = Some(t.push_token);
            }
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write registry config");
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker-registry");
        let reg = LocalRegistry {
            child,
            dir,
            host,
            basic,
            push_token,
        };
        reg.wait_ready();
        reg
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let url = format!("http://{}/v2/", self.host);
        while Instant::now() < deadline {
            match ureq::get(&url).call() {
                Ok(_) | Err(ureq::Error::Status(401, _)) => return,
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        panic!("docker-registry did not answer on {url}");
    }

    /// A request with the credentials this registry wants.
    fn req(&self, method: &str, url: &str, repo: &str) -> ureq::Request {
        let r = ureq::request(method, url);
        if let Some(mint) = &self.push_token {
            return r.set("Authorization", &format!("Bearer {}", mint(repo)));
        }
        match &self.basic {
            Some(b) => r.set("Authorization", b),
            None => r,
        }
    }

    /// Upload a blob (monolithic: POST then PUT with the digest).
    pub fn push_blob(&self, repo: &str, data: &[u8]) -> Digest {
        let digest = Digest::of(data);
        let start = format!("http://{}/v2/{repo}/blobs/uploads/", self.host);
        let resp = self
            .req("POST", &start, repo)
            .call()
            .expect("start blob upload");
        let location = resp.header("Location").expect("upload Location");
        let location = if location.starts_with('/') {
            format!("http://{}{location}", self.host)
        } else {
            location.to_string()
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        self.req("PUT", &format!("{location}{sep}digest={digest}"), repo)
            .set("Content-Type", "application/octet-stream")
            .send_bytes(data)
            .expect("finish blob upload");
        digest
    }

    /// Upload a manifest or index under `reference` (tag or digest).
    pub fn push_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> Digest {
        let url = format!("http://{}/v2/{repo}/manifests/{reference}", self.host);
        self.req("PUT", &url, repo)
            .set("Content-Type", media_type)
            .send_bytes(body)
            .expect("push manifest");
        Digest::of(body)
    }

    /// Where the registry keeps a blob's bytes (to corrupt it on purpose).
    pub fn blob_file(&self, d: &Digest) -> PathBuf {
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&d.hex()[..2])
            .join(d.hex())
            .join("data")
    }
}

fn basic_header(user: &str, password: &str) -> String {
    let raw = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        // Only the child we spawned, by its own handle (its PID).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
