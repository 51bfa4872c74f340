//! The typed Dockerfile syntax tree. Values are kept as written (quotes and
//! `$VAR` references included) wherever the builder expands them later
//! (`build::expand`), because expansion depends on the stage's ARG and ENV
//! state at that instruction.

use std::time::Duration;

/// A parsed Dockerfile: its parser directives, the ARGs before the first
/// FROM (global, usable in FROM lines), and its stages in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Dockerfile {
    /// The name used in error messages (usually the path as given).
    pub file: String,
    pub directives: Directives,
    /// `ARG` instructions before the first `FROM`.
    pub global_args: Vec<Instruction>,
    pub stages: Vec<Stage>,
}

/// Parser directives (`# syntax=`, `# escape=`, `# check=`) from the top of
/// the file. Unknown directives are ignored, as BuildKit does.
#[derive(Debug, Clone, PartialEq)]
pub struct Directives {
    pub syntax: Option<String>,
    pub escape: char,
    pub check: Option<String>,
}

impl Default for Directives {
    fn default() -> Self {
        Directives {
            syntax: None,
            escape: '\\',
            check: None,
        }
    }
}

/// One build stage: its FROM and the instructions up to the next FROM.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// The FROM line.
    pub line: usize,
    pub from: From,
    pub instructions: Vec<Instruction>,
}

impl Stage {
    /// The stage name (`AS name`), lower-cased as BuildKit compares them.
    pub fn name(&self) -> Option<&str> {
        self.from.alias.as_deref()
    }
}

/// One instruction with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Instruction {
    /// First line of the instruction (1-based).
    pub line: usize,
    /// Last line, including continuation and heredoc lines.
    pub end_line: usize,
    /// The instruction as written, continuations joined (for history and
    /// cache keys), heredoc bodies excluded.
    pub source: String,
    pub command: Command,
}

/// What an instruction does.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    From(From),
    Run(Run),
    Copy(Copy),
    Add(Copy),
    Env(Vec<KeyValue>),
    Arg(Vec<ArgDecl>),
    Label(Vec<KeyValue>),
    Workdir(String),
    User(String),
    Expose(Vec<String>),
    Volume(Vec<String>),
    Cmd(CommandLine),
    Entrypoint(CommandLine),
    Shell(Vec<String>),
    StopSignal(String),
    Healthcheck(Healthcheck),
    Onbuild(Box<Instruction>),
    /// Deprecated; the builder turns it into the `author` config field.
    Maintainer(String),
}

impl Command {
    /// The instruction keyword, upper-case.
    pub fn keyword(&self) -> &'static str {
        match self {
            Command::From(_) => "FROM",
            Command::Run(_) => "RUN",
            Command::Copy(_) => "COPY",
            Command::Add(_) => "ADD",
            Command::Env(_) => "ENV",
            Command::Arg(_) => "ARG",
            Command::Label(_) => "LABEL",
            Command::Workdir(_) => "WORKDIR",
            Command::User(_) => "USER",
            Command::Expose(_) => "EXPOSE",
            Command::Volume(_) => "VOLUME",
            Command::Cmd(_) => "CMD",
            Command::Entrypoint(_) => "ENTRYPOINT",
            Command::Shell(_) => "SHELL",
            Command::StopSignal(_) => "STOPSIGNAL",
            Command::Healthcheck(_) => "HEALTHCHECK",
            Command::Onbuild(_) => "ONBUILD",
            Command::Maintainer(_) => "MAINTAINER",
        }
    }
}

/// `FROM [--platform=P] IMAGE [AS NAME]`.
#[derive(Debug, Clone, PartialEq)]
pub struct From {
    /// The image (or earlier stage name, or `scratch`), unexpanded.
    pub image: String,
    pub platform: Option<String>,
    /// Lower-cased stage name.
    pub alias: Option<String>,
}

/// Exec form (`["a", "b"]`, no shell) or shell form (run by the SHELL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandLine {
    Exec(Vec<String>),
    Shell(String),
}

/// A heredoc body attached to RUN, COPY or ADD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter word, quotes removed.
    pub name: String,
    /// The body, each line ending in `\n`; leading tabs already removed
    /// for `<<-`.
    pub content: String,
    /// False when the delimiter was quoted: the body is taken literally.
    pub expand: bool,
    /// `<<-`: leading tabs were stripped.
    pub chomp: bool,
    /// A file descriptor prefix (`3<<EOF`), if any.
    pub fd: Option<u32>,
}

/// `RUN [--mount=...] [--network=...] [--security=...] COMMAND`.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub command: CommandLine,
    pub heredocs: Vec<Heredoc>,
    /// `--mount` values, in order, as written (`type=cache,target=/x`).
    pub mounts: Vec<String>,
    pub network: Option<String>,
    pub security: Option<String>,
}

impl Run {
    /// `RUN <<EOF` with nothing but the heredoc: BuildKit runs the body as
    /// a script instead of a command line.
    pub fn is_heredoc_script(&self) -> bool {
        match (&self.command, self.heredocs.as_slice()) {
            (CommandLine::Shell(s), [doc]) => {
                let marker = s.trim().trim_start_matches(|c: char| c.is_ascii_digit());
                marker
                    .strip_prefix("<<")
                    .map(|m| m.trim_start_matches('-').trim_matches(['"', '\'']))
                    == Some(doc.name.as_str())
            }
            _ => false,
        }
    }
}

/// `COPY`/`ADD` sources and destination with their flags.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Copy {
    /// Sources as written (unexpanded); heredoc sources are in `heredocs`.
    pub sources: Vec<String>,
    pub dest: String,
    pub heredocs: Vec<Heredoc>,
    /// `--from`: a stage name, stage index or image (COPY only).
    pub from: Option<String>,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    pub link: bool,
    pub parents: bool,
    pub exclude: Vec<String>,
    /// `--keep-git-dir` (ADD only).
    pub keep_git_dir: bool,
    /// `--checksum` (ADD only).
    pub checksum: Option<String>,
}

/// One `KEY=VALUE` of ENV or LABEL; both kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

/// One `NAME` or `NAME=DEFAULT` of ARG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDecl {
    pub name: String,
    pub default: Option<String>,
}

/// `HEALTHCHECK NONE` or `HEALTHCHECK [OPTIONS] CMD ...`.
#[derive(Debug, Clone, PartialEq)]
pub enum Healthcheck {
    None,
    Check {
        test: CommandLine,
        interval: Option<Duration>,
        timeout: Option<Duration>,
        start_period: Option<Duration>,
        start_interval: Option<Duration>,
        retries: Option<u32>,
    },
}
