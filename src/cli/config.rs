//! `compose config`: the canonical model, as docker compose prints it
//! (docker compose's `cmd/compose/config.go`), and its listing modes
//! (`--services`, `--volumes`, `--networks`, `--profiles`, `--images`,
//! `--hash`).

use super::GlobalArgs;
use crate::loader::node::Node;
use crate::loader::{service_env, Loaded};
use crate::model::{hash, Project};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// Format the output. Values: [yaml | json]
    #[arg(long, value_parser = ["yaml", "json"])]
    pub format: Option<String>,
    /// Don't interpolate environment variables
    #[arg(long)]
    pub no_interpolate: bool,
    /// Only validate the configuration, don't print anything
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the service names, one per line.
    #[arg(long)]
    pub services: bool,
    /// Print the volume names, one per line.
    #[arg(long)]
    pub volumes: bool,
    /// Print the network names, one per line.
    #[arg(long)]
    pub networks: bool,
    /// Print the model names, one per line.
    #[arg(long)]
    pub models: bool,
    /// Print the profile names, one per line.
    #[arg(long)]
    pub profiles: bool,
    /// Print the image names, one per line.
    #[arg(long)]
    pub images: bool,
    /// Print the service config hash, one per line ("*" for all services).
    #[arg(long, value_name = "SERVICES")]
    pub hash: Option<String>,
    /// Save to file (default to stdout)
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Don't resolve service env files
    #[arg(long)]
    pub no_env_resolution: bool,
    /// Print model variables and default values.
    #[arg(long)]
    pub variables: bool,
    /// Services to render (with their dependencies)
    pub service_names: Vec<String>,
}

/// `--variables`: the raw model's variables (docker compose's
/// runVariables: the whole model, not interpolated), as a table, JSON
/// (an object by name) or YAML.
fn variables(args: &ConfigArgs, opts: &crate::loader::Options) -> anyhow::Result<ExitCode> {
    if !args.service_names.is_empty() {
        crate::ui::warn("service filtering is not applied when --variables is set, variables from the full model will be rendered");
    }
    let mut opts = opts.clone();
    opts.interpolate = false;
    let model = crate::loader::load_model(&opts)?;
    let vars = crate::loader::interpolate::variables::of_document(&model.document);
    // No --format is a table here (docker compose's default format is
    // empty, which only `config` itself reads as YAML).
    let content = match args.format.as_deref() {
        Some("json") => format!("{}\n", serde_json::to_string(&vars)?),
        Some(_) => yaml_variables(&vars),
        None => {
            let rows: Vec<Vec<String>> = vars
                .values()
                .map(|v| {
                    vec![
                        v.name.clone(),
                        v.required.to_string(),
                        v.default_value.clone(),
                        v.presence_value.clone(),
                    ]
                })
                .collect();
            crate::ui::table::render(
                crate::ui::table::PRETTY,
                &["NAME", "REQUIRED", "DEFAULT VALUE", "ALTERNATE VALUE"],
                &rows,
            )
        }
    };
    write_out(args, &content)
}

/// go-yaml's rendering of compose-go's `map[string]Variable` (lower-cased
/// field names).
fn yaml_variables(
    vars: &std::collections::BTreeMap<String, crate::loader::interpolate::variables::Variable>,
) -> String {
    let quote = |s: &str| serde_json::to_string(s).expect("a string serialises");
    let mut out = String::new();
    for (name, v) in vars {
        out.push_str(&format!(
            "{name}:\n    name: {}\n    defaultvalue: {}\n    presencevalue: {}\n    required: {}\n",
            v.name,
            if v.default_value.is_empty() { "\"\"".to_string() } else { quote(&v.default_value) },
            if v.presence_value.is_empty() { "\"\"".to_string() } else { quote(&v.presence_value) },
            v.required
        ));
    }
    out
}

impl ConfigArgs {
    /// `--format`, YAML when not given.
    fn format(&self) -> &str {
        self.format.as_deref().unwrap_or("yaml")
    }
}

/// Why `config` could not print.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot write {}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub fn run(global: &GlobalArgs, args: &ConfigArgs) -> anyhow::Result<ExitCode> {
    let mut opts = global.loader_options()?;
    opts.interpolate = !args.no_interpolate;
    opts.selected_services = args.service_names.clone();
    // docker compose's config folds env files into `environment` and drops
    // `env_file` (WithDiscardEnvFile). The listings and `--hash` need no
    // env files read but the hashed services' (docker compose's runHash):
    // a missing env file of another service must not fail them.
    let listing_only = args.services
        || args.volumes
        || args.networks
        || args.models
        || args.profiles
        || args.images
        || args.hash.is_some();
    opts.resolve_environment = !args.no_env_resolution && !listing_only;
    opts.discard_env_files = true;
    if args.variables {
        return variables(args, &opts);
    }
    if args.no_interpolate && args.services {
        // docker compose lists the raw model's services here (runServices).
        let model = crate::loader::load_model(&opts)?;
        let names: String = model
            .document
            .get("services")
            .and_then(|s| s.as_map())
            .map(|m| m.keys().map(|k| format!("{k}\n")).collect())
            .unwrap_or_default();
        return print_list(args, &names);
    }
    if args.no_interpolate && !listing_only {
        if !args.service_names.is_empty() {
            crate::ui::warn("service filtering is not applied when --no-interpolate is set, the full model will be rendered");
        }
        // docker compose renders compose-go's raw model here (`LoadModel`):
        // merged, canonical where it can be, normalised, but neither typed
        // nor filtered by profiles; so a `${PORT:-8080}:80` port stays as
        // written (docker/compose cmd/compose/config.go
        // runConfigNoInterpolate).
        let model = crate::loader::load_model(&opts)?;
        for w in &model.warnings {
            crate::ui::warn(&w.to_string());
        }
        let tree = crate::model::emit::node_to_emit(&model.document);
        let content = match args.format() {
            "json" => crate::model::emit::to_json(&tree),
            _ => crate::model::emit::to_yaml(&tree),
        };
        return write_out(args, &content);
    }
    let loaded = crate::loader::load(&opts)?;
    for w in &loaded.warnings {
        crate::ui::warn(&w.to_string());
    }
    let project = loaded.project.with_selected_services(&args.service_names)?;
    if let Some(list) = listing(&project, args)? {
        return print_list(args, &list);
    }
    if let Some(which) = &args.hash {
        let names = hashed_services(&project, which);
        let project = if args.no_env_resolution {
            project
        } else {
            // Containers are created from services whose env files are
            // folded in, so the hash is computed after that.
            resolved_subset(&loaded, &names)?
        };
        let lines: String = hashes(&project, &names)?
            .iter()
            .map(|l| format!("{l}\n"))
            .collect();
        return print_list(args, &lines);
    }
    if args.quiet {
        // Loading (and so validating) was the whole job.
        return Ok(ExitCode::SUCCESS);
    }
    let content = match args.format() {
        "json" => project.to_json()?,
        _ => project.to_yaml()?,
    };
    write_out(args, &escape_dollars(&content))
}

/// The printed model is itself a Compose file: `$` is escaped as `$$` so
/// reading it back does not interpolate again (docker compose does the same).
fn escape_dollars(content: &str) -> String {
    content.replace('$', "$$")
}

fn print_list(args: &ConfigArgs, list: &str) -> anyhow::Result<ExitCode> {
    if !args.quiet {
        print!("{list}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Print or save the rendered model (`-q` prints nothing, `-o` writes a file).
fn write_out(args: &ConfigArgs, content: &str) -> anyhow::Result<ExitCode> {
    if args.quiet {
        return Ok(ExitCode::SUCCESS);
    }
    match &args.output {
        Some(path) if !content.is_empty() => {
            std::fs::write(path, content).map_err(|source| ConfigError::Write {
                path: path.clone(),
                source,
            })?
        }
        _ => print!("{content}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The one-name-per-line modes (but `--hash`, which needs the resolved
/// environment); `None` when something else is wanted.
fn listing(project: &Project, args: &ConfigArgs) -> anyhow::Result<Option<String>> {
    let lines: Vec<String> = if args.services {
        project.services_in_dependency_order()
    } else if args.volumes {
        project.volumes.keys().cloned().collect()
    } else if args.networks {
        project.networks.keys().cloned().collect()
    } else if args.models {
        project.models.keys().cloned().collect()
    } else if args.profiles {
        // Every profile of the model, enabled or not (compose-go's AllServices).
        let mut p: Vec<String> = project
            .services
            .values()
            .chain(project.disabled_services.values())
            .flat_map(|s| s.profiles.iter().cloned())
            .collect();
        p.sort();
        p.dedup();
        p
    } else if args.images {
        project
            .services
            .values()
            .map(|s| s.image_or_default(&project.name))
            .collect()
    } else {
        return Ok(None);
    };
    Ok(Some(lines.iter().map(|l| format!("{l}\n")).collect()))
}

/// The services `--hash a,b` or `--hash '*'` names, sorted.
fn hashed_services(project: &Project, which: &str) -> Vec<String> {
    let mut names: Vec<String> = if which == "*" {
        project.service_names()
    } else {
        which.split(',').map(str::to_string).collect()
    };
    names.sort();
    names
}

/// The project with only `names` left and their environments resolved (env
/// files read), so that another service's missing env file does not matter.
fn resolved_subset(loaded: &Loaded, names: &[String]) -> anyhow::Result<Project> {
    let mut doc = loaded.document.clone();
    if let Some(services) = doc.get_mut("services").and_then(Node::as_map_mut) {
        services.retain(|name, _| names.contains(name));
    }
    service_env::apply_resolved_env(&mut doc, &loaded.environment, &loaded.project_dir, true)?;
    Ok(Project::from_node(&doc)?)
}

/// `name hash` lines for the named services.
fn hashes(project: &Project, names: &[String]) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    for name in names {
        let service = project
            .services
            .get(name)
            .ok_or_else(|| crate::model::ModelError::NoSuchService { name: name.clone() })?;
        lines.push(format!("{name} {}", hash::service_hash(service)?));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_are_escaped_for_reloading() {
        assert_eq!(
            escape_dollars("command: echo $HOME ${X}\n"),
            "command: echo $$HOME $${X}\n"
        );
    }
}
