//! The service configuration hash docker compose stores on each container
//! (`com.docker.compose.config-hash`) and prints with `config --hash`: the
//! SHA-256 of the service's compact `encoding/json` form, with the fields
//! that do not affect a running container cleared first (docker compose's
//! `ServiceHash`: build, pull_policy, scale, deploy.replicas, depends_on,
//! profiles).

use super::emit::{self, Format};
use super::{ModelError, ServiceConfig};
use sha2::{Digest, Sha256};

/// The hex config hash of a service.
pub fn service_hash(service: &ServiceConfig) -> Result<String, ModelError> {
    let json = hashed_json(service)?;
    let digest = Sha256::digest(json.as_bytes());
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// The configuration the hash is taken of, as a JSON value: what the
/// runtime stores beside each container so that a later `up` can say which
/// fields changed ("config changed: environment.DB_HOST"), not only that
/// the hash differs.
pub fn hashed_config(service: &ServiceConfig) -> Result<serde_json::Value, ModelError> {
    let json = hashed_json(service)?;
    Ok(serde_json::from_str(&json).expect("our own JSON printer emits valid JSON"))
}

fn hashed_json(service: &ServiceConfig) -> Result<String, ModelError> {
    let mut s = service.clone();
    s.build = None;
    s.pull_policy.clear();
    s.scale = None;
    if let Some(d) = s.deploy.as_mut() {
        d.replicas = None;
    }
    s.depends_on.clear();
    s.profiles.clear();
    Ok(emit::to_json_compact(&emit::to_emit(&s, Format::Json)?))
}
