//! The loading stages, in compose-go's order (`loadYamlModel`,
//! `loadYamlFile`): for each file and each YAML document in it, interpolate,
//! apply `include`, apply `extends`, merge over the documents before it,
//! enforce unicity, validate against the schema, rewrite into canonical form,
//! omit empty values and enforce unicity again; after the last file, resolve
//! relative paths. [`super::load`] runs the project-wide stages after that.
//!
//! `include` loads each included project through [`load_model`] again, with
//! its own directory and environment; `extends` loads another file through
//! [`load_extended_file`], which skips the stages compose-go skips there.

use super::discover::ConfigFile;
use super::environment::Environment;
use super::node::{Location, Mapping, Node, NodePath, Value};
use super::{canonical, extends, include, interpolate, merge, paths, schema, yaml};
use super::{LoadError, Options, Warning};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Which per-document stages run (compose-go turns some off when it loads
/// an extended file).
#[derive(Debug, Clone, Copy)]
pub struct Stages {
    pub include: bool,
    pub extends: bool,
    pub validate: bool,
}

impl Stages {
    pub const ALL: Stages = Stages {
        include: true,
        extends: true,
        validate: true,
    };
    /// An extended file: only its raw services are wanted; the extending
    /// document is validated once merged (compose-go `getExtendsBaseFromFile`).
    pub const EXTENDED_FILE: Stages = Stages {
        include: false,
        extends: false,
        validate: false,
    };
}

/// What one (sub)project is loaded with.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub opts: &'a Options,
    /// Variables for interpolation: the project's, or an included project's.
    pub environment: Environment,
    /// The directory relative paths start from.
    pub working_dir: PathBuf,
    pub stages: Stages,
    /// The Compose files whose `include` led here, outermost first.
    pub include_chain: Vec<PathBuf>,
}

impl Context<'_> {
    /// The home directory `~` stands for, from the loader's environment.
    pub fn home(&self) -> Option<PathBuf> {
        self.environment
            .get("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
    }
}

/// One (sub)project's files into one document (compose-go `loadYamlModel`).
pub fn load_model(
    ctx: &Context,
    files: &[ConfigFile],
    warnings: &mut Vec<Warning>,
) -> Result<Node, LoadError> {
    let mut dict = Node::map(Mapping::new());
    for file in files {
        dict = load_file(ctx, file, dict, warnings)?;
    }
    // compose-go `SetDefaultValues`, before relative paths are resolved so
    // that the default context is the project directory.
    default_build_context(&mut dict);
    resolve_paths(ctx, &mut dict, &ctx.working_dir)?;
    if !ctx.include_chain.is_empty() {
        resolve_bare_environment(&mut dict, &ctx.environment);
    }
    Ok(dict)
}

/// compose-go `ResolveEnvironment`, for an included project: a bare `KEY`
/// in a service's `environment` list takes its value from the included
/// project's environment (with its own env files), which the including
/// project does not see. The main project's bare keys are left to the
/// service-environment stage, which records where each value came from.
fn resolve_bare_environment(dict: &mut Node, env: &Environment) {
    let Some(services) = dict.get_mut("services").and_then(Node::as_map_mut) else {
        return;
    };
    for service in services.values_mut() {
        match service.get_mut("environment").map(|e| &mut e.value) {
            // The canonical form: a mapping whose bare keys are null.
            Some(Value::Map(entries)) => {
                for (key, entry) in entries.iter_mut() {
                    if let (true, Some(value)) = (entry.is_null(), env.get(key)) {
                        entry.value = Value::String(value.to_string());
                    }
                }
            }
            Some(Value::Seq(entries)) => {
                for entry in entries {
                    let Some(key) = entry.as_str().filter(|k| !k.contains('=')) else {
                        continue;
                    };
                    if let Some(value) = env.get(key) {
                        entry.value = Value::String(format!("{key}={value}"));
                    }
                }
            }
            _ => {}
        }
    }
}

/// A `build` mapping without `context` builds the project directory
/// (compose-go `defaultBuildContext`).
fn default_build_context(dict: &mut Node) {
    let Some(services) = dict.get_mut("services").and_then(Node::as_map_mut) else {
        return;
    };
    for service in services.values_mut() {
        if let Some(build) = service.get_mut("build").and_then(Node::as_map_mut) {
            build
                .entry("context".to_string())
                .or_insert_with(|| Node::string("."));
        }
    }
}

/// compose-go `ResolveEnvironment` (run by `loadYamlModel` whatever the
/// options): a bare `KEY` item of an `environment` *list* becomes
/// `KEY=value` when the project environment (shell, then `.env`) sets it, so
/// that `config --no-env-resolution` still shows it resolved. The mapping
/// form (`KEY:` with no value) is left to the service-environment stage.
fn fill_listed_environment(doc: &mut Node, env: &Environment) {
    let Some(services) = doc.get_mut("services").and_then(Node::as_map_mut) else {
        return;
    };
    for service in services.values_mut() {
        let Some(entries) = service.get_mut("environment").and_then(Node::as_seq_mut) else {
            continue;
        };
        for entry in entries {
            let Some(key) = entry.as_str().filter(|k| !k.contains('=')) else {
                continue;
            };
            if let Some(value) = env.get(key) {
                entry.value = Value::String(format!("{key}={value}"));
            }
        }
    }
}

/// Every document of one file, merged in turn over `dict`.
pub fn load_file(
    ctx: &Context,
    file: &ConfigFile,
    mut dict: Node,
    warnings: &mut Vec<Warning>,
) -> Result<Node, LoadError> {
    for doc in yaml::parse_documents(&file.content, &file.path)? {
        // An empty document (`---` alone) defines nothing.
        if doc.is_null() {
            continue;
        }
        dict = load_document(ctx, &file.path, dict, doc, warnings)?;
    }
    Ok(dict)
}

/// compose-go `processRawYaml`: one document through the per-document stages.
fn load_document(
    ctx: &Context,
    file: &Arc<Path>,
    dict: Node,
    doc: Node,
    warnings: &mut Vec<Warning>,
) -> Result<Node, LoadError> {
    let mut doc = top_level_mapping(doc)?;
    if ctx.opts.interpolate {
        interpolate::interpolate(&mut doc, &ctx.environment, warnings)?;
    }
    if !ctx.opts.keep_bare_environment {
        fill_listed_environment(&mut doc, &ctx.environment);
    }
    // compose-go's `fixEmptyNotNull` is not needed: `[]` reads as an empty
    // list here, never as null.
    if ctx.stages.include {
        include::apply(ctx, file, &mut doc, warnings)?;
    }
    if ctx.stages.extends {
        extends::apply(ctx, file, &mut doc, warnings)?;
    }
    let mut dict = if !ctx.stages.extends && dict.as_map().is_some_and(|m| m.is_empty()) {
        // A file read for `extends` keeps its `!reset`/`!override` tags: its
        // services are merged raw by the extends stage, which must still
        // honour them (compose-go passes the file's reset processor along,
        // `applyServiceExtends`), e.g. `command: !reset` on a service that
        // itself extends another of that file.
        doc
    } else {
        merge::merge(dict, doc)?
    };
    merge::enforce_unicity(&mut dict)?;
    if ctx.stages.validate {
        schema::validate(&dict)?;
        drop_obsolete_version(&mut dict, warnings);
    }
    if ctx.opts.interpolate {
        canonical::canonical(&mut dict, warnings)?;
    } else {
        // compose-go `Canonical(dict, ignoreParseError = SkipInterpolation)`.
        canonical::canonical_lenient(&mut dict, warnings)?;
    }
    omit_empty(&mut dict);
    // The canonical form can reveal duplicates (a port range written over a
    // single port), so unicity is enforced again (compose-go does the same).
    merge::enforce_unicity(&mut dict)?;
    Ok(dict)
}

fn top_level_mapping(doc: Node) -> Result<Node, LoadError> {
    if doc.as_map().is_none() {
        return Err(LoadError::NotAMapping {
            file: Location::new(doc.span.clone(), NodePath::root()),
            found: doc.kind_name(),
        });
    }
    Ok(doc)
}

/// `version` is accepted and ignored, with compose-go's warning.
fn drop_obsolete_version(dict: &mut Node, warnings: &mut Vec<Warning>) {
    let Some(version) = dict.as_map_mut().and_then(|m| m.shift_remove("version")) else {
        return;
    };
    warnings.push(Warning {
        location: Some(Location::new(version.span, NodePath::root().key("version"))),
        message: "the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion".into(),
    });
}

/// compose-go `OmitEmpty`: empty `dns` entries mean nothing.
fn omit_empty(dict: &mut Node) {
    let Some(services) = dict.get_mut("services").and_then(Node::as_map_mut) else {
        return;
    };
    for service in services.values_mut() {
        if let Some(dns) = service.get_mut("dns").and_then(Node::as_seq_mut) {
            dns.retain(|d| !matches!(&d.value, Value::Null) && d.as_str() != Some(""));
        }
    }
}

fn resolve_paths(ctx: &Context, dict: &mut Node, dir: &Path) -> Result<(), LoadError> {
    let home = ctx.home();
    let base = paths::Base {
        dir,
        home: home.as_deref(),
    };
    paths::resolve(dict, &base)?;
    Ok(())
}

/// Read a Compose file named by `include` or `extends` (at `location`).
pub fn read_config_file(path: &Path) -> std::io::Result<ConfigFile> {
    Ok(ConfigFile {
        content: std::fs::read_to_string(path)?,
        path: Arc::from(path),
    })
}

/// A file named by `extends.file`, loaded as compose-go loads it: every
/// stage but include, extends and validation, then its relative paths made
/// absolute against its own directory, so that the services taken from it
/// keep pointing at the files next to it.
pub fn load_extended_file(
    ctx: &Context,
    file: &ConfigFile,
    warnings: &mut Vec<Warning>,
) -> Result<Node, LoadError> {
    let sub = Context {
        stages: Stages::EXTENDED_FILE,
        ..ctx.clone()
    };
    let mut dict = load_file(&sub, file, Node::map(Mapping::new()), warnings)?;
    let dir = file.path.parent().unwrap_or(Path::new("/")).to_path_buf();
    resolve_paths(ctx, &mut dict, &dir)?;
    Ok(dict)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(text: &str) -> Node {
        yaml::parse_str(text, &Arc::from(Path::new("c.yaml"))).unwrap()
    }

    #[test]
    fn empty_dns_entries_are_omitted() {
        let mut doc = node("services:\n  a: {dns: ['', 1.1.1.1, null]}\n");
        omit_empty(&mut doc);
        let dns = doc
            .get("services")
            .and_then(|s| s.get("a"))
            .and_then(|a| a.get("dns"));
        assert_eq!(dns.unwrap().to_json(), serde_json::json!(["1.1.1.1"]));
    }

    #[test]
    fn build_without_context_gets_the_project_directory_after_merging() {
        let mut doc = node(
            "services:\n  a: {build: {target: t}}\n  b: {build: {context: ./b}}\n  c: {image: x}\n",
        );
        default_build_context(&mut doc);
        let s = doc.get("services").unwrap().to_json();
        assert_eq!(
            s["a"]["build"],
            serde_json::json!({"target": "t", "context": "."})
        );
        assert_eq!(s["b"]["build"], serde_json::json!({"context": "./b"}));
        assert!(s["c"].get("build").is_none());
    }

    #[test]
    fn extended_files_keep_their_reset_tags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("base.yaml");
        std::fs::write(
            &path,
            "services:\n  b:\n    image: x\n    command: !reset\n",
        )
        .unwrap();
        let opts = Options::for_dir(dir.path());
        let ctx = Context {
            opts: &opts,
            environment: Environment::new(),
            working_dir: dir.path().to_path_buf(),
            stages: Stages::ALL,
            include_chain: Vec::new(),
        };
        let file = read_config_file(&path).unwrap();
        let doc = load_extended_file(&ctx, &file, &mut Vec::new()).unwrap();
        let command = doc
            .get("services")
            .and_then(|s| s.get("b"))
            .and_then(|b| b.get("command"));
        assert_eq!(
            command.and_then(|c| c.tag),
            Some(super::super::node::MergeTag::Reset)
        );
    }

    #[test]
    fn top_level_must_be_a_mapping() {
        let err = top_level_mapping(node("\n- a\n- b\n"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.yaml:2:"), "{err}");
        assert!(
            err.contains("top-level object must be a mapping, found a list"),
            "{err}"
        );
    }

    #[test]
    fn extended_files_skip_include_extends_and_validation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("base.yaml");
        std::fs::write(
            &path,
            "include: [nowhere.yaml]\nservices:\n  a:\n    extends: b\n    build: ./ctx\n",
        )
        .unwrap();
        let opts = Options::for_dir(dir.path());
        let ctx = Context {
            opts: &opts,
            environment: Environment::new(),
            working_dir: PathBuf::from("/elsewhere"),
            stages: Stages::ALL,
            include_chain: Vec::new(),
        };
        let file = read_config_file(&path).unwrap();
        let doc = load_extended_file(&ctx, &file, &mut Vec::new()).unwrap();
        let a = doc
            .get("services")
            .and_then(|s| s.get("a"))
            .unwrap()
            .to_json();
        // Still there (not applied), in canonical form.
        assert_eq!(a["extends"]["service"], "b");
        assert_eq!(
            a["build"]["context"],
            dir.path().join("ctx").to_string_lossy().as_ref()
        );
    }
}
