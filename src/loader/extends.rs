//! `extends` (05-services.md "extends"): a service built on another one, in
//! the same file or in another file, any number of levels deep.
//!
//! As compose-go `ApplyExtends`: the extending service is merged over (a copy
//! of) the service it extends, with the merge rules of 13-merge.md, and its
//! `extends` removed. `file` is relative to the project directory of the
//! document being loaded; the services of that file have their relative
//! paths re-based on its directory first, and their own `extends` resolved
//! against it. A chain that comes back to a service is an error naming the
//! chain in full.

use super::discover::ConfigFile;
use super::merge;
use super::node::{Location, Mapping, Node, NodePath, Span};
use super::pipeline::{self, Context};
use super::{LoadError, Warning};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ExtendsError {
    #[error("{location}: service {service:?} extends {wanted:?}, but {} defines no such service{}", .file.display(), known(.available))]
    UnknownService {
        location: Location,
        service: String,
        wanted: String,
        file: PathBuf,
        available: Vec<String>,
    },
    #[error("{location}: circular `extends`: {chain}")]
    Cycle { location: Location, chain: Chain },
    #[error("{location}: `extends` needs the name of the service to extend: `extends: NAME` or `extends: {{service: NAME, file: PATH}}`")]
    MissingService { location: Location },
    #[error("{location}: `extends` must be a service name or a mapping with `service` and `file`, found {found}")]
    Invalid {
        location: Location,
        found: &'static str,
    },
    #[error("{location}: cannot read {} (`extends.file`): {source}", .path.display())]
    Read {
        location: Location,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{location}: a service must be a mapping, found {found}")]
    NotAMapping {
        location: Location,
        found: &'static str,
    },
}

fn known(available: &[String]) -> String {
    if available.is_empty() {
        " (it defines no services at all)".into()
    } else {
        format!(" (it defines: {})", available.join(", "))
    }
}

/// A path of `extends` links, shown as `a (compose.yaml) extends b
/// (base.yaml) extends a (compose.yaml)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain(pub Vec<(PathBuf, String)>);

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (file, service)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" extends ")?;
            }
            write!(f, "{service} ({})", file.display())?;
        }
        Ok(())
    }
}

/// Resolve the `extends` of every service of `doc`, read from `file`.
pub fn apply(
    ctx: &Context,
    file: &Arc<Path>,
    doc: &mut Node,
    warnings: &mut Vec<Warning>,
) -> Result<(), LoadError> {
    let Some(services) = doc.get_mut("services").and_then(Node::as_map_mut) else {
        return Ok(());
    };
    let mut resolver = Resolver {
        ctx,
        warnings,
        files: HashMap::new(),
    };
    // The file's identity in cycles, as other files are named: canonical.
    let file = canonical(&ctx.opts.working_dir.join(file));
    let names: Vec<String> = services.keys().cloned().collect();
    for name in names {
        let mut chain = Vec::new();
        resolver.resolve(&file, &ctx.working_dir, services, &name, &mut chain, None)?;
    }
    Ok(())
}

/// What an `extends` asks for.
struct Reference {
    service: String,
    file: Option<String>,
    location: Location,
}

/// The other files' services, loaded once each.
struct Resolver<'c, 'w> {
    ctx: &'c Context<'c>,
    warnings: &'w mut Vec<Warning>,
    files: HashMap<PathBuf, Mapping>,
}

impl Resolver<'_, '_> {
    /// The service `name` of `services` (read from `file`, whose relative
    /// `extends.file` start at `dir`) with its `extends` applied; the result
    /// replaces the definition so that each service is resolved once. `via`
    /// is the `extends` that led here, where a cycle is reported.
    fn resolve(
        &mut self,
        file: &Path,
        dir: &Path,
        services: &mut Mapping,
        name: &str,
        chain: &mut Vec<(PathBuf, String)>,
        via: Option<&Location>,
    ) -> Result<Node, LoadError> {
        let service = services[name].clone();
        let path = NodePath::root().key("services").key(name);
        let Some(extends) = service.get("extends") else {
            return Ok(service);
        };
        let reference = parse_reference(extends, &path.key("extends"))?;
        let link = (file.to_path_buf(), name.to_string());
        if let Some(start) = chain.iter().position(|l| *l == link) {
            let mut cycle = chain[start..].to_vec();
            cycle.push(link);
            return Err(ExtendsError::Cycle {
                location: via.cloned().unwrap_or(reference.location),
                chain: Chain(cycle),
            }
            .into());
        }
        chain.push(link);
        let base = self.base(file, dir, services, name, &reference, chain)?;
        chain.pop();
        let merged = extend(base, service, name, &path)?;
        services.insert(name.to_string(), merged.clone());
        Ok(merged)
    }

    /// The resolved service `reference` points at.
    fn base(
        &mut self,
        file: &Path,
        dir: &Path,
        services: &mut Mapping,
        name: &str,
        reference: &Reference,
        chain: &mut Vec<(PathBuf, String)>,
    ) -> Result<Node, LoadError> {
        let Some(other) = &reference.file else {
            check_defined(services, file, name, reference)?;
            let via = Some(&reference.location);
            return self.resolve(file, dir, services, &reference.service, chain, via);
        };
        let other = canonical(&dir.join(other));
        let mut their = self.services_of(&other, &reference.location)?;
        let found = check_defined(&their, &other, name, reference).map_err(LoadError::from);
        let result = found.and_then(|()| {
            let their_dir = other.parent().unwrap_or(Path::new("/")).to_path_buf();
            let via = Some(&reference.location);
            self.resolve(
                &other,
                &their_dir,
                &mut their,
                &reference.service,
                chain,
                via,
            )
        });
        self.files.insert(other, their);
        result
    }

    /// The services of another file, loaded on first use. The caller puts
    /// them back in the cache once it is done resolving in them.
    fn services_of(&mut self, path: &Path, location: &Location) -> Result<Mapping, LoadError> {
        if let Some(services) = self.files.remove(path) {
            return Ok(services);
        }
        let config: ConfigFile =
            pipeline::read_config_file(path).map_err(|source| ExtendsError::Read {
                location: location.clone(),
                path: path.to_path_buf(),
                source,
            })?;
        let doc = pipeline::load_extended_file(self.ctx, &config, self.warnings)?;
        Ok(doc
            .get("services")
            .and_then(Node::as_map)
            .cloned()
            .unwrap_or_default())
    }
}

/// Paths compared for cycles: the same file reached two ways is one file.
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn check_defined(
    services: &Mapping,
    file: &Path,
    name: &str,
    reference: &Reference,
) -> Result<(), Box<ExtendsError>> {
    if services.contains_key(&reference.service) {
        return Ok(());
    }
    Err(Box::new(ExtendsError::UnknownService {
        location: reference.location.clone(),
        service: name.to_string(),
        wanted: reference.service.clone(),
        file: file.to_path_buf(),
        available: services.keys().cloned().collect(),
    }))
}

/// `extends: NAME` or `extends: {service: NAME, file: PATH}`.
fn parse_reference(extends: &Node, path: &NodePath) -> Result<Reference, Box<ExtendsError>> {
    let location = Location::new(extends.span.clone(), path.clone());
    if let Some(service) = extends.as_str() {
        return Ok(Reference {
            service: service.to_string(),
            file: None,
            location,
        });
    }
    if extends.as_map().is_none() {
        return Err(Box::new(ExtendsError::Invalid {
            location,
            found: extends.kind_name(),
        }));
    }
    let service = extends
        .get("service")
        .and_then(Node::as_str)
        .ok_or_else(|| {
            Box::new(ExtendsError::MissingService {
                location: location.clone(),
            })
        })?;
    Ok(Reference {
        service: service.to_string(),
        file: extends
            .get("file")
            .and_then(Node::as_str)
            .map(str::to_string),
        location,
    })
}

/// The extending `service` merged over its `base`, without `extends`.
fn extend(base: Node, service: Node, name: &str, path: &NodePath) -> Result<Node, LoadError> {
    let span: Option<Span> = service.span.clone();
    let mut service = service;
    match service.as_map_mut() {
        Some(m) => {
            m.shift_remove("extends");
        }
        None => {
            return Err(ExtendsError::NotAMapping {
                location: Location::new(span, path.clone()),
                found: service.kind_name(),
            }
            .into())
        }
    }
    // compose-go: extending a service left empty (`base:`) changes nothing.
    if base.is_null() {
        return Ok(service);
    }
    if base.as_map().is_none() {
        return Err(ExtendsError::NotAMapping {
            location: Location::new(base.span.clone(), path.clone()),
            found: base.kind_name(),
        }
        .into());
    }
    let mut merged = merge::merge_resource("services", name, base, service)?;
    // The merged service is where the extending service was written.
    merged.span = span;
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::yaml;

    fn node(text: &str) -> Node {
        yaml::parse_str(text, &Arc::from(Path::new("c.yaml"))).unwrap()
    }

    #[test]
    fn chain_reads_as_a_sentence() {
        let chain = Chain(vec![
            (PathBuf::from("a.yaml"), "web".into()),
            (PathBuf::from("b.yaml"), "base".into()),
            (PathBuf::from("a.yaml"), "web".into()),
        ]);
        assert_eq!(
            chain.to_string(),
            "web (a.yaml) extends base (b.yaml) extends web (a.yaml)"
        );
    }

    #[test]
    fn both_forms_of_reference() {
        let path = NodePath::root().key("services").key("w").key("extends");
        let short = parse_reference(&node("base"), &path).unwrap();
        assert_eq!((short.service.as_str(), short.file), ("base", None));
        let long = parse_reference(&node("{service: b, file: x.yaml}"), &path).unwrap();
        assert_eq!(
            (long.service.as_str(), long.file.as_deref()),
            ("b", Some("x.yaml"))
        );
    }

    #[test]
    fn malformed_references_name_the_place() {
        let path = NodePath::root().key("services").key("w").key("extends");
        let err = parse_reference(&node("\n\nfile: x.yaml\n"), &path)
            .err()
            .unwrap()
            .to_string();
        assert!(err.starts_with("c.yaml:3:"), "{err}");
        assert!(
            err.contains("services.w.extends: `extends` needs the name"),
            "{err}"
        );
        let err = parse_reference(&node("[a]"), &path)
            .err()
            .unwrap()
            .to_string();
        assert!(err.starts_with("c.yaml:1:"), "{err}");
        assert!(err.contains("found a list"), "{err}");
    }

    #[test]
    fn extending_an_empty_service_keeps_the_service() {
        let path = NodePath::root().key("services").key("w");
        let service = node("{extends: base, image: x}");
        let out = extend(Node::null(), service, "w", &path).unwrap();
        assert_eq!(out.to_json(), serde_json::json!({"image": "x"}));
    }

    #[test]
    fn a_service_that_is_not_a_mapping_is_reported() {
        let path = NodePath::root().key("services").key("w");
        let err = extend(node("[a]"), node("{extends: base}"), "w", &path).unwrap_err();
        assert!(err.to_string().starts_with("c.yaml:1:"), "{err}");
        assert!(
            err.to_string()
                .contains("services.w: a service must be a mapping, found a list"),
            "{err}"
        );
    }
}
