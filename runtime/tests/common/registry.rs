//! A private `docker-registry` (Debian's package of distribution) on a free
//! 127.0.0.1 port with storage in a temp dir, and a minimal push client for
//! the registry API, so pull tests have an image of their own making.
#![allow(dead_code)]

use base64::Engine as _;
use compose_runtime::image::Digest;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running registry; killed (exactly its PID) and its storage removed on drop.
pub struct LocalRegistry {
    child: Child,
    pub dir: tempfile::TempDir,
    pub host: String,
    basic: Option<String>,
    signer: Option<std::sync::Arc<super::token::Signer>>,
}

/// How the registry authenticates clients.
pub enum Auth<'a> {
    Anonymous,
    /// HTTP Basic against an htpasswd file (bcrypt, by apache2-utils' htpasswd).
    Basic(&'a str, &'a str),
    /// Bearer tokens from the test's token server.
    Token(&'a super::token::TokenServer),
}

/// A TCP port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl LocalRegistry {
    /// Start a registry with the given authentication.
    pub fn start(auth: Auth<'_>) -> LocalRegistry {
        let binary = Path::new("/usr/bin/docker-registry");
        assert!(
            binary.exists(),
            "docker-registry must be installed (apt-get install docker-registry)"
        );
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
            dir.path().join("data").display()
        );
        let mut basic = None;
        let mut signer = None;
        if let Auth::Token(server) = &auth {
            let bundle = dir.path().join("token-cert.pem");
            std::fs::write(&bundle, &server.signer.cert_pem).unwrap();
            config.push_str(&format!(
                "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                server.realm,
                super::token::SERVICE,
                super::token::ISSUER,
                bundle.display()
            ));
            signer = Some(server.signer.clone());
        }
        if let Auth::Basic(user, password) = auth {
            basic = Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            ));
            let htpasswd = dir.path().join("htpasswd");
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .expect("htpasswd (apache2-utils) must be installed");
            assert!(out.status.success());
            std::fs::write(&htpasswd, out.stdout).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: test-realm\n    path: {}\n",
                htpasswd.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let reg = LocalRegistry {
            child,
            dir,
            host,
            basic,
            signer,
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

    /// A request with the credentials this registry wants: Basic, or a
    /// token for pull and push on `repo` minted directly by the signer.
    fn req(&self, method: &str, url: &str, repo: &str) -> ureq::Request {
        let r = ureq::request(method, url);
        if let Some(signer) = &self.signer {
            let token = signer.token(
                "pusher",
                &[(
                    repo.to_string(),
                    vec!["pull".to_string(), "push".to_string()],
                )],
            );
            return r.set("Authorization", &format!("Bearer {token}"));
        }
        match &self.basic {
            Some(b) => r.set("Authorization", b),
            None => r,
        }
    }

    /// Upload a blob (monolithic: POST then PUT with the digest).
    pub fn push_blob(&self, repo: &str, data: &[u8]) -> Digest {
        let digest = Digest::of(data);
        let resp = self
            .req(
                "POST",
                &format!("http://{}/v2/{repo}/blobs/uploads/", self.host),
                repo,
            )
            .call()
            .unwrap();
        let location = resp.header("Location").unwrap().to_string();
        let location = if location.starts_with('/') {
            format!("http://{}{location}", self.host)
        } else {
            location
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        self.req("PUT", &format!("{location}{sep}digest={digest}"), repo)
            .set("Content-Type", "application/octet-stream")
            .send_bytes(data)
            .unwrap();
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
        self.req(
            "PUT",
            &format!("http://{}/v2/{repo}/manifests/{reference}", self.host),
            repo,
        )
        .set("Content-Type", media_type)
        .send_bytes(body)
        .unwrap();
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

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        // Only the child we spawned, by its own handle (its PID).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
