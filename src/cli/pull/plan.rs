//! Which images `compose pull` pulls, decided from the canonical document
//! before anything touches the network: a pure function of the services,
//! their `pull_policy` and what the store already holds, so that it reads
//! (and is tested) as data.
//!
//! The rules are docker compose's (`pkg/compose/pull.go`, `shouldPullImage`
//! and `mustPull`; policies from compose-go `GetPullPolicy`):
//! - a service without `image` (one with `build:` only) has nothing to pull;
//! - no `pull_policy`, `always` and the refresh policies (`daily`,
//!   `weekly`, `every_<duration>`) pull;
//! - `never` and `build` skip;
//! - `missing` / `if_not_present` (and any other value) pull when the image
//!   is absent, and also when its tag is `latest`, which docker compose
//!   always re-pulls on an explicit `compose pull`;
//! - with `--ignore-buildable`, services that have `build:` skip;
//! - an image used by several services is pulled once.

use crate::loader::node::{Location, Node, NodePath};
use compose_runtime::image::reference::ReferenceError;
use compose_runtime::image::Reference;
use std::fmt;

/// A service's `pull_policy` (05-services.md, "pull_policy").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// No `pull_policy`: `compose pull` pulls.
    Unset,
    Always,
    Never,
    Build,
    /// `missing`, `if_not_present`, and values compose-go does not know.
    Missing,
    /// `daily`, `weekly`, `every_<duration>`.
    Refresh,
}

impl Policy {
    /// As compose-go reads it: unknown values mean `missing`.
    pub fn parse(s: &str) -> Policy {
        match s {
            "always" => Policy::Always,
            "never" => Policy::Never,
            "build" => Policy::Build,
            "daily" | "weekly" => Policy::Refresh,
            s if s.starts_with("every_") => Policy::Refresh,
            _ => Policy::Missing,
        }
    }
}

/// What the document says about one service's image.
#[derive(Debug, Clone)]
pub struct ServiceImage {
    pub service: String,
    pub image: Option<String>,
    pub policy: Policy,
    pub buildable: bool,
    /// The service's `platform`, if set.
    pub platform: Option<String>,
    /// Where `image` (else the service) is written, for errors.
    pub location: Location,
}

/// The services of `document` named in `only` (all when empty), in the
/// document's order; `policy` (the `--policy` flag) replaces the
/// `pull_policy` of every service that has an image.
pub fn service_images(
    document: &Node,
    only: &[String],
    policy: Option<Policy>,
) -> Vec<ServiceImage> {
    let Some(services) = document.get("services").and_then(Node::as_map) else {
        return Vec::new();
    };
    let text = |svc: &Node, key: &str| svc.get(key).and_then(Node::scalar_text);
    services
        .iter()
        .filter(|(name, _)| only.is_empty() || only.contains(name))
        .map(|(name, svc)| {
            let path = NodePath::root().key("services").key(name.as_str());
            let image = text(svc, "image");
            let span = svc
                .get("image")
                .and_then(|n| n.span.clone())
                .or_else(|| svc.span.clone());
            let written = text(svc, "pull_policy").map_or(Policy::Unset, |p| Policy::parse(&p));
            ServiceImage {
                service: name.clone(),
                policy: match (policy, &image) {
                    (Some(p), Some(_)) => p,
                    _ => written,
                },
                image,
                buildable: svc.get("build").is_some_and(|b| !b.is_null()),
                platform: text(svc, "platform"),
                location: Location::new(span, path.key("image")),
            }
        })
        .collect()
}

/// Why a service's image is not pulled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// No `image:` (the service is built).
    NoImage,
    /// `pull_policy: never` or `build`: docker compose says nothing.
    Policy,
    /// `missing` / `if_not_present` and the image is in the store.
    Present,
    /// `--ignore-buildable` and the service has `build:`.
    Buildable,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Skip::NoImage => "No image to be pulled",
            Skip::Policy => "pull_policy says not to pull",
            Skip::Present => "Image is already present locally",
            Skip::Buildable => "Image can be built",
        })
    }
}

/// One image to pull and the services that use it.
#[derive(Debug, Clone)]
pub struct Job {
    /// As written in the Compose file.
    pub image: String,
    pub reference: Reference,
    pub services: Vec<String>,
    /// Some service using it has `build:`: a failure then hints at `compose build`.
    pub buildable: bool,
    pub platform: Option<String>,
}

/// What `compose pull` will do.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub jobs: Vec<Job>,
    /// (service, why), in document order.
    pub skipped: Vec<(String, Skip)>,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for j in &self.jobs {
            writeln!(f, "pull {} for {}", j.image, j.services.join(", "))?;
        }
        for (service, why) in &self.skipped {
            writeln!(f, "skip {service}: {why}")?;
        }
        Ok(())
    }
}

/// An image reference in the Compose file that is not one
/// (`reason` is not a `source`: the message already says it, once.)
#[derive(Debug, thiserror::Error)]
#[error("{location}: service {service:?} has an invalid image reference: {reason}")]
pub struct PlanError {
    pub location: Location,
    pub service: String,
    pub reason: ReferenceError,
}

/// Decide, for each service, whether its image is pulled. `present` says
/// whether the store holds a reference.
pub fn plan(
    services: &[ServiceImage],
    ignore_buildable: bool,
    present: &dyn Fn(&Reference) -> bool,
) -> Result<Plan, Box<PlanError>> {
    let mut out = Plan::default();
    for s in services {
        let Some(image) = &s.image else {
            out.skipped.push((s.service.clone(), Skip::NoImage));
            continue;
        };
        let reference = Reference::parse(image).map_err(|reason| {
            Box::new(PlanError {
                location: s.location.clone(),
                service: s.service.clone(),
                reason,
            })
        })?;
        if let Some(why) = skip(s, &reference, ignore_buildable, present) {
            out.skipped.push((s.service.clone(), why));
            continue;
        }
        match out.jobs.iter_mut().find(|j| j.reference == reference) {
            Some(job) => {
                job.services.push(s.service.clone());
                job.buildable |= s.buildable;
            }
            None => out.jobs.push(Job {
                image: image.clone(),
                reference,
                services: vec![s.service.clone()],
                buildable: s.buildable,
                platform: s.platform.clone(),
            }),
        }
    }
    Ok(out)
}

fn skip(
    s: &ServiceImage,
    reference: &Reference,
    ignore_buildable: bool,
    present: &dyn Fn(&Reference) -> bool,
) -> Option<Skip> {
    let latest = reference.tag.as_deref() == Some("latest");
    let why = match s.policy {
        Policy::Unset | Policy::Always | Policy::Refresh => None,
        Policy::Never | Policy::Build => Some(Skip::Policy),
        Policy::Missing if latest || !present(reference) => None,
        Policy::Missing => Some(Skip::Present),
    };
    why.or((ignore_buildable && s.buildable).then_some(Skip::Buildable))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(yaml: &str) -> Node {
        let file: std::sync::Arc<std::path::Path> = std::path::Path::new("compose.yaml").into();
        crate::loader::yaml::parse_str(yaml, &file).unwrap()
    }

    fn planned(yaml: &str, only: &[&str], present: &[&str]) -> String {
        let only: Vec<String> = only.iter().map(|s| s.to_string()).collect();
        let services = service_images(&doc(yaml), &only, None);
        let present: Vec<Reference> = present
            .iter()
            .map(|p| Reference::parse(p).unwrap())
            .collect();
        plan(&services, false, &|r| present.contains(r))
            .unwrap()
            .to_string()
    }

    const PROJECT: &str = "\
services:
  web: {image: 'reg:5000/app:v1'}
  worker: {image: 'reg:5000/app:v1', build: .}
  db: {image: 'postgres:16', pull_policy: missing}
  cache: {image: redis, pull_policy: if_not_present}
  tool: {image: 'tool:1', pull_policy: never}
  built: {build: .}
  nightly: {image: 'n:1', pull_policy: daily}
";

    #[test]
    fn policies_decide_as_docker_compose_does() {
        assert_eq!(
            planned(PROJECT, &[], &["postgres:16", "redis"]),
            "pull reg:5000/app:v1 for web, worker\n\
             pull redis for cache\n\
             pull n:1 for nightly\n\
             skip db: Image is already present locally\n\
             skip tool: pull_policy says not to pull\n\
             skip built: No image to be pulled\n"
        );
        assert_eq!(
            planned(PROJECT, &["db", "tool"], &[]),
            "pull postgres:16 for db\nskip tool: pull_policy says not to pull\n"
        );
    }

    #[test]
    fn the_policy_flag_and_ignore_buildable_apply() {
        let services = service_images(&doc(PROJECT), &[], Some(Policy::Always));
        let p = plan(&services, true, &|_| true).unwrap().to_string();
        assert!(
            p.starts_with("pull reg:5000/app:v1 for web\npull postgres:16 for db\n"),
            "{p}"
        );
        assert!(p.contains("skip worker: Image can be built\n"), "{p}");
        assert!(p.contains("skip built: No image to be pulled\n"), "{p}");
        assert!(
            p.contains("pull tool:1 for tool\n"),
            "--policy overrides never: {p}"
        );
    }

    #[test]
    fn a_bad_reference_names_the_file_position_and_service() {
        let services = service_images(
            &doc("services:\n  web:\n    image: 'Bad Name'\n"),
            &[],
            None,
        );
        let e = plan(&services, false, &|_| false).unwrap_err().to_string();
        assert!(
            e.starts_with("compose.yaml:3:12: services.web.image: service \"web\""),
            "{e}"
        );
    }

    #[test]
    fn unknown_policies_read_as_missing() {
        assert_eq!(Policy::parse("refresh"), Policy::Missing);
        assert_eq!(Policy::parse("every_12h"), Policy::Refresh);
        assert_eq!(Policy::parse("build"), Policy::Build);
    }
}
