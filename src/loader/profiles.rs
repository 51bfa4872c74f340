//! Profiles (15-profiles.md): which services are active, and the services
//! named on the command line with what they depend on.
//!
//! As compose-go: a service without `profiles` is always active, one with
//! profiles only when one of them is enabled (`*` enables all); the enabled
//! profiles are `--profile`, else `COMPOSE_PROFILES`. A service named on the
//! command line enables its own profiles (`WithServicesEnabled`), and the
//! project is then restricted to the named services and their dependencies
//! (`WithSelectedServices`). Services that end up inactive are set aside, not
//! dropped: commands such as `compose config --profiles` still list them.

use super::environment::Environment;
use super::node::{Location, Mapping, Node, NodePath, Span, Value};
use std::collections::BTreeSet;

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{location}: service {service:?} depends on service {dependency:?}, which is not active: {}", enable_hint(.profiles))]
    DependsOnInactive {
        location: Location,
        service: String,
        dependency: String,
        /// The profiles of `dependency`, any of which would activate it.
        profiles: Vec<String>,
    },
    #[error("no such service: {name} ({})", known_services(.known))]
    NoSuchService { name: String, known: Vec<String> },
    #[error("{location}: service {service:?} depends on {dependency:?}, which is not defined")]
    UndefinedDependency {
        location: Location,
        service: String,
        dependency: String,
    },
}

fn known_services(known: &[String]) -> String {
    if known.is_empty() {
        "the project defines no services".into()
    } else {
        format!("the project defines: {}", known.join(", "))
    }
}

fn enable_hint(profiles: &[String]) -> String {
    let flags: Vec<String> = profiles.iter().map(|p| format!("--profile {p}")).collect();
    match flags.len() {
        0 => "it is disabled".into(),
        1 => format!("enable its profile with {}", flags[0]),
        _ => format!("enable one of its profiles ({})", flags.join(", ")),
    }
}

/// The services left out and the profiles in force after [`apply`].
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Enabled profiles: the requested ones plus those of named services.
    pub profiles: Vec<String>,
    /// Services not active, in the order they were defined.
    pub disabled: Mapping,
}

/// The profiles asked for: `--profile` flags, else the comma-separated
/// `COMPOSE_PROFILES` of the project environment (compose-go
/// `WithDefaultProfiles`).
pub fn requested(flags: &[String], env: &Environment) -> Vec<String> {
    if !flags.is_empty() {
        return flags.to_vec();
    }
    env.get("COMPOSE_PROFILES")
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Keep in `doc.services` only the active services (see the module doc).
pub fn apply(
    doc: &mut Node,
    requested: &[String],
    selected: &[String],
) -> Result<Selection, Box<ProfileError>> {
    let Some(services) = doc.get_mut("services").and_then(Node::as_map_mut) else {
        if let Some(name) = selected.first() {
            return Err(Box::new(ProfileError::NoSuchService {
                name: name.clone(),
                known: Vec::new(),
            }));
        }
        return Ok(Selection {
            profiles: requested.to_vec(),
            disabled: Mapping::new(),
        });
    };
    let mut profiles = requested.to_vec();
    check_dependencies(services, &active_names(services, &profiles))?;
    let mut keep = None;
    if !selected.is_empty() {
        enable_selected(services, selected, &mut profiles)?;
        let active = active_names(services, &profiles);
        let selection = with_dependencies(services, &active, selected)?;
        prune_dependencies(services, &selection);
        keep = Some(selection);
    }
    let active = active_names(services, &profiles);
    let disabled = split_off(services, |name| {
        active.contains(name) && keep.as_ref().is_none_or(|k| k.contains(name))
    });
    Ok(Selection { profiles, disabled })
}

/// The profiles a service lists.
fn service_profiles(service: &Node) -> Vec<String> {
    match service.get("profiles").map(|p| &p.value) {
        Some(Value::Seq(items)) => items.iter().filter_map(Node::scalar_text).collect(),
        Some(_) => service
            .get("profiles")
            .and_then(Node::scalar_text)
            .into_iter()
            .collect(),
        None => Vec::new(),
    }
}

/// compose-go `HasProfile`.
fn is_active(service: &Node, enabled: &[String]) -> bool {
    let own = service_profiles(service);
    own.is_empty() || enabled.iter().any(|p| p == "*" || own.contains(p))
}

fn active_names(services: &Mapping, enabled: &[String]) -> BTreeSet<String> {
    services
        .iter()
        .filter(|(_, s)| is_active(s, enabled))
        .map(|(n, _)| n.clone())
        .collect()
}

/// One `depends_on` entry, from the short (list) or long (mapping) form.
struct Dependency {
    name: String,
    required: bool,
    span: Option<Span>,
    path: NodePath,
}

fn dependencies(name: &str, service: &Node) -> Vec<Dependency> {
    let path = NodePath::root().key("services").key(name).key("depends_on");
    match service.get("depends_on").map(|d| &d.value) {
        Some(Value::Seq(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                Some(Dependency {
                    name: item.scalar_text()?,
                    required: true,
                    span: item.span.clone(),
                    path: path.index(i),
                })
            })
            .collect(),
        Some(Value::Map(m)) => m
            .iter()
            .map(|(dep, spec)| Dependency {
                name: dep.clone(),
                required: spec.get("required").is_none_or(is_true),
                span: spec.span.clone(),
                path: path.key(dep.as_str()),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn is_true(node: &Node) -> bool {
    match &node.value {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => true,
    }
}

/// A required dependency of an active service must be active too.
fn check_dependencies(
    services: &Mapping,
    active: &BTreeSet<String>,
) -> Result<(), Box<ProfileError>> {
    for name in active {
        for dep in dependencies(name, &services[name]) {
            if !dep.required || active.contains(&dep.name) {
                continue;
            }
            if let Some(target) = services.get(&dep.name) {
                return Err(inactive(name, dep, target));
            }
        }
    }
    Ok(())
}

fn inactive(service: &str, dep: Dependency, target: &Node) -> Box<ProfileError> {
    Box::new(ProfileError::DependsOnInactive {
        location: Location::new(dep.span, dep.path),
        service: service.to_string(),
        dependency: dep.name,
        profiles: service_profiles(target),
    })
}

/// Enable the profiles of the named services (compose-go
/// `WithServicesEnabled`); a name may be a glob (`web*`).
fn enable_selected(
    services: &Mapping,
    selected: &[String],
    profiles: &mut Vec<String>,
) -> Result<(), Box<ProfileError>> {
    for pattern in selected {
        let matched: Vec<&Node> = services
            .iter()
            .filter(|(n, _)| glob_match(pattern, n))
            .map(|(_, s)| s)
            .collect();
        if matched.is_empty() {
            return Err(Box::new(ProfileError::NoSuchService {
                name: pattern.clone(),
                known: services.keys().cloned().collect(),
            }));
        }
        for service in matched {
            if !is_active(service, profiles) {
                for p in service_profiles(service) {
                    if !profiles.contains(&p) {
                        profiles.push(p);
                    }
                }
            }
        }
    }
    Ok(())
}

/// The named services and, transitively, what they depend on (compose-go
/// `WithSelectedServices` with its default `IncludeDependencies`).
fn with_dependencies(
    services: &Mapping,
    active: &BTreeSet<String>,
    selected: &[String],
) -> Result<BTreeSet<String>, Box<ProfileError>> {
    let mut keep = BTreeSet::new();
    let mut todo: Vec<String> = active
        .iter()
        .filter(|n| selected.iter().any(|p| glob_match(p, n)))
        .cloned()
        .collect();
    while let Some(name) = todo.pop() {
        if !keep.insert(name.clone()) {
            continue;
        }
        for dep in dependencies(&name, &services[&name]) {
            if active.contains(&dep.name) {
                todo.push(dep.name);
            } else if !dep.required {
                continue;
            } else if let Some(target) = services.get(&dep.name) {
                return Err(inactive(&name, dep, target));
            } else {
                return Err(Box::new(ProfileError::UndefinedDependency {
                    location: Location::new(dep.span, dep.path),
                    service: name,
                    dependency: dep.name,
                }));
            }
        }
    }
    Ok(keep)
}

/// Drop the `depends_on` entries of the kept services that point to services
/// left out (compose-go `WithServicesDisabled`).
fn prune_dependencies(services: &mut Mapping, keep: &BTreeSet<String>) {
    for (_, service) in services.iter_mut().filter(|(n, _)| keep.contains(*n)) {
        match service.get_mut("depends_on").map(|d| &mut d.value) {
            Some(Value::Map(m)) => m.retain(|dep, _| keep.contains(dep)),
            Some(Value::Seq(items)) => {
                items.retain(|i| i.scalar_text().is_some_and(|d| keep.contains(&d)))
            }
            _ => {}
        }
    }
}

/// Move the services for which `stays` is false out of `services`, keeping
/// the definition order of both parts.
fn split_off(services: &mut Mapping, stays: impl Fn(&str) -> bool) -> Mapping {
    let all = std::mem::take(services);
    let mut disabled = Mapping::new();
    for (name, service) in all {
        if stays(&name) {
            services.insert(name, service);
        } else {
            disabled.insert(name, service);
        }
    }
    disabled
}

/// Shell-style glob with `*` and `?`, as `filepath.Match` for service names.
fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::environment::Origin;
    use crate::loader::yaml;
    use std::path::Path;
    use std::sync::Arc;

    /// The 15-profiles.md example.
    const SPEC: &str = "services:
  foo: {image: foo}
  bar: {image: bar, profiles: [test]}
  baz:
    image: baz
    depends_on: [bar]
    profiles: [test]
  zot:
    image: zot
    depends_on:
      - bar
    profiles: [debug]
";

    fn run(
        profiles: &[&str],
        selected: &[&str],
    ) -> Result<(Vec<String>, Selection), Box<ProfileError>> {
        let mut doc = yaml::parse_str(SPEC, &Arc::from(Path::new("compose.yaml"))).unwrap();
        let p: Vec<String> = profiles.iter().map(|s| s.to_string()).collect();
        let s: Vec<String> = selected.iter().map(|s| s.to_string()).collect();
        let sel = apply(&mut doc, &p, &s)?;
        let names = doc
            .get("services")
            .unwrap()
            .as_map()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        Ok((names, sel))
    }

    #[test]
    fn no_profile_enables_only_services_without_profiles() {
        let (active, sel) = run(&[], &[]).unwrap();
        assert_eq!(active, ["foo"]);
        assert_eq!(
            sel.disabled.keys().collect::<Vec<_>>(),
            ["bar", "baz", "zot"]
        );
    }

    #[test]
    fn a_profile_enables_its_services() {
        let (active, sel) = run(&["test"], &[]).unwrap();
        assert_eq!(active, ["foo", "bar", "baz"]);
        assert_eq!(sel.profiles, ["test"]);
    }

    #[test]
    fn star_enables_everything() {
        let (active, _) = run(&["*"], &[]).unwrap();
        assert_eq!(active, ["foo", "bar", "baz", "zot"]);
    }

    #[test]
    fn dependency_on_a_disabled_service_names_both_and_the_profile() {
        let err = run(&["debug"], &[]).unwrap_err().to_string();
        assert!(err.starts_with("compose.yaml:11:"), "{err}");
        assert!(
            err.contains("services.zot.depends_on[0]: service \"zot\" depends on service \"bar\", which is not active: enable its profile with --profile test"),
            "{err}"
        );
    }

    #[test]
    fn naming_a_service_enables_its_profiles_and_dependencies() {
        let (active, sel) = run(&[], &["baz"]).unwrap();
        assert_eq!(active, ["bar", "baz"]);
        assert_eq!(sel.profiles, ["test"]);
        assert!(sel.disabled.contains_key("foo"));
    }

    #[test]
    fn naming_a_service_whose_dependency_stays_disabled_fails() {
        let err = run(&[], &["zot"]).unwrap_err().to_string();
        assert!(err.starts_with("compose.yaml:11:"), "{err}");
        assert!(err.contains("\"zot\" depends on service \"bar\""), "{err}");
        let (active, sel) = run(&["test"], &["zot"]).unwrap();
        assert_eq!(active, ["bar", "zot"]);
        assert_eq!(sel.profiles, ["test", "debug"]);
    }

    #[test]
    fn selection_drops_dependencies_on_services_left_out() {
        let text = "services:\n  a: {image: a, depends_on: {b: {condition: service_started, required: false}}}\n  b: {image: b, profiles: [x]}\n";
        let mut doc = yaml::parse_str(text, &Arc::from(Path::new("c.yaml"))).unwrap();
        apply(&mut doc, &[], &["a".to_string()]).unwrap();
        let a = doc.get("services").and_then(|s| s.get("a")).unwrap();
        assert_eq!(a.get("depends_on").unwrap().as_map().unwrap().len(), 0);
    }

    #[test]
    fn unknown_selected_service_is_reported_with_the_known_ones() {
        let err = run(&[], &["nope"]).unwrap_err().to_string();
        assert_eq!(
            err,
            "no such service: nope (the project defines: foo, bar, baz, zot)"
        );
    }

    #[test]
    fn selecting_in_a_project_without_services_fails() {
        let mut doc =
            yaml::parse_str("networks: {n: {}}\n", &Arc::from(Path::new("c.yaml"))).unwrap();
        let err = apply(&mut doc, &[], &["web".to_string()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no such service: web (the project defines no services)"
        );
    }

    #[test]
    fn selected_names_may_be_globs() {
        let (active, _) = run(&["*"], &["ba?"]).unwrap();
        assert_eq!(active, ["bar", "baz"]);
    }

    #[test]
    fn compose_profiles_is_used_without_flags() {
        let mut env = Environment::new();
        env.set("COMPOSE_PROFILES", "a, b,", Origin::Shell);
        assert_eq!(requested(&[], &env), ["a", "b"]);
        assert_eq!(requested(&["c".to_string()], &env), ["c"]);
    }
}
