//! `compose env SERVICE`: a service's final environment, each value with
//! where it came from (`shell`, `.env:3`, `app.env:2`, `compose.yaml:12`).
//!
//! Our own command (docker compose has none): it answers "why does my
//! container see this value?" with the same resolution `up` and `config`
//! use ([`crate::loader::service_env`]).

use super::GlobalArgs;
use crate::loader::environment::Origin;
use crate::loader::node::NodePath;
use crate::loader::service_env::{self, ServiceVar};
use indexmap::IndexMap;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct EnvArgs {
    /// The service whose environment to show
    pub service: String,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, thiserror::Error)]
pub enum EnvCommandError {
    #[error("no such service: {name:?}; the project's services are: {}", list(.known))]
    UnknownService { name: String, known: Vec<String> },
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "(none)".to_string()
    } else {
        names.join(", ")
    }
}

pub fn run(global: &GlobalArgs, args: &EnvArgs) -> anyhow::Result<ExitCode> {
    let mut opts = global.loader_options()?;
    // This command resolves the one service's environment itself, with
    // origins; the other services' env files must not be read (one of them
    // may be missing, as docker compose allows for services not in use).
    opts.resolve_environment = false;
    opts.keep_bare_environment = true;
    // Naming a service enables its profiles, as on every other command.
    opts.selected_services = vec![args.service.clone()];
    let loaded = crate::loader::load(&opts)?;
    for w in &loaded.warnings {
        crate::ui::warn(&w.to_string());
    }
    let services = loaded.document.get("services");
    let Some(service) = services.and_then(|s| s.get(&args.service)) else {
        let known = services
            .and_then(|s| s.as_map())
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        return Err(EnvCommandError::UnknownService {
            name: args.service.clone(),
            known,
        }
        .into());
    };
    let path = NodePath::root().key("services").key(args.service.as_str());
    let resolved = service_env::resolve_service_env_at(
        service,
        &path,
        &loaded.environment,
        &loaded.project_dir,
    )?;
    let text = match args.format {
        Format::Table => table(&resolved, &loaded.project_dir),
        Format::Json => json(&resolved, &loaded.project_dir)?,
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// Where a value came from, as a user reads it.
fn source(origin: &Origin, project_dir: &Path) -> String {
    origin.describe(project_dir)
}

/// `NAME  VALUE  SOURCE` columns; newlines in values are shown as `\n` so
/// each variable stays on one line; an empty value shows `""` and a key
/// that nothing set shows `(unset)`.
pub fn table(vars: &IndexMap<String, ServiceVar>, project_dir: &Path) -> String {
    let rows: Vec<[String; 3]> = vars
        .iter()
        .map(|(k, v)| {
            let value = match v.value.as_deref() {
                Some("") => "\"\"".to_string(),
                Some(value) => value.replace('\n', "\\n"),
                None => "(unset)".to_string(),
            };
            [k.clone(), value, source(&v.origin, project_dir)]
        })
        .collect();
    let header = ["NAME".to_string(), "VALUE".into(), "SOURCE".into()];
    let width = |i: usize| {
        rows.iter()
            .chain(std::iter::once(&header))
            .map(|r| r[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let (w0, w1) = (width(0), width(1));
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line = format!("{:<w0$}   {:<w1$}   {}", row[0], row[1], row[2]);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A JSON array of `{name, value, source}`; `value` is null when unset.
pub fn json(
    vars: &IndexMap<String, ServiceVar>,
    project_dir: &Path,
) -> Result<String, serde_json::Error> {
    let items: Vec<serde_json::Value> = vars
        .iter()
        .map(|(k, v)| {
            serde_json::json!({
                "name": k,
                "value": v.value,
                "source": source(&v.origin, project_dir),
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&items)?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn vars() -> IndexMap<String, ServiceVar> {
        let mut m = IndexMap::new();
        m.insert(
            "A".to_string(),
            ServiceVar {
                value: Some("one\ntwo".into()),
                origin: Origin::EnvFile {
                    path: PathBuf::from("/p/.env"),
                    line: 3,
                },
            },
        );
        m.insert(
            "EMPTY".to_string(),
            ServiceVar {
                value: Some(String::new()),
                origin: Origin::Shell,
            },
        );
        m.insert(
            "LONGER_NAME".to_string(),
            ServiceVar {
                value: None,
                origin: Origin::Shell,
            },
        );
        m
    }

    #[test]
    fn table_aligns_columns_and_escapes_newlines() {
        let text = table(&vars(), Path::new("/p"));
        assert_eq!(
            text,
            "NAME          VALUE      SOURCE\n\
             A             one\\ntwo   .env:3\n\
             EMPTY         \"\"         shell\n\
             LONGER_NAME   (unset)    shell\n"
        );
    }

    #[test]
    fn json_lists_name_value_source() {
        let text = json(&vars(), Path::new("/p")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v[0]["name"], "A");
        assert_eq!(v[0]["value"], "one\ntwo");
        assert_eq!(v[0]["source"], ".env:3");
        assert_eq!(v[1]["value"], "");
        assert!(v[2]["value"].is_null());
    }

    #[test]
    fn unknown_service_lists_the_known_ones() {
        let e = EnvCommandError::UnknownService {
            name: "wbe".into(),
            known: vec!["web".into(), "db".into()],
        };
        assert_eq!(
            e.to_string(),
            "no such service: \"wbe\"; the project's services are: web, db"
        );
    }
}
