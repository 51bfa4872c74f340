//! `compose images [-q] [--format table|json|TEMPLATE] [SERVICE...]`: the
//! images the project's containers were created from, as docker compose's
//! `images.go` lists them (one row a container, sorted by name).

use super::image::format::{familiar_str, human_age, human_size};
use super::GlobalArgs;
use crate::ui::table::{self, Layout};
use crate::ui::template::Format;
use compose_runtime::image::{Image, ImageStore};
use compose_runtime::project::ObservedContainer;
use std::collections::HashMap;
use std::process::ExitCode;
use std::time::SystemTime;

#[derive(Debug, clap::Args)]
pub struct ImagesArgs {
    /// Only display IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Format the output: table, json, or a Go template
    #[arg(long, default_value = "table")]
    pub format: String,
    pub services: Vec<String>,
}

/// One container's image.
struct Row {
    container: String,
    repository: String,
    tag: String,
    platform: String,
    /// `sha256:…`
    id: String,
    size: u64,
    created: Option<SystemTime>,
    created_text: Option<String>,
}

pub fn run(global: &GlobalArgs, args: &ImagesArgs) -> anyhow::Result<ExitCode> {
    let format = Format::parse(&args.format)?;
    let session = super::lifecycle::session(global, &args.services)?;
    let snap = session.snapshot()?;
    let store = ImageStore::open(&session.root)?;
    // Replicas share their image: each is looked up in the store once.
    let mut found: HashMap<String, Option<Image>> = HashMap::new();
    let mut rows: Vec<Row> = session
        .containers(&snap, &args.services)
        .into_iter()
        .map(|c| {
            let image = found
                .entry(c.record.image_id.clone())
                .or_insert_with(|| store.find(&c.record.image_id).ok());
            row(image.as_ref(), c)
        })
        .collect();
    rows.sort_by(|a, b| a.container.cmp(&b.container));
    if args.quiet {
        let mut seen = Vec::new();
        for r in &rows {
            let id = r.id.trim_start_matches("sha256:").to_string();
            if !seen.contains(&id) {
                println!("{id}");
                seen.push(id);
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let objects: Vec<serde_json::Value> = rows.iter().map(json).collect();
    print!("{}", format.render(&objects, || table(&rows))?);
    Ok(ExitCode::SUCCESS)
}

/// The row of `c`: its image as the store has it now (by ID), else what
/// its record says (an image removed since keeps its name and ID).
fn row(found: Option<&Image>, c: &ObservedContainer) -> Row {
    let (repository, tag) = split_reference(&c.record.image);
    let mut row = Row {
        container: c.record.name.clone(),
        repository,
        tag,
        platform: String::new(),
        id: c.record.image_id.clone(),
        size: 0,
        created: None,
        created_text: None,
    };
    if let Some(image) = found {
        let cfg = &image.config;
        row.platform = match &cfg.variant {
            Some(v) => format!("{}/{}/{v}", cfg.os, cfg.architecture),
            None => format!("{}/{}", cfg.os, cfg.architecture),
        };
        row.size = image.record.size();
        row.created = cfg.created_time();
        row.created_text = cfg.created.clone();
    }
    row
}

/// `redis:7` → (`redis`, `7`); `x@sha256:…` → (`x`, ``); no tag → `latest`.
fn split_reference(image: &str) -> (String, String) {
    let familiar = familiar_str(image);
    let (name, pinned) = match familiar.split_once('@') {
        Some((name, _digest)) => (name.to_string(), true),
        None => (familiar.clone(), false),
    };
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    match name[slash..].rfind(':') {
        Some(i) => (
            name[..slash + i].to_string(),
            name[slash + i + 1..].to_string(),
        ),
        None if pinned => (name, String::new()),
        None => (name, "latest".to_string()),
    }
}

fn table(rows: &[Row]) -> String {
    let header = [
        "CONTAINER",
        "REPOSITORY",
        "TAG",
        "PLATFORM",
        "IMAGE ID",
        "SIZE",
        "CREATED",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let or_none = |s: &str| {
                if s.is_empty() {
                    "<none>".to_string()
                } else {
                    s.to_string()
                }
            };
            vec![
                r.container.clone(),
                or_none(&r.repository),
                or_none(&r.tag),
                r.platform.clone(),
                r.id.trim_start_matches("sha256:")
                    .chars()
                    .take(12)
                    .collect(),
                human_size(r.size),
                match r
                    .created
                    .and_then(|t| SystemTime::now().duration_since(t).ok())
                {
                    Some(age) => human_age(age),
                    None => "N/A".to_string(),
                },
            ]
        })
        .collect();
    table::render(
        Layout {
            min_width: 10,
            padding: 3,
        },
        &header,
        &cells,
    )
}

fn json(r: &Row) -> serde_json::Value {
    serde_json::json!({
        "ID": r.id,
        "ContainerName": r.container,
        "Repository": r.repository,
        "Tag": r.tag,
        "Platform": r.platform,
        "Size": r.size,
        "Created": r.created_text,
    })
}

#[cfg(test)]
mod tests {
    use super::split_reference;

    #[test]
    fn references_split_into_repository_and_tag() {
        let split = |s| split_reference(s);
        assert_eq!(split("redis:7"), ("redis".into(), "7".into()));
        assert_eq!(
            split("docker.io/library/redis"),
            ("redis".into(), "latest".into())
        );
        assert_eq!(
            split("127.0.0.1:5000/app/web:v1"),
            ("127.0.0.1:5000/app/web".into(), "v1".into())
        );
        assert_eq!(
            split("127.0.0.1:5000/app"),
            ("127.0.0.1:5000/app".into(), "latest".into())
        );
        assert_eq!(split("x@sha256:abcd"), ("x".into(), String::new()));
    }
}
