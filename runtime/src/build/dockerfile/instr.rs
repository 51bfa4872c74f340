//! One logical line to one typed [`Instruction`], following the argument
//! shapes of BuildKit's dispatch table (`parser/parser.go`
//! `dispatchTable`, `instructions/parse.go`).

use super::ast::*;
use super::error::{Location, ParseError};
use super::flags::{self, parse_go_duration, Flags};
use super::lines::{heredoc_marker, LogicalLine};
use super::words::{json_array, split_words, take_flags};

/// Every instruction keyword, for "did you mean".
pub const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Parse one logical line.
pub fn instruction(file: &str, line: LogicalLine, escape: char) -> Result<Instruction, ParseError> {
    let at = Location {
        file: file.to_string(),
        line: line.line,
    };
    let command = command(&at, &line.text, line.heredocs, escape)?;
    Ok(Instruction {
        line: line.line,
        end_line: line.end_line,
        source: line.text.trim().to_string(),
        command,
    })
}

fn command(
    at: &Location,
    text: &str,
    heredocs: Vec<Heredoc>,
    escape: char,
) -> Result<Command, ParseError> {
    let text = text.trim();
    let (word, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let keyword = keyword(at, word)?;
    let (raw_flags, args) = take_flags(rest);
    let args = args.trim();
    let known: &'static [&'static str] = match keyword {
        "FROM" => flags::FROM,
        "RUN" => flags::RUN,
        "COPY" => flags::COPY,
        "ADD" => flags::ADD,
        "HEALTHCHECK" => flags::HEALTHCHECK,
        _ => &[],
    };
    let f = Flags::new(at, keyword, known, raw_flags)?;
    let missing = |expected| ParseError::MissingArguments {
        at: at.clone(),
        instruction: keyword,
        expected,
    };
    let required = |expected| {
        if args.is_empty() {
            Err(missing(expected))
        } else {
            Ok(args.to_string())
        }
    };
    Ok(match keyword {
        "FROM" => Command::From(from(at, args, &f, escape)?),
        "RUN" => Command::Run(Run {
            command: command_line(&required("a command")?),
            heredocs,
            mounts: f.list("mount")?,
            network: f.string("network")?,
            security: f.string("security")?,
        }),
        "COPY" | "ADD" => {
            let mut c = copy(args, heredocs).ok_or_else(|| missing("sources and a destination"))?;
            c.chown = f.string("chown")?;
            c.chmod = f.string("chmod")?;
            c.link = f.boolean("link")?;
            c.exclude = f.list("exclude")?;
            if keyword == "COPY" {
                c.from = f.string("from")?;
                c.parents = f.boolean("parents")?;
                Command::Copy(c)
            } else {
                c.keep_git_dir = f.boolean("keep-git-dir")?;
                c.checksum = f.string("checksum")?;
                Command::Add(c)
            }
        }
        "ENV" => Command::Env(key_values(at, "ENV", args, escape)?),
        "LABEL" => Command::Label(key_values(at, "LABEL", args, escape)?),
        "ARG" => Command::Arg(arg_decls(&required("a name")?, escape)),
        "WORKDIR" => Command::Workdir(required("a directory")?),
        "USER" => Command::User(required("a user")?),
        "STOPSIGNAL" => Command::StopSignal(required("a signal")?),
        "MAINTAINER" => Command::Maintainer(required("a name")?),
        "EXPOSE" => Command::Expose(words_or_json(&required("a port")?)),
        "VOLUME" => Command::Volume(words_or_json(&required("a path")?)),
        "CMD" => Command::Cmd(command_line(&required("a command")?)),
        "ENTRYPOINT" => Command::Entrypoint(command_line(&required("a command")?)),
        "SHELL" => Command::Shell(json_array(args).filter(|v| !v.is_empty()).ok_or_else(|| {
            ParseError::NeedsJson {
                at: at.clone(),
                instruction: "SHELL",
                example: r#"SHELL ["/bin/sh", "-c"]"#,
            }
        })?),
        "HEALTHCHECK" => Command::Healthcheck(healthcheck(at, args, &f)?),
        "ONBUILD" => Command::Onbuild(Box::new(onbuild(
            at,
            &required("an instruction")?,
            heredocs,
            escape,
        )?)),
        _ => unreachable!("keyword() only returns KEYWORDS"),
    })
}

/// The canonical keyword, or an error with the closest known one.
fn keyword(at: &Location, word: &str) -> Result<&'static str, ParseError> {
    let upper = word.to_ascii_uppercase();
    if let Some(k) = KEYWORDS.iter().find(|k| **k == upper) {
        return Ok(k);
    }
    let suggestion = KEYWORDS
        .iter()
        .map(|k| (strsim::levenshtein(k, &upper), *k))
        .filter(|(d, k)| *d <= 2 && *d < k.len())
        .min()
        .map(|(_, k)| k.to_string());
    Err(ParseError::UnknownInstruction {
        at: at.clone(),
        name: word.to_string(),
        suggestion,
    })
}

fn from(at: &Location, args: &str, f: &Flags, escape: char) -> Result<From, ParseError> {
    let words = split_words(args, escape);
    let bad = || ParseError::BadFrom {
        at: at.clone(),
        text: args.to_string(),
    };
    let (image, alias) = match words.as_slice() {
        [image] => (image.clone(), None),
        [image, as_kw, name] if as_kw.eq_ignore_ascii_case("as") => {
            (image.clone(), Some(stage_name(at, name)?))
        }
        _ => return Err(bad()),
    };
    Ok(From {
        image,
        platform: f.string("platform")?,
        alias,
    })
}

/// BuildKit: `^[a-z][a-z0-9-_.]*$` after lower-casing.
fn stage_name(at: &Location, name: &str) -> Result<String, ParseError> {
    let lower = name.to_ascii_lowercase();
    let mut chars = lower.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
    if ok {
        Ok(lower)
    } else {
        Err(ParseError::BadStageName {
            at: at.clone(),
            name: name.to_string(),
        })
    }
}

fn command_line(args: &str) -> CommandLine {
    match json_array(args) {
        Some(v) => CommandLine::Exec(v),
        None => CommandLine::Shell(args.to_string()),
    }
}

fn words_or_json(args: &str) -> Vec<String> {
    json_array(args).unwrap_or_else(|| args.split_whitespace().map(str::to_string).collect())
}

/// COPY/ADD operands: JSON or blank-separated words (BuildKit splits these
/// on blanks only, quotes are left to expansion); heredoc markers become
/// heredoc sources.
fn copy(args: &str, heredocs: Vec<Heredoc>) -> Option<Copy> {
    let mut words = words_or_json(args);
    let dest = words.pop()?;
    let sources: Vec<String> = if heredocs.is_empty() {
        words
    } else {
        words
            .into_iter()
            .filter(|w| heredoc_marker(w).is_none())
            .collect()
    };
    if sources.is_empty() && heredocs.is_empty() {
        return None;
    }
    Some(Copy {
        sources,
        dest,
        heredocs,
        ..Copy::default()
    })
}

/// ENV/LABEL: `KEY VALUE` (one pair, the value is the rest of the line) or
/// `KEY=VALUE ...` (BuildKit `parseNameVal`).
fn key_values(
    at: &Location,
    instruction: &'static str,
    args: &str,
    escape: char,
) -> Result<Vec<KeyValue>, ParseError> {
    let words = split_words(args, escape);
    let missing = || ParseError::MissingValue {
        at: at.clone(),
        instruction,
    };
    let first = words.first().ok_or_else(missing)?;
    if !first.contains('=') {
        let (key, value) = args.split_once(char::is_whitespace).ok_or_else(missing)?;
        return Ok(vec![KeyValue {
            key: key.to_string(),
            value: value.trim_start().to_string(),
        }]);
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok(KeyValue {
                key: k.to_string(),
                value: v.to_string(),
            }),
            _ => Err(ParseError::NotKeyValue {
                at: at.clone(),
                instruction,
                word: w.clone(),
            }),
        })
        .collect()
}

fn arg_decls(args: &str, escape: char) -> Vec<ArgDecl> {
    split_words(args, escape)
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((n, d)) => ArgDecl {
                name: n.to_string(),
                default: Some(d.to_string()),
            },
            None => ArgDecl {
                name: w,
                default: None,
            },
        })
        .collect()
}

fn healthcheck(at: &Location, args: &str, f: &Flags) -> Result<Healthcheck, ParseError> {
    let bad = |reason: String| ParseError::BadHealthcheck {
        at: at.clone(),
        reason,
    };
    let (first, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    if first.eq_ignore_ascii_case("NONE") {
        if !rest.trim().is_empty() {
            return Err(bad("NONE takes no arguments".into()));
        }
        return Ok(Healthcheck::None);
    }
    if !first.eq_ignore_ascii_case("CMD") || rest.trim().is_empty() {
        return Err(bad("expects `NONE` or `[OPTIONS] CMD command`".into()));
    }
    let duration = |name: &str| -> Result<_, ParseError> {
        f.string(name)?
            .map(|v| {
                parse_go_duration(&v).ok_or_else(|| {
                    bad(format!(
                        "--{name}=`{v}` is not a duration like 30s or 1m30s"
                    ))
                })
            })
            .transpose()
    };
    let retries = f
        .string("retries")?
        .map(|v| {
            v.parse::<u32>()
                .map_err(|_| bad(format!("--retries=`{v}` is not a whole number")))
        })
        .transpose()?;
    Ok(Healthcheck::Check {
        test: command_line(rest.trim()),
        interval: duration("interval")?,
        timeout: duration("timeout")?,
        start_period: duration("start-period")?,
        start_interval: duration("start-interval")?,
        retries,
    })
}

fn onbuild(
    at: &Location,
    args: &str,
    heredocs: Vec<Heredoc>,
    escape: char,
) -> Result<Instruction, ParseError> {
    let inner = command(at, args, heredocs, escape)?;
    if let Command::Onbuild(_) | Command::From(_) | Command::Maintainer(_) = inner {
        return Err(ParseError::BadOnbuild {
            at: at.clone(),
            inner: inner.keyword(),
        });
    }
    Ok(Instruction {
        line: at.line,
        end_line: at.line,
        source: args.to_string(),
        command: inner,
    })
}
