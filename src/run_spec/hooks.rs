//! A service's lifecycle hooks as the runtime runs them: `post_start` and
//! `pre_stop` exec'd in the container (with every capability when
//! `privileged`), `pre_start` as one-shot containers before it starts
//! (Compose spec, services `pre_start`).
//!
//! `pre_start` runs before each container of the service starts (once per
//! container, not again when the same container restarts). docker compose
//! runs it once per service with `per_replica: false`; with one replica,
//! the common case, both are the same.

use crate::model::hooks::ServiceHook;
use crate::model::types::MappingWithEquals;
use crate::model::ServiceConfig;
use compose_runtime::project::hooks::{Hook, Hooks};
use compose_runtime::project::pre_start::PreStartHook;

/// `project` names the default image of a service that only builds.
pub fn hooks(service: &ServiceConfig, project: &str) -> Hooks {
    Hooks {
        post_start: service.post_start.iter().map(exec_hook).collect(),
        pre_stop: service.pre_stop.iter().map(exec_hook).collect(),
        pre_start: service
            .pre_start
            .iter()
            .map(|h| pre_start_hook(service, project, h))
            .collect(),
    }
}

/// What `up` must have in the image store for `service`'s `pre_start`
/// hooks besides the service's own image: each other hook image, as a
/// service that only pulls, with the service's pull policy (`build` read
/// as `missing`: a hook image cannot be built), as docker compose's
/// `addPreStartHookPulls`; none with `pull_policy: never`.
pub fn hook_image_services(service: &ServiceConfig, project: &str) -> Vec<ServiceConfig> {
    let own = service.image_or_default(project);
    let policy = match service.pull_policy.as_str() {
        "never" => return Vec::new(),
        "build" => String::new(),
        p => p.to_string(),
    };
    let mut images: Vec<String> = service
        .pre_start
        .iter()
        .map(|h| h.image.clone())
        .filter(|i| !i.is_empty() && *i != own)
        .collect();
    images.sort();
    images.dedup();
    images
        .into_iter()
        .enumerate()
        .map(|(i, image)| ServiceConfig {
            name: format!("{} pre_start[{i}]", service.name),
            image,
            pull_policy: policy.clone(),
            ..Default::default()
        })
        .collect()
}

fn exec_hook(h: &ServiceHook) -> Hook {
    Hook {
        command: h.command.clone().unwrap_or_default(),
        user: h.user.clone(),
        working_dir: h.working_dir.clone(),
        environment: env_entries(h.environment.iter()),
        privileged: h.privileged,
    }
}

/// The hook container's settings. Its environment is the service's, then
/// the hook's (docker compose's `createPreStartContainer` appends the
/// hook's `environment` to the service's); the runtime lays them over the
/// hook image's own.
fn pre_start_hook(service: &ServiceConfig, project: &str, h: &ServiceHook) -> PreStartHook {
    let image = if h.image.is_empty() {
        // The loader gives every hook the service's `image`; a service
        // built without one runs its hooks from the image it builds.
        service.image_or_default(project)
    } else {
        h.image.clone()
    };
    PreStartHook {
        image,
        command: h.command.clone().unwrap_or_default(),
        user: h.user.clone(),
        working_dir: h.working_dir.clone(),
        environment: env_entries(service_then_hook(service, h).iter()),
        privileged: h.privileged,
    }
}

/// The service's environment with the hook's over it, key by key.
fn service_then_hook(service: &ServiceConfig, h: &ServiceHook) -> MappingWithEquals {
    let mut env = service.environment.clone();
    for (k, v) in &h.environment {
        env.insert(k.clone(), v.clone());
    }
    env
}

/// `KEY=value` entries; a key without a value (unset in the shell too) is
/// left out, as docker compose leaves it out of the container's `Env`.
fn env_entries<'a>(pairs: impl Iterator<Item = (&'a String, &'a Option<String>)>) -> Vec<String> {
    pairs
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(yaml_command: &[&str]) -> ServiceHook {
        ServiceHook {
            command: Some(yaml_command.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        }
    }

    #[test]
    fn pre_start_hooks_take_the_services_environment_then_their_own() {
        let mut service = ServiceConfig {
            name: "app".into(),
            image: "busybox".into(),
            ..Default::default()
        };
        service
            .environment
            .insert("A".into(), Some("service".into()));
        service.environment.insert("UNSET".into(), None);
        let mut h = hook(&["migrate"]);
        h.environment.insert("A".into(), Some("hook".into()));
        h.environment.insert("B".into(), Some("hook".into()));
        h.privileged = true;
        service.pre_start.push(h);
        let hooks = hooks(&service, "p");
        assert_eq!(
            hooks.pre_start,
            [PreStartHook {
                image: "busybox".into(),
                command: vec!["migrate".into()],
                environment: vec!["A=hook".into(), "B=hook".into()],
                privileged: true,
                ..Default::default()
            }]
        );
    }

    #[test]
    fn a_built_services_hook_runs_from_the_built_image() {
        let mut service = ServiceConfig {
            name: "app".into(),
            ..Default::default()
        };
        service.pre_start.push(hook(&["true"]));
        assert_eq!(hooks(&service, "p").pre_start[0].image, "p-app");
    }

    #[test]
    fn other_hook_images_are_pulled_with_the_services_policy() {
        let mut service = ServiceConfig {
            name: "app".into(),
            image: "app:1".into(),
            pull_policy: "build".into(),
            ..Default::default()
        };
        for image in ["app:1", "busybox", "busybox"] {
            service.pre_start.push(ServiceHook {
                image: image.into(),
                ..Default::default()
            });
        }
        let pulls = hook_image_services(&service, "p");
        assert_eq!(pulls.len(), 1);
        assert_eq!(
            (pulls[0].image.as_str(), pulls[0].pull_policy.as_str()),
            ("busybox", "")
        );
        assert!(pulls[0].build.is_none());
        service.pull_policy = "never".into();
        assert!(hook_image_services(&service, "p").is_empty());
    }

    #[test]
    fn privileged_exec_hooks_keep_the_flag() {
        let mut service = ServiceConfig::default();
        let mut h = hook(&["id"]);
        h.privileged = true;
        service.post_start.push(h);
        service.pre_stop.push(hook(&["true"]));
        let hooks = hooks(&service, "p");
        assert!(hooks.post_start[0].privileged);
        assert!(!hooks.pre_stop[0].privileged);
    }
}
