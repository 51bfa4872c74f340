//! Errors of the Dockerfile parser: every variant names the file and line
//! (`Dockerfile:12`) so a user can jump to the mistake.

use std::fmt;
use std::path::PathBuf;

/// Where in a Dockerfile something was written (1-based line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// Why a Dockerfile could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("cannot read Dockerfile `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{at}: unknown instruction `{name}`{}", did_you_mean(suggestion))]
    UnknownInstruction {
        at: Location,
        name: String,
        suggestion: Option<String>,
    },
    #[error("{at}: {instruction} needs {expected}")]
    MissingArguments {
        at: Location,
        instruction: &'static str,
        expected: &'static str,
    },
    #[error(
        "{at}: {instruction} does not accept flag `--{flag}`{}",
        known_flags(known)
    )]
    UnknownFlag {
        at: Location,
        instruction: &'static str,
        flag: String,
        known: &'static [&'static str],
    },
    #[error("{at}: flag `--{flag}` of {instruction} needs a value (`--{flag}=VALUE`)")]
    FlagNeedsValue {
        at: Location,
        instruction: &'static str,
        flag: String,
    },
    #[error("{at}: flag `--{flag}` of {instruction} is given twice")]
    DuplicateFlag {
        at: Location,
        instruction: &'static str,
        flag: String,
    },
    #[error("{at}: flag `--{flag}` expects true or false, not `{value}`")]
    BadBoolFlag {
        at: Location,
        flag: String,
        value: String,
    },
    #[error("{at}: parser directive `{name}` is given twice; keep one")]
    DuplicateDirective { at: Location, name: String },
    #[error("{at}: escape directive must be `\\` or a backtick, not `{value}`")]
    BadEscape { at: Location, value: String },
    #[error("{at}: heredoc `<<{delimiter}` is never closed; end it with a line holding only `{delimiter}`")]
    UnterminatedHeredoc { at: Location, delimiter: String },
    #[error(
        "{at}: {instruction} expects `NAME=VALUE`, got `{word}` (quote values that contain spaces)"
    )]
    NotKeyValue {
        at: Location,
        instruction: &'static str,
        word: String,
    },
    #[error("{at}: {instruction} needs a name and a value (`{instruction} NAME VALUE` or `{instruction} NAME=VALUE`)")]
    MissingValue {
        at: Location,
        instruction: &'static str,
    },
    #[error("{at}: FROM expects `FROM [--platform=P] IMAGE [AS NAME]`, got `{text}`")]
    BadFrom { at: Location, text: String },
    #[error("{at}: stage name `{name}` must start with a letter and hold only letters, digits, `-`, `_` and `.`")]
    BadStageName { at: Location, name: String },
    #[error("{at}: {instruction} comes before the first FROM; only ARG may come before FROM")]
    BeforeFrom {
        at: Location,
        instruction: &'static str,
    },
    #[error("{at}: {instruction} must use the JSON form, e.g. {example}")]
    NeedsJson {
        at: Location,
        instruction: &'static str,
        example: &'static str,
    },
    #[error("{at}: the base image's ONBUILD trigger `{text}` is not one instruction")]
    BadTrigger { at: Location, text: String },
    #[error("{at}: {inner} is not allowed as an ONBUILD trigger")]
    BadOnbuild { at: Location, inner: &'static str },
    #[error("{at}: HEALTHCHECK {reason}")]
    BadHealthcheck { at: Location, reason: String },
    #[error("{at}: the Dockerfile has no FROM instruction")]
    NoStages { at: Location },
}

fn did_you_mean(s: &Option<String>) -> String {
    match s {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => String::new(),
    }
}

fn known_flags(known: &[&str]) -> String {
    if known.is_empty() {
        " (it takes no flags)".to_string()
    } else {
        let list: Vec<String> = known.iter().map(|f| format!("--{f}")).collect();
        format!(" (known: {})", list.join(", "))
    }
}
