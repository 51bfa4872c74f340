//! `compose logs [-f] [--tail N] [-t] [--no-color] [SERVICE...]`: the
//! containers' output from their `log.jsonl`, each line prefixed with the
//! container's short name in its colour (`web-1  | `), as docker compose.
//! The same printer follows the logs of an attached `up`.

use super::session::{short_name, Session};
use super::GlobalArgs;
use compose_runtime::container::log::LogEntry;
use compose_runtime::container::Status;
use compose_runtime::project::interrupt::Interrupts;
use compose_runtime::project::logs::LogCursor;
use compose_runtime::project::ObservedContainer;
use indexmap::IndexMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// Follow log output (`-f` after `logs` means this, as in docker compose)
    #[arg(long)]
    pub follow: bool,
    /// Number of lines to show from the end of the logs for each container ("all" for all)
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show timestamps
    #[arg(short, long)]
    pub timestamps: bool,
    /// Produce monochrome output
    #[arg(long)]
    pub no_color: bool,
    /// Don't print prefix in logs
    #[arg(long)]
    pub no_log_prefix: bool,
    /// Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// index of the container if service has multiple replicas
    #[arg(long, value_name = "N")]
    pub index: Option<u32>,
    pub services: Vec<String>,
}

/// docker compose reads `-f` after `logs` as `--follow` and after `rm` as
/// `--force` (its `-f/--file` goes before the subcommand); ours is global,
/// so such a `-f` is rewritten to the long flag before parsing.
pub fn rewrite_follow(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    // Global options that take a value, whose value is not the subcommand.
    const VALUED: [&str; 10] = [
        "-f",
        "--file",
        "-p",
        "--project-name",
        "--project-directory",
        "--env-file",
        "--profile",
        "--environment",
        "--ansi",
        "--progress",
    ];
    let mut i = 1;
    let (at, long) = loop {
        let Some(arg) = args.get(i).and_then(|a| a.to_str()) else {
            return args;
        };
        if VALUED.contains(&arg) {
            i += 2;
            continue;
        }
        if arg.starts_with('-') {
            i += 1;
            continue;
        }
        match arg {
            "logs" => break (i, "--follow"),
            "rm" => break (i, "--force"),
            _ => return args,
        }
    };
    args.into_iter()
        .enumerate()
        .map(|(j, a)| if j > at && a == "-f" { long.into() } else { a })
        .collect()
}

/// How often followed logs are polled.
pub const POLL: Duration = Duration::from_millis(50);

/// docker compose's rainbow of prefix colours.
const COLOURS: [console::Color; 6] = [
    console::Color::Cyan,
    console::Color::Yellow,
    console::Color::Green,
    console::Color::Magenta,
    console::Color::Blue,
    console::Color::Red,
];

/// Prints the logs of several containers with prefixes; followed
/// containers can be added as they appear (new replicas, recreated ones).
pub struct LogPrinter {
    /// By container name, in the order they were added (their colours).
    sources: IndexMap<String, Source>,
    colour: bool,
    prefix: bool,
    timestamps: bool,
    width: usize,
    /// `--since` / `--until`: only entries written in this window.
    window: Window,
    /// A terminal's output, printed exactly as logged (chunks, not lines).
    raw: bool,
}

struct Source {
    label: String,
    cursor: LogCursor,
}

impl LogPrinter {
    pub fn new(
        containers: &[&ObservedContainer],
        colour: bool,
        prefix: bool,
        timestamps: bool,
    ) -> LogPrinter {
        let width = containers
            .iter()
            .map(|c| short_name(c).len())
            .max()
            .unwrap_or(0);
        let mut printer = LogPrinter {
            sources: IndexMap::new(),
            colour,
            prefix,
            timestamps,
            width,
            window: Window::default(),
            raw: false,
        };
        printer.add(containers);
        printer
    }

    /// Print entries as they were logged, without a newline of ours: an
    /// interactive terminal's output (`compose run` from a terminal).
    pub fn raw(mut self) -> Self {
        self.raw = true;
        self
    }

    /// Print only entries written at or after `since` and before `until`.
    pub fn with_window(mut self, since: Option<SystemTime>, until: Option<SystemTime>) -> Self {
        self.window = Window { since, until };
        self
    }

    /// Start following the containers not followed yet, from the start of
    /// their logs (docker compose follows a container started while it
    /// watches); returns their names.
    pub fn add(&mut self, containers: &[&ObservedContainer]) -> Vec<String> {
        let mut added = Vec::new();
        for c in containers {
            if self.sources.contains_key(&c.record.name) {
                continue;
            }
            let label = self.label(c, self.sources.len());
            let cursor = LogCursor::new(c.dir.join("log.jsonl"));
            self.sources
                .insert(c.record.name.clone(), Source { label, cursor });
            added.push(c.record.name.clone());
        }
        added
    }

    fn label(&mut self, c: &ObservedContainer, index: usize) -> String {
        if !self.prefix {
            return String::new();
        }
        let name = short_name(c);
        self.width = self.width.max(name.len());
        let text = format!("{name:<width$} | ", width = self.width);
        if !self.colour {
            return text;
        }
        console::Style::new()
            .fg(COLOURS[index % COLOURS.len()])
            .force_styling(true)
            .apply_to(text)
            .to_string()
    }

    /// Print everything appended since the last call (or the last `tail`
    /// entries of each container on the first call).
    pub fn print_new(&mut self, tail: Option<usize>) {
        let mut out = std::io::stdout().lock();
        let window = self.window;
        for source in self.sources.values_mut() {
            // The window first, then the tail (docker's order).
            let mut entries: Vec<LogEntry> = source
                .cursor
                .read_new()
                .into_iter()
                .filter(|e| window.contains(e))
                .collect();
            if let Some(n) = tail {
                entries.drain(..entries.len().saturating_sub(n));
            }
            for e in entries {
                if self.raw {
                    let _ = out.write_all(e.log.as_bytes());
                } else {
                    let _ = write_entry(&mut out, &source.label, &e, self.timestamps);
                }
            }
        }
        let _ = out.flush();
    }
}

/// `--since` / `--until`.
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    since: Option<SystemTime>,
    until: Option<SystemTime>,
}

impl Window {
    /// Whether `e` was written at or after `since` and before `until`.
    fn contains(&self, e: &LogEntry) -> bool {
        if self.since.is_none() && self.until.is_none() {
            return true;
        }
        let Ok(t) = humantime::parse_rfc3339_weak(&e.time) else {
            return true;
        };
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }
}

fn write_entry(
    out: &mut impl Write,
    label: &str,
    e: &LogEntry,
    timestamps: bool,
) -> std::io::Result<()> {
    let text = e.log.strip_suffix('\n').unwrap_or(&e.log);
    let text = text.strip_suffix('\r').unwrap_or(text);
    if timestamps {
        writeln!(out, "{label}{} {text}", e.time)
    } else {
        writeln!(out, "{label}{text}")
    }
}

pub fn run(global: &GlobalArgs, args: &LogsArgs) -> anyhow::Result<ExitCode> {
    let session = super::lifecycle::session(global, &args.services)?;
    let now = SystemTime::now();
    let since = args
        .since
        .as_deref()
        .map(|t| point_in_time(t, now, "--since"))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|t| point_in_time(t, now, "--until"))
        .transpose()?;
    let snap = session.snapshot()?;
    let mut containers = session.containers(&snap, &args.services);
    if let Some(index) = args.index {
        containers.retain(|c| c.record.number == index);
        if containers.is_empty() {
            anyhow::bail!("--index {index}: no such replica of the selected services");
        }
    }
    let colour = !args.no_color && console::colors_enabled();
    let mut printer = LogPrinter::new(&containers, colour, !args.no_log_prefix, args.timestamps)
        .with_window(since, until);
    let tail = match args.tail.as_str() {
        "all" | "-1" => usize::MAX,
        n => n
            .parse()
            .map_err(|_| anyhow::anyhow!("--tail {n:?}: expected a number or \"all\""))?,
    };
    printer.print_new(Some(tail));
    if !args.follow || until.is_some_and(|u| u <= SystemTime::now()) {
        return Ok(ExitCode::SUCCESS);
    }
    let mut interrupts = Interrupts::catch()?;
    follow(&session, &args.services, &mut printer, &mut interrupts)
}

/// A `--since`/`--until` value as docker reads it: RFC 3339 (`Z` or an
/// offset, fractions allowed), a date `2013-01-02`, Unix seconds
/// (`1700000000.5`), or a duration back from `now` (`42m`, `1h30m`).
fn point_in_time(text: &str, now: SystemTime, flag: &str) -> anyhow::Result<SystemTime> {
    if let Ok(d) = humantime::parse_duration(text) {
        return Ok(now - d);
    }
    if let Ok(t) = humantime::parse_rfc3339_weak(text) {
        return Ok(t);
    }
    if let Some(t) = with_offset(text) {
        return Ok(t);
    }
    if text.len() == 10 {
        if let Ok(t) = humantime::parse_rfc3339(&format!("{text}T00:00:00Z")) {
            return Ok(t);
        }
    }
    if let Ok(secs) = text.parse::<f64>() {
        if secs >= 0.0 && secs.is_finite() {
            return Ok(SystemTime::UNIX_EPOCH + Duration::from_secs_f64(secs));
        }
    }
    anyhow::bail!(
        "{flag} {text:?}: not a time; use RFC 3339 (2013-01-02T13:23:37Z), a date (2013-01-02), Unix seconds, or a duration back from now (42m, 1h30m)"
    )
}

/// RFC 3339 with a numeric offset (`…+01:00`), which humantime leaves out.
fn with_offset(text: &str) -> Option<SystemTime> {
    let (local, offset) = text.split_at(text.len().checked_sub(6)?);
    let sign = match offset.as_bytes()[0] {
        b'+' => 1i64,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = offset[1..].split_once(':')?;
    let shift = sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60);
    let t = humantime::parse_rfc3339_weak(local).ok()?;
    Some(if shift >= 0 {
        t - Duration::from_secs(shift as u64)
    } else {
        t + Duration::from_secs((-shift) as u64)
    })
}

/// How often a followed project is looked at again for new containers.
const RESCAN: Duration = Duration::from_millis(250);

/// How long nothing may run (or wait for its restart) before `logs -f`
/// ends: a container being recreated is briefly not running.
const IDLE: Duration = Duration::from_secs(1);

/// Follow the logs until no selected container has run or waited for
/// its restart for [`IDLE`], or Ctrl-C; containers that appear (new
/// replicas, recreated ones) are followed too.
fn follow(
    session: &Session,
    services: &[String],
    printer: &mut LogPrinter,
    interrupts: &mut Interrupts,
) -> anyhow::Result<ExitCode> {
    let mut last_scan = Instant::now();
    let mut last_running = Instant::now();
    loop {
        std::thread::sleep(POLL);
        printer.print_new(None);
        if interrupts.pending() {
            return Ok(ExitCode::from(130));
        }
        if last_scan.elapsed() < RESCAN {
            continue;
        }
        last_scan = Instant::now();
        let snap = session.snapshot()?;
        let containers = session.containers(&snap, services);
        printer.add(&containers);
        let live = |c: &&ObservedContainer| c.status() == Status::Running || awaiting_restart(c);
        if containers.iter().any(live) {
            last_running = Instant::now();
        } else if last_running.elapsed() >= IDLE {
            printer.print_new(None);
            return Ok(ExitCode::SUCCESS);
        }
    }
}

/// Longer than the supervisor's longest restart back-off (a minute).
const RESTART_DUE: Duration = Duration::from_secs(65);

/// A container that exited lately and that its restart policy brings
/// back: the supervisor restarts it after a back-off that grows to a
/// minute, and its logs go on then.
pub fn awaiting_restart(c: &ObservedContainer) -> bool {
    let Some(state) = c.state.as_ref().filter(|s| s.status == Status::Stopped) else {
        return false;
    };
    let code = state.exit.map_or(0, |e| e.code);
    let recent = state
        .finished_at
        .as_deref()
        .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age < RESTART_DUE);
    recent && c.record.restart.should_restart(code, 0)
}

#[cfg(test)]
mod tests {
    use super::{point_in_time, rewrite_follow};
    use std::time::{Duration, SystemTime};

    #[test]
    fn since_and_until_read_like_docker() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let at = |t| point_in_time(t, now, "--since").unwrap();
        assert_eq!(at("42m"), now - Duration::from_secs(42 * 60));
        assert_eq!(at("1h30m"), now - Duration::from_secs(5400));
        let epoch = |s| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        assert_eq!(at("2023-11-14T22:13:20Z"), epoch(1_700_000_000));
        assert_eq!(at("2023-11-14T23:13:20+01:00"), epoch(1_700_000_000));
        assert_eq!(at("2023-11-14"), epoch(1_699_920_000));
        assert_eq!(at("1700000000"), epoch(1_700_000_000));
        let err = point_in_time("yesterday", now, "--until").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("--until \"yesterday\": not a time"),
            "{err}"
        );
    }

    fn rewrite(line: &str) -> String {
        let args = line.split(' ').map(Into::into).collect();
        rewrite_follow(args)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_short_f_after_logs_or_rm_is_theirs_not_the_file_flag() {
        assert_eq!(
            rewrite("compose -f a.yaml logs -f web"),
            "compose -f a.yaml logs --follow web"
        );
        assert_eq!(rewrite("compose -p rm rm -f"), "compose -p rm rm --force");
        assert_eq!(
            rewrite("compose exec web rm -f /x"),
            "compose exec web rm -f /x"
        );
        assert_eq!(rewrite("compose config -f x"), "compose config -f x");
    }
}
