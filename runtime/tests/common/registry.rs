//! A private `docker-registry` (Debian's package of distribution) on a free
//! 127.0.0.1 port with storage in a temp dir, and a minimal push client for
//! the registry API, so pull tests have an image of their own making.
#![allow(dead_code)]

use base64::Engine as _;
use compose_runtime::image::Digest;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running registry; killed (exactly its PID) and its storage removed on drop.
pub struct LocalRegistry {
    child: Child,
    pub dir: tempfile::TempDir,
    pub host: String,
    basic: Option<String>,
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
    /// Start a registry; with `user`/`password` it demands HTTP Basic
    /// against an htpasswd file (bcrypt, made with apache2-utils' htpasswd).
    pub fn start(auth: Option<(&str, &str)>) -> LocalRegistry {
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
        if let Some((user, password)) = auth {
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
        let basic = auth.map(|(u, p)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        });
        let reg = LocalRegistry {
            child,
            dir,
            host,
            basic,
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

    fn req(&self, method: &str, url: &str) -> ureq::Request {
        let r = ureq::request(method, url);
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
        self.req("PUT", &format!("{location}{sep}digest={digest}"))
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

    /// Fetch raw bytes (for checks).
    pub fn get(&self, path: &str) -> Vec<u8> {
        let mut out = Vec::new();
        self.req("GET", &format!("http://{}{path}", self.host))
            .call()
            .unwrap()
            .into_reader()
            .read_to_end(&mut out)
            .unwrap();
        out
    }
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        // Only the child we spawned, by its own handle (its PID).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
