//! The progress display of project operations (create, start, stop,
//! remove of containers, networks and volumes), in docker compose's modes
//! (`cmd/display`): `tty` redraws one line per object in place (a spinner
//! that becomes ✔ or ✘, the object's state and its elapsed time), `plain`
//! prints one line per event (`Creating`, then `Created`, as docker
//! compose's `plain` writer does), `quiet` prints nothing and `json`
//! prints one JSON object per event. Everything goes to stderr, as docker
//! compose's renderer writes there.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

/// `--progress`: how progress is shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// `tty` when stderr is a terminal (and ANSI is not disabled), else `plain`
    #[default]
    Auto,
    Tty,
    Plain,
    Quiet,
    Json,
}

/// A mode with `auto` decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    Tty,
    Plain,
    Quiet,
    Json,
}

/// A progress mode that cannot be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProgressError {
    #[error("{variable}={value:?} is not a progress mode: use auto, tty, plain, quiet or json")]
    Unknown {
        variable: &'static str,
        value: String,
    },
    #[error("--progress tty cannot be used with --ansi never: drop one of them")]
    TtyWithoutAnsi,
    #[error("--progress plain cannot be used with --ansi always: drop one of them")]
    PlainWithAnsi,
}

/// The environment variables read when `--progress` is not given, in
/// order: docker compose's own, then the BuildKit one its builds honour.
pub const ENV_VARS: [&str; 2] = ["COMPOSE_PROGRESS", "BUILDKIT_PROGRESS"];

/// Decide the display as docker compose's `selectEventProcessor` does.
/// `ansi` is `Some(false)` for `--ansi never`, `Some(true)` for
/// `--ansi always`; `env` looks up [`ENV_VARS`].
pub fn resolve(
    flag: Option<Mode>,
    env: impl Fn(&str) -> Option<String>,
    ansi: Option<bool>,
    stderr_is_terminal: bool,
) -> Result<Display, ProgressError> {
    let mode = match flag {
        Some(mode) => mode,
        None => from_env(env)?,
    };
    match (mode, ansi) {
        (Mode::Auto, Some(false)) => Ok(Display::Plain),
        (Mode::Auto, _) if stderr_is_terminal => Ok(Display::Tty),
        (Mode::Auto, _) => Ok(Display::Plain),
        (Mode::Tty, Some(false)) => Err(ProgressError::TtyWithoutAnsi),
        (Mode::Tty, _) => Ok(Display::Tty),
        (Mode::Plain, Some(true)) => Err(ProgressError::PlainWithAnsi),
        (Mode::Plain, _) => Ok(Display::Plain),
        (Mode::Quiet, _) => Ok(Display::Quiet),
        (Mode::Json, _) => Ok(Display::Json),
    }
}

fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Mode, ProgressError> {
    for variable in ENV_VARS {
        let Some(value) = env(variable).filter(|v| !v.is_empty()) else {
            continue;
        };
        // docker compose takes "none" for quiet.
        return match value.to_ascii_lowercase().as_str() {
            "auto" => Ok(Mode::Auto),
            "tty" => Ok(Mode::Tty),
            "plain" => Ok(Mode::Plain),
            "quiet" | "none" => Ok(Mode::Quiet),
            "json" => Ok(Mode::Json),
            _ => Err(ProgressError::Unknown { variable, value }),
        };
    }
    Ok(Mode::Auto)
}

/// Where a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Working,
    Done,
    Error,
}

impl Status {
    /// docker compose's `StatusText` in its JSON events.
    pub fn text(self) -> &'static str {
        match self {
            Status::Working => "Working",
            Status::Done => "Done",
            Status::Error => "Error",
        }
    }
}

/// One change of one object: `Container web-1` is `Starting` (working).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// "Container", "Network", "Volume".
    pub kind: String,
    pub name: String,
    /// The state as shown: "Starting", "Started".
    pub text: String,
    pub status: Status,
    /// An error's message.
    pub details: Option<String>,
}

impl Event {
    /// docker compose's resource id: `Container web-1`; a service's own
    /// events (its image pulled) have no kind and are named `web`.
    pub fn id(&self) -> String {
        if self.kind.is_empty() {
            self.name.clone()
        } else {
            format!("{} {}", self.kind, self.name)
        }
    }
}

/// The JSON object of one event, in docker compose's `jsonMessage` shape.
pub fn json_line(e: &Event) -> String {
    let mut object = serde_json::Map::new();
    object.insert("id".into(), e.id().into());
    object.insert("status".into(), e.status.text().into());
    object.insert("text".into(), e.text.clone().into());
    if let Some(details) = &e.details {
        object.insert("details".into(), details.clone().into());
    }
    serde_json::Value::Object(object).to_string()
}

/// The line plain mode prints for an event. docker compose's plain writer
/// prints every event, a step that begins (`Container x  Creating`,
/// `Waiting`) as well as its end, so a slow step shows what it waits on;
/// a finished step keeps its ✔ or ✘ mark.
pub fn plain_line(e: &Event, colour: bool) -> Option<String> {
    let style = |s: &str, c: console::Color| {
        console::style(s.to_string())
            .fg(c)
            .force_styling(colour)
            .to_string()
    };
    let id = e.id();
    match e.status {
        Status::Working => Some(format!(" {id}  {}", e.text)),
        Status::Done => Some(format!(
            " {} {id}  {}",
            style("✔", console::Color::Green),
            e.text
        )),
        Status::Error => Some(format!(
            " {} {id}  {}",
            style("✘", console::Color::Red),
            style(
                &format!("Error: {}", e.details.as_deref().unwrap_or(&e.text)),
                console::Color::Red
            )
        )),
    }
}

/// A progress display for one operation; [`Progress::finish`] ends it.
pub struct Progress {
    sink: Sink,
}

enum Sink {
    Tty(Box<Tty>),
    Lines {
        out: Box<dyn Write + Send>,
        json: bool,
        colour: bool,
    },
    Quiet,
}

impl Progress {
    /// A display on stderr.
    pub fn stderr(display: Display) -> Progress {
        let lines = |json| Sink::Lines {
            out: Box::new(std::io::stderr()),
            json,
            colour: console::colors_enabled_stderr(),
        };
        let sink = match display {
            Display::Tty => Sink::Tty(Box::new(Tty::new())),
            Display::Plain => lines(false),
            Display::Json => lines(true),
            Display::Quiet => Sink::Quiet,
        };
        Progress { sink }
    }

    /// A line-based display (plain or json) on `out`, for tests.
    pub fn lines(out: Box<dyn Write + Send>, json: bool) -> Progress {
        Progress {
            sink: Sink::Lines {
                out,
                json,
                colour: false,
            },
        }
    }

    pub fn event(&mut self, e: &Event) {
        match &mut self.sink {
            Sink::Tty(tty) => tty.event(e),
            Sink::Lines { out, json, colour } => {
                let line = if *json {
                    Some(json_line(e))
                } else {
                    plain_line(e, *colour)
                };
                if let Some(line) = line {
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                }
            }
            Sink::Quiet => {}
        }
    }

    /// End the display: the tty lines stay on the screen as they are.
    pub fn finish(self) {
        if let Sink::Tty(tty) = self.sink {
            tty.finish();
        }
    }
}

/// The in-place display: a `[+] Running n/m` header, then one line per
/// object, which keeps its place as the object goes from state to state.
struct Tty {
    multi: MultiProgress,
    header: ProgressBar,
    objects: HashMap<String, Object>,
}

/// One object's line, when it first showed up, and whether it is finished.
struct Object {
    bar: ProgressBar,
    since: Instant,
    finished: bool,
}

/// How often spinners and elapsed times are redrawn.
const TICK: Duration = Duration::from_millis(100);

impl Tty {
    fn new() -> Tty {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(20));
        let header = multi.add(ProgressBar::new_spinner());
        header.set_style(ProgressStyle::with_template("[+] {msg}").expect("template parses"));
        Tty {
            multi,
            header,
            objects: HashMap::new(),
        }
    }

    fn event(&mut self, e: &Event) {
        let id = e.id();
        let object = self.objects.entry(id.clone()).or_insert_with(|| Object {
            bar: self.multi.add(ProgressBar::new_spinner()),
            since: Instant::now(),
            finished: true,
        });
        match e.status {
            Status::Working => {
                if object.finished {
                    // A new step of the same object (created, now
                    // starting): the line spins again, its time goes on
                    // from the object's first step, as docker compose's.
                    object.bar.reset();
                    object.bar.set_style(working_style(object.since));
                    object.bar.enable_steady_tick(TICK);
                    object.finished = false;
                }
                object.bar.set_message(format!("{id}  {}", e.text));
            }
            Status::Done | Status::Error => {
                let secs = format!("{:.1}s", object.since.elapsed().as_secs_f64());
                let (mark, text) = if e.status == Status::Done {
                    (console::style("✔").green(), e.text.clone())
                } else {
                    let details = e.details.as_deref().unwrap_or(&e.text);
                    (
                        console::style("✘").red(),
                        console::style(format!("Error: {details}"))
                            .red()
                            .to_string(),
                    )
                };
                object
                    .bar
                    .set_style(finished_style(&mark.to_string(), &secs));
                object.bar.finish_with_message(format!("{id}  {text}"));
                object.finished = true;
            }
        }
        let done = self.objects.values().filter(|o| o.finished).count();
        self.header
            .set_message(format!("Running {done}/{}", self.objects.len()));
    }

    fn finish(self) {
        if self.objects.is_empty() {
            // Nothing was done: no `[+] Running 0/0` line.
            self.header.finish_and_clear();
            return;
        }
        for object in self.objects.values() {
            if !object.finished {
                object.bar.abandon();
            }
        }
        self.header.finish();
    }
}

/// A working object: spinner, id and state, and the time since `since`
/// at the right edge (`0.3s`), as docker compose's tty writer.
fn working_style(since: Instant) -> ProgressStyle {
    ProgressStyle::with_template(" {spinner:.cyan} {wide_msg} {secs:>6}")
        .expect("template parses")
        .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ")
        .with_key(
            "secs",
            move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.1}s", since.elapsed().as_secs_f64());
            },
        )
}

/// A finished object: its mark and its time, frozen.
fn finished_style(mark: &str, secs: &str) -> ProgressStyle {
    let template = format!(" {} {{wide_msg}} {:>6}", escape(mark), escape(secs));
    ProgressStyle::with_template(&template).expect("template parses")
}

/// indicatif templates read `{` and `}` as placeholders.
fn escape(text: &str) -> String {
    text.replace('{', "{{").replace('}', "}}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn auto_is_tty_on_a_terminal_unless_ansi_is_off() {
        assert_eq!(resolve(None, env(&[]), None, true), Ok(Display::Tty));
        assert_eq!(resolve(None, env(&[]), None, false), Ok(Display::Plain));
        assert_eq!(
            resolve(None, env(&[]), Some(false), true),
            Ok(Display::Plain)
        );
        assert_eq!(
            resolve(Some(Mode::Tty), env(&[]), Some(false), true),
            Err(ProgressError::TtyWithoutAnsi)
        );
        assert_eq!(
            resolve(Some(Mode::Plain), env(&[]), Some(true), false),
            Err(ProgressError::PlainWithAnsi)
        );
    }

    #[test]
    fn the_flag_wins_over_compose_progress_which_wins_over_buildkit() {
        let both = env(&[("COMPOSE_PROGRESS", "json"), ("BUILDKIT_PROGRESS", "quiet")]);
        assert_eq!(resolve(None, &both, None, true), Ok(Display::Json));
        assert_eq!(
            resolve(Some(Mode::Plain), &both, None, true),
            Ok(Display::Plain)
        );
        let buildkit = env(&[("BUILDKIT_PROGRESS", "none")]);
        assert_eq!(resolve(None, buildkit, None, true), Ok(Display::Quiet));
        let bad = env(&[("COMPOSE_PROGRESS", "fancy")]);
        assert_eq!(
            resolve(None, bad, None, true),
            Err(ProgressError::Unknown {
                variable: "COMPOSE_PROGRESS",
                value: "fancy".into()
            })
        );
    }

    fn event(text: &str, status: Status, details: Option<&str>) -> Event {
        Event {
            kind: "Container".into(),
            name: "p-web-1".into(),
            text: text.into(),
            status,
            details: details.map(Into::into),
        }
    }

    #[test]
    fn a_services_own_event_is_named_by_the_service() {
        let pulled = Event {
            kind: String::new(),
            name: "web".into(),
            text: "Pulled".into(),
            status: Status::Done,
            details: None,
        };
        assert_eq!(
            json_line(&pulled),
            r#"{"id":"web","status":"Done","text":"Pulled"}"#
        );
    }

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn render(json: bool, events: &[Event]) -> String {
        let out = Shared::default();
        let mut progress = Progress::lines(Box::new(out.clone()), json);
        for e in events {
            progress.event(e);
        }
        progress.finish();
        let bytes = out.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn plain_and_json_print_every_event() {
        let events = [
            event("Starting", Status::Working, None),
            event("Started", Status::Done, None),
            event("Stopping", Status::Error, Some("no such process")),
        ];
        assert_eq!(
            render(false, &events),
            concat!(
                " Container p-web-1  Starting\n",
                " ✔ Container p-web-1  Started\n",
                " ✘ Container p-web-1  Error: no such process\n"
            )
        );
        assert_eq!(
            render(true, &events),
            concat!(
                r#"{"id":"Container p-web-1","status":"Working","text":"Starting"}"#,
                "\n",
                r#"{"id":"Container p-web-1","status":"Done","text":"Started"}"#,
                "\n",
                r#"{"id":"Container p-web-1","status":"Error","text":"Stopping","details":"no such process"}"#,
                "\n"
            )
        );
    }
}
