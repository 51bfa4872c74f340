//! `include` (14-include.md): other Compose projects loaded on their own and
//! their resources added to this one.
//!
//! As compose-go `ApplyInclude`: each entry (a path, or `{path,
//! project_directory, env_file}` where `path` and `env_file` may be lists) is
//! loaded through the whole pipeline as its own project, with its own project
//! directory (default: the directory of its first file) and environment (this
//! project's, completed by its env files, default `.env` in its project
//! directory). Its services, networks, volumes, secrets, configs and models
//! are then added to the including document; one the including document
//! defines too is merged, the including definition winning (compose-go since
//! v2.10, used by docker compose v2). A file including itself, directly or
//! not, is an error naming the chain.

use super::discover::ConfigFile;
use super::environment::{Environment, Origin};
use super::merge;
use super::node::{Location, Node, NodePath};
use super::pipeline::{self, Context, Stages};
use super::{LoadError, Warning};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The top-level sections an included project contributes.
const RESOURCES: [&str; 6] = [
    "services", "volumes", "networks", "secrets", "configs", "models",
];

#[derive(Debug, thiserror::Error)]
pub enum IncludeError {
    #[error(
        "{location}: `include` must be a list of paths or of mappings with `path`, found {found}"
    )]
    NotAList {
        location: Location,
        found: &'static str,
    },
    #[error(
        "{location}: an `include` entry must be a path or a mapping with `path`, found {found}"
    )]
    InvalidEntry {
        location: Location,
        found: &'static str,
    },
    #[error("{location}: this `include` entry has no `path`: name the Compose file(s) to include")]
    MissingPath { location: Location },
    #[error("{location}: include cycle: {}", chain_text(.chain))]
    Cycle {
        location: Location,
        chain: Vec<PathBuf>,
    },
    #[error("{location}: cannot read included file {}: {source}", .path.display())]
    Read {
        location: Location,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{location}: {source}")]
    EnvFile {
        location: Location,
        source: super::dotenv::EnvFileError,
    },
}

fn chain_text(chain: &[PathBuf]) -> String {
    let names: Vec<String> = chain.iter().map(|p| p.display().to_string()).collect();
    names.join(" includes ")
}

/// One `include` entry, paths still as written.
struct Entry {
    paths: Vec<(String, Location)>,
    project_directory: Option<String>,
    env_files: Vec<(String, Location)>,
    location: Location,
}

/// Load every included project and add its resources to `doc`.
pub fn apply(
    ctx: &Context,
    file: &Arc<Path>,
    doc: &mut Node,
    warnings: &mut Vec<Warning>,
) -> Result<(), LoadError> {
    let Some(include) = doc.as_map_mut().and_then(|m| m.shift_remove("include")) else {
        return Ok(());
    };
    for entry in entries(&include)? {
        let imported = load_entry(ctx, file, &entry, warnings)?;
        import(doc, imported)?;
    }
    Ok(())
}

fn entries(include: &Node) -> Result<Vec<Entry>, Box<IncludeError>> {
    let path = NodePath::root().key("include");
    let Some(items) = include.as_seq() else {
        return Err(Box::new(IncludeError::NotAList {
            location: Location::new(include.span.clone(), path),
            found: include.kind_name(),
        }));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| entry(item, &path.index(i)))
        .collect()
}

fn entry(item: &Node, path: &NodePath) -> Result<Entry, Box<IncludeError>> {
    let location = Location::new(item.span.clone(), path.clone());
    if let Some(p) = item.as_str() {
        return Ok(Entry {
            paths: vec![(p.to_string(), location.clone())],
            project_directory: None,
            env_files: Vec::new(),
            location,
        });
    }
    if item.as_map().is_none() {
        return Err(Box::new(IncludeError::InvalidEntry {
            location,
            found: item.kind_name(),
        }));
    }
    let paths = string_list(item.get("path"), &path.key("path"));
    if paths.is_empty() {
        return Err(Box::new(IncludeError::MissingPath { location }));
    }
    Ok(Entry {
        paths,
        project_directory: item.get("project_directory").and_then(Node::scalar_text),
        env_files: string_list(item.get("env_file"), &path.key("env_file")),
        location,
    })
}

/// A string or a list of strings, each with where it was written.
fn string_list(node: Option<&Node>, path: &NodePath) -> Vec<(String, Location)> {
    let Some(node) = node else {
        return Vec::new();
    };
    match node.as_seq() {
        Some(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                Some((
                    n.scalar_text()?,
                    Location::new(n.span.clone(), path.index(i)),
                ))
            })
            .collect(),
        None => node
            .scalar_text()
            .map(|s| (s, Location::new(node.span.clone(), path.clone())))
            .into_iter()
            .collect(),
    }
}

/// Load the project one entry names.
fn load_entry(
    ctx: &Context,
    file: &Path,
    entry: &Entry,
    warnings: &mut Vec<Warning>,
) -> Result<Node, LoadError> {
    // Paths of the entry are relative to the including project's directory.
    let files: Vec<PathBuf> = entry
        .paths
        .iter()
        .map(|(p, _)| absolute(&ctx.working_dir, p))
        .collect();
    let mut chain = ctx.include_chain.clone();
    chain.push(canonical(&ctx.opts.working_dir.join(file)));
    for (path, (_, location)) in files.iter().zip(&entry.paths) {
        let path = canonical(path);
        if chain.contains(&path) {
            let start = chain.iter().position(|c| *c == path).unwrap_or(0);
            let mut cycle = chain[start..].to_vec();
            cycle.push(path);
            return Err(IncludeError::Cycle {
                location: location.clone(),
                chain: cycle,
            }
            .into());
        }
    }
    let project_dir = match &entry.project_directory {
        Some(dir) => absolute(&ctx.working_dir, dir),
        None => files[0].parent().unwrap_or(Path::new("/")).to_path_buf(),
    };
    let environment = environment(ctx, entry, &project_dir)?;
    let configs = files
        .iter()
        .zip(&entry.paths)
        .map(|(path, (_, location))| read(path, location))
        .collect::<Result<Vec<_>, _>>()?;
    let sub = Context {
        opts: ctx.opts,
        environment,
        working_dir: project_dir,
        stages: Stages::ALL,
        include_chain: chain,
    };
    pipeline::load_model(&sub, &configs, warnings)
}

fn read(path: &Path, location: &Location) -> Result<ConfigFile, Box<IncludeError>> {
    pipeline::read_config_file(path).map_err(|source| {
        Box::new(IncludeError::Read {
            location: location.clone(),
            path: path.to_path_buf(),
            source,
        })
    })
}

fn absolute(dir: &Path, path: &str) -> PathBuf {
    super::paths::clean(&dir.join(path))
}

/// Paths compared for cycles: the same file reached two ways is one file.
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The included project's variables: the including project's, then those of
/// its env files that are not set yet (14-include.md "env_file": the local
/// project's environment has precedence).
fn environment(
    ctx: &Context,
    entry: &Entry,
    project_dir: &Path,
) -> Result<Environment, Box<IncludeError>> {
    let mut env = ctx.environment.clone();
    let files: Vec<(PathBuf, Location)> = if entry.env_files.is_empty() {
        let default = project_dir.join(".env");
        if default.is_file() {
            vec![(default, entry.location.clone())]
        } else {
            Vec::new()
        }
    } else {
        entry
            .env_files
            .iter()
            .filter(|(f, _)| f != "/dev/null")
            // Relative to the including project, as compose-go does.
            .map(|(f, l)| (absolute(&ctx.working_dir, f), l.clone()))
            .collect()
    };
    // compose-go `GetEnvFromFile`: the files together, a later file
    // overriding an earlier one and seeing its values; then merged under
    // the including project's variables, which win.
    let mut vars = indexmap::IndexMap::new();
    let mut from_files: indexmap::IndexMap<String, (String, Origin)> = indexmap::IndexMap::new();
    for (path, location) in files {
        for (name, value, line) in read_env_file(&path, &ctx.environment, &location, &mut vars)? {
            let origin = Origin::EnvFile {
                path: path.clone(),
                line,
            };
            from_files.insert(name, (value, origin));
        }
    }
    for (name, (value, origin)) in from_files {
        env.set_default(name, value, origin);
    }
    Ok(env)
}

/// The variables of one env file, with their line numbers, read with the
/// project's own dotenv reader: `${VAR}` in a value sees the including
/// project's variables first, then `vars`, the earlier files' and lines'
/// values (compose-go).
fn read_env_file(
    path: &Path,
    env: &Environment,
    location: &Location,
    vars: &mut indexmap::IndexMap<String, String>,
) -> Result<Vec<(String, String, usize)>, Box<IncludeError>> {
    let lookup = |name: &str| env.get(name).map(str::to_string);
    let entries = super::dotenv::read_env_file(path, &lookup, vars).map_err(|source| {
        Box::new(IncludeError::EnvFile {
            location: location.clone(),
            source,
        })
    })?;
    Ok(entries
        .into_iter()
        .filter_map(|e| Some((e.key, e.value?, e.line)))
        .collect())
}

/// Add the imported resources to `doc`; a resource `doc` defines too is
/// merged, `doc`'s definition over the imported one (compose-go
/// `importResources`).
fn import(doc: &mut Node, imported: Node) -> Result<(), LoadError> {
    let Some(target) = doc.as_map_mut() else {
        return Ok(());
    };
    let Node {
        value: super::node::Value::Map(mut source),
        ..
    } = imported
    else {
        return Ok(());
    };
    for kind in RESOURCES {
        let Some(Node {
            value: super::node::Value::Map(from),
            ..
        }) = source.shift_remove(kind)
        else {
            continue;
        };
        let to = target
            .entry(kind.to_string())
            .or_insert_with(|| Node::map(Default::default()));
        if to.is_null() {
            *to = Node::map(Default::default());
        }
        let Some(to) = to.as_map_mut() else {
            continue;
        };
        for (name, definition) in from {
            match to.get_mut(&name) {
                Some(slot) => {
                    let own = std::mem::replace(slot, Node::null());
                    *slot = merge::merge_resource(kind, &name, definition, own)?;
                }
                None => {
                    to.insert(name, definition);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::yaml;
    use crate::loader::Options;

    fn node(text: &str) -> Node {
        yaml::parse_str(text, &Arc::from(Path::new("c.yaml"))).unwrap()
    }

    fn ctx<'a>(opts: &'a Options, dir: &Path) -> Context<'a> {
        let mut environment = Environment::new();
        environment.set("SHELL_WINS", "shell", Origin::Shell);
        Context {
            opts,
            environment,
            working_dir: dir.to_path_buf(),
            stages: Stages::ALL,
            include_chain: Vec::new(),
        }
    }

    #[test]
    fn short_and_long_entries() {
        let doc = node("include:\n  - a.yaml\n  - path: [b.yaml, c.yaml]\n    project_directory: sub\n    env_file: x.env\n");
        let list = entries(doc.get("include").unwrap()).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].paths[0].0, "a.yaml");
        assert!(list[0].project_directory.is_none());
        let paths: Vec<&str> = list[1].paths.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["b.yaml", "c.yaml"]);
        assert_eq!(list[1].project_directory.as_deref(), Some("sub"));
        assert_eq!(list[1].env_files[0].0, "x.env");
        assert_eq!(
            list[1].paths[1].1.to_string(),
            "c.yaml:3:20: include[1].path[1]"
        );
    }

    #[test]
    fn malformed_entries_name_the_place() {
        let doc = node("include:\n  - [a]\n");
        let err = entries(doc.get("include").unwrap())
            .err()
            .unwrap()
            .to_string();
        assert!(err.starts_with("c.yaml:2:"), "{err}");
        assert!(
            err.contains("include[0]: an `include` entry must be a path"),
            "{err}"
        );
        let doc = node("include:\n  - project_directory: x\n");
        let err = entries(doc.get("include").unwrap())
            .err()
            .unwrap()
            .to_string();
        assert!(err.starts_with("c.yaml:2:"), "{err}");
        assert!(err.contains("has no `path`"), "{err}");
    }

    #[test]
    fn including_environment_wins_over_env_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("x.env"),
            "SHELL_WINS=file\nFROM_FILE=1\n# note\nexport LATER=2\n",
        )
        .unwrap();
        let opts = Options::for_dir(dir.path());
        let ctx = ctx(&opts, dir.path());
        let doc = node("include:\n  - path: sub/compose.yaml\n    env_file: [x.env, /dev/null]\n");
        let entry = &entries(doc.get("include").unwrap()).unwrap()[0];
        let env = environment(&ctx, entry, &dir.path().join("sub")).unwrap();
        assert_eq!(env.get("SHELL_WINS"), Some("shell"));
        assert_eq!(env.get("FROM_FILE"), Some("1"));
        let later = env.var("LATER").unwrap();
        assert_eq!(
            later.origin,
            Origin::EnvFile {
                path: dir.path().join("x.env"),
                line: 4
            }
        );
    }

    #[test]
    fn a_later_include_env_file_wins_and_sees_the_earlier_ones() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("one.env"), "IMG=one\nBASE=b\n").unwrap();
        std::fs::write(dir.path().join("two.env"), "IMG=two\nREF=${BASE}-x\n").unwrap();
        let opts = Options::for_dir(dir.path());
        let ctx = ctx(&opts, dir.path());
        let doc = node("include:\n  - path: sub/compose.yaml\n    env_file: [one.env, two.env]\n");
        let entry = &entries(doc.get("include").unwrap()).unwrap()[0];
        let env = environment(&ctx, entry, &dir.path().join("sub")).unwrap();
        assert_eq!(env.get("IMG"), Some("two"));
        assert_eq!(env.get("REF"), Some("b-x"));
    }

    #[test]
    fn default_env_file_is_dot_env_of_the_project_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/.env"), "TAG=1.2\n").unwrap();
        let opts = Options::for_dir(dir.path());
        let ctx = ctx(&opts, dir.path());
        let doc = node("include: [sub/compose.yaml]\n");
        let entry = &entries(doc.get("include").unwrap()).unwrap()[0];
        let env = environment(&ctx, entry, &dir.path().join("sub")).unwrap();
        assert_eq!(env.get("TAG"), Some("1.2"));
        let env = environment(&ctx, entry, dir.path()).unwrap();
        assert_eq!(env.get("TAG"), None);
    }

    #[test]
    fn import_merges_in_place_and_appends_new_resources() {
        let mut doc = node("services:\n  a: {image: mine}\n  z: {image: z}\n");
        let imported = node(
            "services:\n  a: {image: theirs, command: [x]}\n  b: {image: b}\nnetworks:\n  n: {}\n",
        );
        import(&mut doc, imported).unwrap();
        let services = doc.get("services").unwrap().as_map().unwrap();
        assert_eq!(services.keys().collect::<Vec<_>>(), ["a", "z", "b"]);
        assert_eq!(
            services["a"].to_json(),
            serde_json::json!({"image": "mine", "command": ["x"]})
        );
        assert!(doc.get("networks").and_then(|n| n.get("n")).is_some());
    }
}
