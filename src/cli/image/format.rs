//! Docker-shaped output: the `image ls` table, human sizes and ages (as
//! Docker's `go-units` prints them: decimal units, "3 weeks ago"), and
//! familiar names (`redis:latest` for `docker.io/library/redis:latest`).

use super::{one_line, LsArgs};
use compose_runtime::image::store::ImageRecord;
use compose_runtime::image::{ImageStore, Reference};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

/// `redis:latest`, `localhost:5000/app@sha256:…`.
pub fn familiar(r: &Reference) -> String {
    let mut s = r.familiar_name();
    if let Some(t) = &r.tag {
        s.push(':');
        s.push_str(t);
    }
    if let Some(d) = &r.digest {
        s.push('@');
        s.push_str(&d.to_string());
    }
    s
}

/// [`familiar`] of a stored full reference string.
pub fn familiar_str(s: &str) -> String {
    Reference::parse(s).map_or_else(|_| s.to_string(), |r| familiar(&r))
}

/// The repository path `docker pull` prints after "Pulling from".
pub fn repository_path(r: &Reference) -> String {
    r.repository.clone()
}

/// Bytes in decimal units with three significant digits (`7.8MB`, `512B`).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{value:.digits$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    format!("{text}{}", UNITS[unit])
}

/// How long ago, in the words of go-units' `HumanDuration`.
pub fn human_age(d: Duration) -> String {
    let s = d.as_secs();
    let (m, h, day) = (s / 60, s / 3600, s / 86400);
    let text = match () {
        _ if s < 1 => "Less than a second".to_string(),
        _ if s == 1 => "1 second".to_string(),
        _ if s < 60 => format!("{s} seconds"),
        _ if m == 1 => "About a minute".to_string(),
        _ if m < 60 => format!("{m} minutes"),
        _ if h == 1 => "About an hour".to_string(),
        _ if h < 48 => format!("{h} hours"),
        _ if day < 14 => format!("{day} days"),
        _ if day < 90 => format!("{} weeks", day / 7),
        _ if day < 730 => format!("{} months", day / 30),
        _ => format!("{} years", day / 365),
    };
    format!("{text} ago")
}

struct Row {
    repository: String,
    tag: String,
    id: String,
    created: Option<SystemTime>,
    size: u64,
}

fn rows(store: &ImageStore, records: &[ImageRecord], no_trunc: bool) -> anyhow::Result<Vec<Row>> {
    let mut out = Vec::new();
    for rec in records {
        let created = store.config(rec).map_err(one_line)?.created_time();
        let id = if no_trunc {
            rec.config.to_string()
        } else {
            rec.config.short().to_string()
        };
        let row = |repository: String, tag: String| Row {
            repository,
            tag,
            id: id.clone(),
            created,
            size: rec.size(),
        };
        let mut names: Vec<(String, String)> = rec
            .tags
            .iter()
            .filter_map(|t| Reference::parse(t).ok())
            .map(|r| (r.familiar_name(), r.tag.unwrap_or_default()))
            .collect();
        if names.is_empty() {
            // Only digest references (or none): Docker shows `<none>` tags.
            let repos: BTreeSetOf = rec
                .repo_digests
                .iter()
                .filter_map(|t| Reference::parse(t).ok())
                .map(|r| r.familiar_name())
                .collect();
            names = repos
                .into_iter()
                .map(|r| (r, "<none>".to_string()))
                .collect();
        }
        if names.is_empty() {
            names.push(("<none>".to_string(), "<none>".to_string()));
        }
        out.extend(names.into_iter().map(|(r, t)| row(r, t)));
    }
    out.sort_by(|a, b| {
        b.created
            .cmp(&a.created)
            .then_with(|| (&a.repository, &a.tag).cmp(&(&b.repository, &b.tag)))
    });
    Ok(out)
}

type BTreeSetOf = std::collections::BTreeSet<String>;

fn age(t: Option<SystemTime>) -> String {
    match t.and_then(|t| SystemTime::now().duration_since(t).ok()) {
        Some(d) => human_age(d),
        None => "N/A".to_string(),
    }
}

/// Print rows as columns separated by three spaces, as Docker's tabwriter.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    print!("{}", table_text(header, rows));
}

/// [`print_table`]'s text.
pub fn table_text(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let last = cells.len() - 1;
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i == last {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}   "));
            }
        }
        format!("{}\n", s.trim_end())
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    for r in rows {
        out.push_str(&line(r.clone()));
    }
    out
}

pub fn ls(store: &ImageStore, a: &LsArgs) -> anyhow::Result<ExitCode> {
    let mut records = store.list().map_err(one_line)?;
    if let Some(repo) = &a.repository {
        let want = Reference::parse(repo).map_err(one_line)?;
        let pinned_tag = repo
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains(':'));
        records.retain(|rec| {
            rec.tags.iter().any(|t| {
                Reference::parse(t)
                    .is_ok_and(|r| r.name() == want.name() && (!pinned_tag || r.tag == want.tag))
            })
        });
    }
    let rows = rows(store, &records, a.no_trunc)?;
    if a.quiet {
        let mut seen = BTreeSetOf::new();
        for r in rows.iter().filter(|r| seen.insert(r.id.clone())) {
            println!("{}", r.id);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let format = crate::ui::template::Format::parse(&a.format)?;
    let objects: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "Repository": r.repository, "Tag": r.tag, "ID": r.id,
                "CreatedSince": age(r.created), "Size": human_size(r.size),
            })
        })
        .collect();
    let own = || {
        let table: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                vec![
                    r.repository.clone(),
                    r.tag.clone(),
                    r.id.clone(),
                    age(r.created),
                    human_size(r.size),
                ]
            })
            .collect();
        table_text(
            &["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"],
            &table,
        )
    };
    print!("{}", format.render(&objects, own)?);
    Ok(ExitCode::SUCCESS)
}

pub fn df(store: &ImageStore) -> anyhow::Result<ExitCode> {
    let records = store.list().map_err(one_line)?;
    let (blobs, layers) = store.disk_usage().map_err(one_line)?;
    let dangling = records.iter().filter(|r| r.tags.is_empty()).count();
    let table = vec![
        vec![
            "Images".to_string(),
            records.len().to_string(),
            dangling.to_string(),
            human_size(blobs + layers),
        ],
        vec![
            "  blobs".to_string(),
            String::new(),
            String::new(),
            human_size(blobs),
        ],
        vec![
            "  unpacked layers".to_string(),
            String::new(),
            String::new(),
            human_size(layers),
        ],
    ];
    print_table(&["TYPE", "TOTAL", "DANGLING", "SIZE"], &table);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_docker() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(512), "512B");
        assert_eq!(human_size(7_800_000), "7.8MB");
        assert_eq!(human_size(123_456_789), "123MB");
        assert_eq!(human_size(1_234_567_890), "1.23GB");
    }

    #[test]
    fn ages_read_like_docker() {
        assert_eq!(human_age(Duration::from_secs(30)), "30 seconds ago");
        assert_eq!(human_age(Duration::from_secs(90)), "About a minute ago");
        assert_eq!(human_age(Duration::from_secs(3 * 3600)), "3 hours ago");
        assert_eq!(human_age(Duration::from_secs(20 * 86400)), "2 weeks ago");
        assert_eq!(human_age(Duration::from_secs(800 * 86400)), "2 years ago");
    }

    #[test]
    fn familiar_names_drop_the_hub_prefix() {
        assert_eq!(familiar_str("docker.io/library/redis:7"), "redis:7");
        assert_eq!(
            familiar_str("localhost:5000/app:latest"),
            "localhost:5000/app:latest"
        );
    }
}
