//! `compose stats [--no-stream] [--format table|json] [-a] [SERVICE...]`:
//! a live stream of the running containers' resource usage, docker's
//! columns and units: CPU % over the last interval, memory (binary units,
//! page cache excluded) against the limit (the host's memory when
//! unlimited), network and block I/O (decimal units), tasks. Without
//! `--no-stream` the table is redrawn every second until Ctrl-C.

use super::lifecycle::{is_up, session};
use super::session::Session;
use super::GlobalArgs;
use crate::ui::table;
use compose_runtime::container::usage::{ContainerUsage, HostResources};
use compose_runtime::container::Container;
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// How often a sample is taken, as the docker daemon does.
const INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    pub all: bool,
    /// Disable streaming stats and only pull the first result
    #[arg(long)]
    pub no_stream: bool,
    /// Format the output: table or json
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    pub services: Vec<String>,
}

/// One container's row, as docker's stats formatter names the fields.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    id: String,
    name: String,
    cpu: String,
    mem_usage: String,
    mem_perc: String,
    net_io: String,
    block_io: String,
    pids: String,
}

/// The previous sample of each container, by name, with when it was taken.
type Samples = HashMap<String, (Instant, ContainerUsage)>;

pub fn run(global: &GlobalArgs, args: &StatsArgs) -> anyhow::Result<ExitCode> {
    let session = session(global, &args.services)?;
    let host = HostResources::read();
    let mut previous = sample(&session, args)?;
    let terminal = std::io::stdout().is_terminal();
    loop {
        std::thread::sleep(INTERVAL);
        let now = sample(&session, args)?;
        let rows = rows(&session, args, &previous, &now, host)?;
        let mut out = std::io::stdout().lock();
        if !args.no_stream && terminal && args.format == "table" {
            // Redraw in place: cursor home, clear the screen.
            write!(out, "\x1b[H\x1b[2J")?;
        }
        write!(out, "{}", render(&rows, &args.format))?;
        out.flush()?;
        if args.no_stream {
            return Ok(ExitCode::SUCCESS);
        }
        previous = now;
    }
}

/// Usage of every shown container now (a stopped one has none).
fn sample(session: &Session, args: &StatsArgs) -> anyhow::Result<Samples> {
    let snap = session.snapshot()?;
    let mut samples = Samples::new();
    for c in session.containers(&snap, &args.services) {
        if !is_up(c) {
            continue;
        }
        // A container that stopped since the snapshot has no sample.
        if let Ok(usage) = Container::load(&c.dir).and_then(|k| k.usage()) {
            samples.insert(c.record.name.clone(), (Instant::now(), usage));
        }
    }
    Ok(samples)
}

fn rows(
    session: &Session,
    args: &StatsArgs,
    before: &Samples,
    now: &Samples,
    host: HostResources,
) -> anyhow::Result<Vec<Row>> {
    let snap = session.snapshot()?;
    let mut rows = Vec::new();
    for c in session.containers(&snap, &args.services) {
        if !args.all && !is_up(c) {
            continue;
        }
        let id = if args.no_trunc {
            c.record.id.clone()
        } else {
            c.record.id.chars().take(12).collect()
        };
        let row = match (before.get(&c.record.name), now.get(&c.record.name)) {
            (Some(a), Some(b)) => usage_row(id, &c.record.name, a, b, host),
            _ => stopped_row(id, &c.record.name),
        };
        rows.push(row);
    }
    Ok(rows)
}

fn usage_row(
    id: String,
    name: &str,
    (t0, a): &(Instant, ContainerUsage),
    (t1, b): &(Instant, ContainerUsage),
    host: HostResources,
) -> Row {
    let wall = t1.duration_since(*t0).as_nanos() as f64;
    let cpu_delta = b.cgroup.cpu_ns.saturating_sub(a.cgroup.cpu_ns) as f64;
    let cpu = if wall > 0.0 {
        cpu_delta / wall * 100.0
    } else {
        0.0
    };
    let limit = b
        .cgroup
        .memory_limit
        .map_or(host.memory, |l| l.min(host.memory.max(1)));
    let mem_perc = if limit > 0 {
        b.cgroup.memory as f64 / limit as f64 * 100.0
    } else {
        0.0
    };
    Row {
        id,
        name: name.to_string(),
        cpu: format!("{cpu:.2}%"),
        mem_usage: format!(
            "{} / {}",
            binary_size(b.cgroup.memory as f64),
            binary_size(limit as f64)
        ),
        mem_perc: format!("{mem_perc:.2}%"),
        net_io: format!(
            "{} / {}",
            decimal_size(b.net_rx as f64),
            decimal_size(b.net_tx as f64)
        ),
        block_io: format!(
            "{} / {}",
            decimal_size(b.cgroup.block_read as f64),
            decimal_size(b.cgroup.block_write as f64)
        ),
        pids: b.cgroup.pids.to_string(),
    }
}

/// docker's row for a container without usage (stopped, `-a`).
fn stopped_row(id: String, name: &str) -> Row {
    Row {
        id,
        name: name.to_string(),
        cpu: "0.00%".into(),
        mem_usage: "0B / 0B".into(),
        mem_perc: "0.00%".into(),
        net_io: "0B / 0B".into(),
        block_io: "0B / 0B".into(),
        pids: "0".into(),
    }
}

fn render(rows: &[Row], format: &str) -> String {
    if format == "json" {
        return rows
            .iter()
            .map(|r| {
                let v = serde_json::json!({
                    "BlockIO": r.block_io,
                    "CPUPerc": r.cpu,
                    "Container": r.id,
                    "ID": r.id,
                    "MemPerc": r.mem_perc,
                    "MemUsage": r.mem_usage,
                    "Name": r.name,
                    "NetIO": r.net_io,
                    "PIDs": r.pids,
                });
                format!("{v}\n")
            })
            .collect();
    }
    let header = [
        "CONTAINER ID",
        "NAME",
        "CPU %",
        "MEM USAGE / LIMIT",
        "MEM %",
        "NET I/O",
        "BLOCK I/O",
        "PIDS",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                r.name.clone(),
                r.cpu.clone(),
                r.mem_usage.clone(),
                r.mem_perc.clone(),
                r.net_io.clone(),
                r.block_io.clone(),
                r.pids.clone(),
            ]
        })
        .collect();
    table::render(table::STATS, &header, &cells)
}

/// go-units' `BytesSize`: `%.4g` of the value in 1024 steps, `B`, `KiB`...
fn binary_size(bytes: f64) -> String {
    custom_size(bytes, 1024.0, 4, &["B", "KiB", "MiB", "GiB", "TiB", "PiB"])
}

/// go-units' `HumanSizeWithPrecision(_, 3)`: 1000 steps, `B`, `kB`, `MB`...
fn decimal_size(bytes: f64) -> String {
    custom_size(bytes, 1000.0, 3, &["B", "kB", "MB", "GB", "TB", "PB"])
}

fn custom_size(mut size: f64, base: f64, precision: usize, units: &[&str]) -> String {
    let mut i = 0;
    while size >= base && i + 1 < units.len() {
        size /= base;
        i += 1;
    }
    format!("{}{}", go_g(size, precision), units[i])
}

/// Go's `%.<p>g`: `p` significant digits, trailing zeros dropped, the
/// exponent form when the exponent is below -4 or at least `p`.
fn go_g(value: f64, precision: usize) -> String {
    if value == 0.0 {
        return "0".to_string();
    }
    let sci = format!("{:.*e}", precision.saturating_sub(1), value);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= precision as i32 {
        let mantissa = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    let decimals = (precision as i32 - 1 - exp).max(0) as usize;
    trim_zeros(&format!("{value:.decimals$}")).to_string()
}

fn trim_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_dockers() {
        assert_eq!(binary_size(0.0), "0B");
        assert_eq!(binary_size(1536.0), "1.5KiB");
        assert_eq!(binary_size(7.6 * 1024.0 * 1024.0 * 1024.0), "7.6GiB");
        assert_eq!(binary_size(1_048_575.0), "1024KiB");
        assert_eq!(decimal_size(648.0), "648B");
        assert_eq!(decimal_size(1234.0), "1.23kB");
        assert_eq!(decimal_size(999_700.0), "1e+03kB");
        assert_eq!(decimal_size(12_000_000.0), "12MB");
    }

    #[test]
    fn cpu_and_memory_percentages() {
        let mk = |cpu_ns, memory| ContainerUsage {
            cgroup: compose_runtime::cgroups::Usage {
                cpu_ns,
                memory,
                memory_limit: Some(1024 * 1024 * 100),
                block_read: 2000,
                block_write: 0,
                pids: 3,
            },
            net_rx: 1200,
            net_tx: 648,
        };
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_secs(1);
        let host = HostResources {
            memory: 1 << 34,
            cpus: 2,
        };
        let row = usage_row(
            "abc".into(),
            "p-web-1",
            &(t0, mk(0, 0)),
            &(t1, mk(250_000_000, 1024 * 1024 * 10)),
            host,
        );
        assert_eq!(row.cpu, "25.00%");
        assert_eq!(row.mem_usage, "10MiB / 100MiB");
        assert_eq!(row.mem_perc, "10.00%");
        assert_eq!(row.net_io, "1.2kB / 648B");
        assert_eq!(row.block_io, "2kB / 0B");
        assert_eq!(row.pids, "3");
        let unlimited = ContainerUsage {
            cgroup: compose_runtime::cgroups::Usage {
                memory_limit: None,
                ..mk(0, 0).cgroup
            },
            ..mk(0, 0)
        };
        let row = usage_row("a".into(), "n", &(t0, unlimited), &(t1, unlimited), host);
        assert_eq!(row.mem_usage, "0B / 16GiB");
    }

    #[test]
    fn table_has_dockers_columns() {
        let text = render(&[stopped_row("0123456789ab".into(), "p-web-1")], "table");
        let header = text.lines().next().unwrap();
        assert!(header.starts_with("CONTAINER ID   NAME"), "{header}");
        assert!(header.ends_with("BLOCK I/O   PIDS"), "{header}");
    }
}
