//! The workload process: argv from the image's ENTRYPOINT/CMD and the
//! service's `entrypoint`/`command`, then env, working dir and user — the
//! Docker engine's rule for merging a container's config over its image's
//! (`daemon/create.go` `merge`).

use crate::model::ServiceConfig;
use compose_runtime::container::spec::{ProcessSpec, Rlimit, DEFAULT_PATH};
use compose_runtime::image::oci::ImageConfig;

/// argv = entrypoint + cmd, where:
/// - a non-empty `entrypoint` replaces the image's and drops the image's
///   CMD (only `command` follows it);
/// - `entrypoint: []` clears the image's entrypoint, CMD still applies;
/// - an empty or unset `command` falls back to the image's CMD.
pub fn args(service: &ServiceConfig, image: &ImageConfig) -> Vec<String> {
    let image_entrypoint = image.config.entrypoint.clone().unwrap_or_default();
    let image_cmd = image.config.cmd.clone().unwrap_or_default();
    let command = service.command.clone().unwrap_or_default();
    let (entrypoint, cmd) = match &service.entrypoint {
        Some(ep) if !ep.is_empty() => (ep.clone(), command),
        Some(_) => (Vec::new(), or_else(command, image_cmd)),
        None => (image_entrypoint, or_else(command, image_cmd)),
    };
    entrypoint.into_iter().chain(cmd).collect()
}

fn or_else(a: Vec<String>, b: Vec<String>) -> Vec<String> {
    if a.is_empty() {
        b
    } else {
        a
    }
}

/// Env, working dir, user, groups, tty and ulimits.
pub fn apply(service: &ServiceConfig, image: &ImageConfig, process: &mut ProcessSpec) {
    process.env = env(service, image);
    process.cwd = first_set(&service.working_dir, image.config.working_dir.as_deref())
        .unwrap_or_else(|| "/".to_string());
    process.user = first_set(&service.user, image.config.user.as_deref()).unwrap_or_default();
    process.additional_groups = service.group_add.clone();
    process.tty = service.tty;
    process.rlimits = service
        .ulimits
        .iter()
        .map(|(name, limit)| rlimit(name, limit))
        .collect();
}

fn first_set(service: &str, image: Option<&str>) -> Option<String> {
    if !service.is_empty() {
        return Some(service.to_string());
    }
    image.filter(|s| !s.is_empty()).map(str::to_string)
}

/// The image's `Env`, each key overridden in place by `environment`, new
/// keys appended in order; a key without a value (not set in the shell
/// either) is left out, as docker compose does. PATH defaults to Docker's.
fn env(service: &ServiceConfig, image: &ImageConfig) -> Vec<String> {
    let mut env: Vec<String> = image.config.env.clone();
    for (key, value) in &service.environment {
        let Some(value) = value else { continue };
        let entry = format!("{key}={value}");
        let prefix = format!("{key}=");
        match env.iter_mut().find(|e| e.starts_with(&prefix) || *e == key) {
            Some(slot) => *slot = entry,
            None => env.push(entry),
        }
    }
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.insert(0, format!("PATH={DEFAULT_PATH}"));
    }
    env
}

/// A `ulimits` entry; a negative value (-1) means unlimited, as Docker.
fn rlimit(name: &str, limit: &crate::model::types::Ulimit) -> Rlimit {
    use crate::model::types::Ulimit;
    let value = |v: i64| if v < 0 { u64::MAX } else { v as u64 };
    let (soft, hard) = match limit {
        Ulimit::Single(v) => (value(*v), value(*v)),
        Ulimit::Range { soft, hard } => (value(*soft), value(*hard)),
    };
    Rlimit {
        name: name.to_string(),
        soft,
        hard,
    }
}
