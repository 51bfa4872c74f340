//! `docker compose top`: the processes of a container (every pid of its
//! cgroup, which an exec joins too), in the columns `ps -ef` prints,
//! since that is what Docker runs on the host for `top`:
//! UID PID PPID C STIME TTY TIME CMD (procps' rules for each, proc(5)
//! for the fields of /proc/<pid>/stat).

use crate::container::create::Container;
use crate::container::error::ContainerError;
use crate::sys::time::{clock_ticks, local_time};

/// The column titles, in order.
pub const TITLES: [&str; 8] = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"];

/// One process, formatted as `ps -ef` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessRow {
    pub uid: String,
    pub pid: i32,
    pub ppid: i32,
    pub c: u64,
    pub stime: String,
    pub tty: String,
    pub time: String,
    pub cmd: String,
}

impl ProcessRow {
    /// The cells in [`TITLES`] order.
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.uid.clone(),
            self.pid.to_string(),
            self.ppid.to_string(),
            self.c.to_string(),
            self.stime.clone(),
            self.tty.clone(),
            self.time.clone(),
            self.cmd.clone(),
        ]
    }
}

/// The fields of /proc/<pid>/stat `top` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stat {
    comm: String,
    ppid: i32,
    tty_nr: u64,
    /// utime + stime, in clock ticks.
    cpu_ticks: u64,
    /// Since boot, in clock ticks.
    start_ticks: u64,
}

/// Parse /proc/<pid>/stat. The command name is in parentheses and may
/// itself contain spaces and parentheses, so fields are counted from the
/// last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is field 3 (state).
    let field = |n: usize| rest.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    Some(Stat {
        comm,
        ppid: rest.get(1)?.parse().ok()?,
        tty_nr: field(7)?,
        cpu_ticks: field(14)? + field(15)?,
        start_ticks: field(22)?,
    })
}

/// procps' TTY column: `pts/N` for Unix98 pseudo-terminals, `ttyN` and
/// `ttySN` for consoles and serial lines, `?` without one.
fn tty_name(tty_nr: u64) -> String {
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    match major {
        0 => "?".to_string(),
        136..=143 => format!("pts/{}", minor + (major - 136) * 256),
        4 if minor < 64 => format!("tty{minor}"),
        4 => format!("ttyS{}", minor - 64),
        _ => format!("{major},{minor}"),
    }
}

/// `ps`'s TIME: cumulative CPU time as `[DD-]HH:MM:SS`.
fn cpu_time(secs: u64) -> String {
    let (days, rest) = (secs / 86400, secs % 86400);
    let hms = format!(
        "{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    );
    if days > 0 {
        format!("{days}-{hms}")
    } else {
        hms
    }
}

/// `ps`'s C: CPU use over the process's lifetime in percent, at most 99.
fn cpu_percent(cpu_ticks: u64, elapsed_ticks: u64) -> u64 {
    if elapsed_ticks == 0 {
        return 0;
    }
    (cpu_ticks * 100 / elapsed_ticks).min(99)
}

/// `ps`'s STIME: `HH:MM` within the last 24 hours, `MonDD` within the
/// year, else the year.
fn start_time(start: i64, now: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (Some(s), Some(n)) = (local_time(start), local_time(now)) else {
        return "?".to_string();
    };
    if now - start < 24 * 3600 {
        format!("{:02}:{:02}", s.hour, s.minute)
    } else if s.year == n.year {
        format!("{}{:02}", MONTHS[s.month as usize % 12], s.day)
    } else {
        s.year.to_string()
    }
}

/// The effective uid from /proc/<pid>/status (`Uid: real effective ...`).
fn effective_uid(status: &str) -> Option<u32> {
    let line = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A uid as `ps` shows it: the host's user name, else the number.
fn user_name(uid: u32) -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map_or_else(|| uid.to_string(), |u| u.name)
}

/// Seconds since the epoch at boot (`btime` of /proc/stat).
fn boot_time() -> Option<i64> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

/// One process's row; `None` when it exited while we looked.
fn process_row(pid: i32, hz: u64, boot: i64, now: i64) -> Option<ProcessRow> {
    let stat = parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let started = boot + (stat.start_ticks / hz) as i64;
    let uptime_ticks = ((now - boot).max(0) as u64) * hz;
    Some(ProcessRow {
        uid: effective_uid(&status).map_or_else(|| "?".to_string(), user_name),
        pid,
        ppid: stat.ppid,
        c: cpu_percent(
            stat.cpu_ticks,
            uptime_ticks.saturating_sub(stat.start_ticks),
        ),
        stime: start_time(started, now),
        tty: tty_name(stat.tty_nr),
        time: cpu_time(stat.cpu_ticks / hz),
        cmd: if args.is_empty() {
            format!("[{}]", stat.comm)
        } else {
            args.join(" ")
        },
    })
}

impl Container {
    /// The container's processes (pids as the host sees them), by pid.
    pub fn top(&self) -> Result<Vec<ProcessRow>, ContainerError> {
        let pids = self
            .cgroup
            .pids()
            .map_err(|source| ContainerError::Cgroup {
                id: self.id.clone(),
                source,
            })?;
        let hz = clock_ticks();
        let boot = boot_time().unwrap_or(0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Ok(pids
            .into_iter()
            .filter_map(|pid| process_row(pid, hz, boot, now))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        let text = "42 (sh (x) y) S 7 42 42 34816 42 4194560 1 2 3 4 150 50 0 0 20 0 1 0 12345 0 0";
        let stat = parse_stat(text).unwrap();
        assert_eq!(stat.comm, "sh (x) y");
        assert_eq!(stat.ppid, 7);
        assert_eq!(stat.tty_nr, 34816);
        assert_eq!(stat.cpu_ticks, 200);
        assert_eq!(stat.start_ticks, 12345);
    }

    #[test]
    fn terminals_are_named_as_ps_names_them() {
        assert_eq!(tty_name(0), "?");
        assert_eq!(tty_name(34816), "pts/0");
        assert_eq!(tty_name((136 << 8) | 5), "pts/5");
        assert_eq!(tty_name((4 << 8) | 1), "tty1");
        assert_eq!(tty_name((4 << 8) | 65), "ttyS1");
    }

    #[test]
    fn cpu_columns() {
        assert_eq!(cpu_time(0), "00:00:00");
        assert_eq!(cpu_time(3725), "01:02:05");
        assert_eq!(cpu_time(90061), "1-01:01:01");
        assert_eq!(cpu_percent(50, 100), 50);
        assert_eq!(cpu_percent(500, 100), 99);
        assert_eq!(cpu_percent(5, 0), 0);
    }

    #[test]
    fn effective_uid_is_the_second_field() {
        assert_eq!(
            effective_uid("Name:\tsh\nUid:\t0\t1000\t1000\t1000\n"),
            Some(1000)
        );
    }

    #[test]
    fn start_time_within_a_day_is_a_clock_time() {
        let now = 1_700_000_000;
        let text = start_time(now - 60, now);
        assert_eq!(text.len(), 5, "{text}");
        assert_eq!(&text[2..3], ":");
        let old = start_time(now - 400 * 86400, now);
        assert_eq!(old.len(), 4, "{old}");
    }
}
