//! A tiny bearer-token server for `docker-registry`'s `auth: token` mode
//! (distribution `docs/spec/auth/token.md`, `jwt.md`): it answers
//! `GET /token?service=…&scope=…` with an ES256 JWT whose `x5c` header
//! carries a self-signed certificate that the registry trusts through its
//! `rootcertbundle`. Anonymous callers get `pull` on `public/*` only;
//! `alice:s3cret` (HTTP Basic) gets what she asks for.
#![allow(dead_code)]

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub const SERVICE: &str = "test-registry";
pub const ISSUER: &str = "test-issuer";
pub const USER: &str = "alice";
pub const PASSWORD: &str = "s3cret";

/// Signs tokens: the key pair and its certificate.
pub struct Signer {
    key: ring::signature::EcdsaKeyPair,
    cert_der: Vec<u8>,
    pub cert_pem: String,
}

impl Signer {
    pub fn new() -> Signer {
        let key_pair = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["token.test".to_string()])
            .unwrap()
            .self_signed(&key_pair)
            .unwrap();
        let rng = ring::rand::SystemRandom::new();
        let key = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &key_pair.serialize_der(),
            &rng,
        )
        .unwrap();
        Signer {
            key,
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
        }
    }

    /// A JWT granting `actions` on repository `name` to `subject`.
    pub fn token(&self, subject: &str, access: &[(String, Vec<String>)]) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let header =
            json!({"typ": "JWT", "alg": "ES256", "x5c": [STANDARD.encode(&self.cert_der)]});
        let access: Vec<_> = access
            .iter()
            .map(|(name, actions)| json!({"type": "repository", "name": name, "actions": actions}))
            .collect();
        let claims = json!({
            "iss": ISSUER, "sub": subject, "aud": SERVICE,
            "exp": now + 600, "nbf": now - 10, "iat": now - 10,
            "jti": format!("{now}-{}", access.len()), "access": access,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = self
            .key
            .sign(&ring::rand::SystemRandom::new(), signing_input.as_bytes())
            .unwrap();
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }
}

/// The running token server; stops (its thread joins) on drop.
pub struct TokenServer {
    pub realm: String,
    pub signer: Arc<Signer>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TokenServer {
    pub fn start() -> TokenServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let signer = Arc::new(Signer::new());
        let stop = Arc::new(AtomicBool::new(false));
        let (s2, stop2) = (signer.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(conn) = conn {
                    serve(&s2, conn);
                }
            }
        });
        TokenServer {
            realm: format!("http://{addr}/token"),
            signer,
            stop,
            addr,
            thread: Some(thread),
        }
    }
}

impl TokenServer {
    /// What the registry needs to trust this server's tokens, and a
    /// minter of push tokens for the test's own uploads.
    pub fn auth(&self) -> compose_runtime::testing::TokenAuth {
        let signer = self.signer.clone();
        compose_runtime::testing::TokenAuth {
            realm: self.realm.clone(),
            service: SERVICE.to_string(),
            issuer: ISSUER.to_string(),
            cert_pem: self.signer.cert_pem.clone(),
            push_token: Arc::new(move |repo: &str| {
                let actions = vec!["pull".to_string(), "push".to_string()];
                signer.token("pusher", &[(repo.to_string(), actions)])
            }),
        }
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn serve(signer: &Signer, conn: TcpStream) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    let mut authorization = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("authorization") {
                authorization = Some(v.trim().to_string());
            }
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or_default();
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let authenticated = authorization.as_deref()
        == Some(&format!("Basic {}", STANDARD.encode(format!("{USER}:{PASSWORD}")))[..]);
    let mut access = Vec::new();
    for pair in query.split('&') {
        let Some(("scope", v)) = pair.split_once('=') else {
            continue;
        };
        let scope = percent_decode(v);
        let parts: Vec<&str> = scope.split(':').collect();
        if let [_, name, actions] = parts.as_slice() {
            let wanted: Vec<String> = actions.split(',').map(str::to_string).collect();
            let granted = if authenticated {
                wanted
            } else if name.starts_with("public/") {
                wanted.into_iter().filter(|a| a == "pull").collect()
            } else {
                Vec::new()
            };
            access.push((name.to_string(), granted));
        }
    }
    let subject = if authenticated { USER } else { "" };
    let token = signer.token(subject, &access);
    let body = json!({"token": token, "access_token": token}).to_string();
    let mut conn = conn;
    let _ = write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}
