//! `compose config`: the canonical model, as docker compose prints it
//! (docker compose's `cmd/compose/config.go`), and its listing modes
//! (`--services`, `--volumes`, `--networks`, `--profiles`, `--images`,
//! `--hash`).

use super::GlobalArgs;
use crate::model::service::EnvFile;
use crate::model::{hash, Project};
use indexmap::IndexMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// Format the output. Values: [yaml | json]
    #[arg(long, default_value = "yaml", value_parser = ["yaml", "json"])]
    pub format: String,
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
    /// Services to render (with their dependencies)
    pub service_names: Vec<String>,
}

/// Why `config` could not print.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("env file {} not found: create it, or mark it `required: false` in `env_file`", .path.display())]
    EnvFileMissing { path: PathBuf },
    #[error("cannot read env file {}", .path.display())]
    EnvFileInvalid {
        path: PathBuf,
        source: dotenvy::Error,
    },
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
    let loaded = crate::loader::load(&opts)?;
    for w in &loaded.warnings {
        crate::ui::warn(&w.to_string());
    }
    let mut project = loaded.project.with_selected_services(&args.service_names)?;
    if let Some(list) = listing(&project, args)? {
        return print_list(args, &list);
    }
    // Containers are created from services whose env files are folded in,
    // so the config hash is computed after that (docker compose's runHash).
    if !args.no_env_resolution {
        let env = &loaded.environment;
        let lookup = |k: &str| env.get(k).map(str::to_string);
        project.resolve_services_environment(
            &lookup,
            &mut |f, l| read_env_file(f, &loaded.project_dir, l),
            true,
        )?;
    }
    if let Some(which) = &args.hash {
        let lines: String = hashes(&project, which)?
            .iter()
            .map(|l| format!("{l}\n"))
            .collect();
        return print_list(args, &lines);
    }
    if args.no_interpolate {
        // docker compose prints the raw model here, not the typed project.
        let tree = crate::model::emit::node_to_emit(&loaded.document);
        let content = match args.format.as_str() {
            "json" => crate::model::emit::to_json(&tree),
            _ => crate::model::emit::to_yaml(&tree),
        };
        return write_out(args, &content);
    }
    let content = match args.format.as_str() {
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

/// `--hash a,b` or `--hash '*'`: `name hash` lines, sorted by name.
fn hashes(project: &Project, which: &str) -> anyhow::Result<Vec<String>> {
    let mut names: Vec<String> = if which == "*" {
        project.service_names()
    } else {
        which.split(',').map(str::to_string).collect()
    };
    names.sort();
    let mut lines = Vec::new();
    for name in names {
        let service = project
            .services
            .get(&name)
            .ok_or_else(|| crate::model::ModelError::NoSuchService { name: name.clone() })?;
        lines.push(format!("{name} {}", hash::service_hash(service)?));
    }
    Ok(lines)
}

/// Read one `env_file` entry (relative paths from the project directory).
fn read_env_file(
    file: &EnvFile,
    project_dir: &Path,
    _lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<IndexMap<String, String>>, ConfigError> {
    let path = project_dir.join(&file.path);
    if !path.exists() {
        if file.required {
            return Err(ConfigError::EnvFileMissing { path });
        }
        return Ok(None);
    }
    let iter = dotenvy::from_path_iter(&path).map_err(|source| ConfigError::EnvFileInvalid {
        path: path.clone(),
        source,
    })?;
    let mut vars = IndexMap::new();
    for item in iter {
        let (k, v) = item.map_err(|source| ConfigError::EnvFileInvalid {
            path: path.clone(),
            source,
        })?;
        vars.insert(k, v);
    }
    Ok(Some(vars))
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
