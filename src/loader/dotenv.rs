//! Reading dotenv files (`.env`, `--env-file`, `.env.NAME`, a service's
//! `env_file:`), keeping the line each variable was set on so `compose env`
//! can say where a value came from.
//!
//! The syntax is compose-go's `dotenv` package (a port of Ruby's dotenv),
//! which is what docker compose reads; its tests are our spec:
//! - `KEY=value`, `KEY: value`, an optional `export ` prefix, spaces around
//!   the separator; key characters are letters, digits, `_ . - [ ]`;
//! - unquoted values run to the end of the line, lose trailing spaces and an
//!   inline comment that starts with ` #`;
//! - `'single'` quotes are literal (only `\'` is unescaped) and may span lines;
//! - `"double"` quotes may span lines and understand `\a \b \f \n \r \t \v
//!   \\ \" \$` and `\0NNN` octal escapes;
//! - unquoted and double-quoted values expand `${VAR}` with the full
//!   interpolation grammar, looking first at the caller's lookup (the shell
//!   environment) and then at variables set earlier;
//! - a line holding only `KEY` takes the value from the lookup, or is
//!   skipped when the lookup has none;
//! - a UTF-8 byte-order mark is ignored.
//!
//! Why not the `dotenvy` crate: it has no `KEY: value` form, no `${VAR:?}`
//! / `${VAR:+}` operators and a different expansion order (it does not
//! consult the shell before earlier lines), so files would load with other
//! values than under docker compose.
//!
//! One deliberate difference: compose-go reads a last line `KEY` that has no
//! newline as an entry with an empty key; we read it as `KEY` alone, like the
//! same line followed by a newline.

mod raw;

pub use raw::parse_raw;

use super::interpolate::template::{self, Resolver, TemplateError};
use indexmap::IndexMap;
use std::path::{Path, PathBuf};

/// The formats an env file can be read in (`env_file: {format: ...}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The default: compose-go's dotenv syntax, with interpolation.
    Dotenv,
    /// `docker run --env-file` lines, taken verbatim.
    Raw,
}

impl Format {
    /// The format named in a Compose file: none or `.env` is dotenv, `raw`
    /// is raw; anything else is unknown (`None`).
    pub fn from_name(name: Option<&str>) -> Option<Format> {
        match name {
            None | Some(".env") => Some(Format::Dotenv),
            Some("raw") => Some(Format::Raw),
            Some(_) => None,
        }
    }
}

/// One assignment of an env file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvEntry {
    pub key: String,
    /// `None` for a bare `KEY` line the lookup had no value for.
    pub value: Option<String>,
    /// 1-based line the key is written on.
    pub line: usize,
}

/// What is wrong in an env file's text, with the 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    #[error("line {line}: unexpected character {character:?} in variable name {text:?}")]
    UnexpectedCharacter {
        line: usize,
        character: char,
        text: String,
    },
    #[error("line {line}: key {key:?} cannot contain a space")]
    SpaceInKey { line: usize, key: String },
    #[error("line {line}: no variable name before `=` in {text:?}")]
    NoVariableName { line: usize, text: String },
    #[error("line {line}: not valid UTF-8")]
    InvalidUtf8 { line: usize },
    #[error("line {line}: unterminated quoted value {text}")]
    UnterminatedQuote { line: usize, text: String },
    #[error(
        "line {line}: invalid interpolation format in {value:?} (write `$$` for a literal `$`)"
    )]
    InvalidInterpolation { line: usize, value: String },
    #[error("line {line}: required variable {variable} is missing a value{}", if .reason.is_empty() { String::new() } else { format!(": {}", .reason) })]
    MissingRequired {
        line: usize,
        variable: String,
        reason: String,
    },
}

/// Reading an env file failed.
#[derive(Debug, thiserror::Error)]
pub enum EnvFileError {
    #[error("env file {} not found: check the path, or mark it `required: false`", .path.display())]
    NotFound { path: PathBuf },
    #[error("env file {} is a directory, not a file", .path.display())]
    IsADirectory { path: PathBuf },
    #[error("cannot read env file {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{}", .path.display(), .source)]
    Syntax { path: PathBuf, source: SyntaxError },
}

/// Read and parse an env file. `lookup` is consulted first when expanding
/// `${VAR}` and for bare `KEY` lines; `vars` holds variables set before this
/// file (earlier env files) and receives this file's values.
pub fn read_env_file(
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
    vars: &mut IndexMap<String, String>,
) -> Result<Vec<EnvEntry>, EnvFileError> {
    read_env_file_as(path, Format::Dotenv, lookup, vars)
}

/// [`read_env_file`] in a given format.
pub fn read_env_file_as(
    path: &Path,
    format: Format,
    lookup: &dyn Fn(&str) -> Option<String>,
    vars: &mut IndexMap<String, String>,
) -> Result<Vec<EnvEntry>, EnvFileError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(EnvFileError::NotFound {
                path: path.to_path_buf(),
            })
        }
        Err(_) if path.is_dir() => {
            return Err(EnvFileError::IsADirectory {
                path: path.to_path_buf(),
            })
        }
        Err(source) => {
            return Err(EnvFileError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let parsed = match format {
        Format::Dotenv => parse_into(&String::from_utf8_lossy(&bytes), lookup, vars),
        Format::Raw => parse_raw(&bytes, lookup).inspect(|entries| {
            for e in entries {
                if let Some(v) = &e.value {
                    vars.insert(e.key.clone(), v.clone());
                }
            }
        }),
    };
    parsed.map_err(|source| EnvFileError::Syntax {
        path: path.to_path_buf(),
        source,
    })
}

/// Parse env-file text on its own (no earlier variables).
pub fn parse_str(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<EnvEntry>, SyntaxError> {
    parse_into(text, lookup, &mut IndexMap::new())
}

/// Parse env-file text; values set are also written into `vars`.
pub fn parse_into(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    vars: &mut IndexMap<String, String>,
) -> Result<Vec<EnvEntry>, SyntaxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser {
        text,
        pos: 0,
        lookup,
        vars,
        entries: Vec::new(),
    };
    parser.run()?;
    Ok(parser.entries)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    vars: &'a mut IndexMap<String, String>,
    entries: Vec<EnvEntry>,
}

/// compose-go's "space" inside a line: not a line break.
fn is_inline_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

fn is_key_char(c: char) -> bool {
    matches!(c, '_' | '.' | '-' | '[' | ']') || c.is_alphanumeric()
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn line_at(&self, pos: usize) -> usize {
        self.text[..pos].matches('\n').count() + 1
    }

    fn run(&mut self) -> Result<(), SyntaxError> {
        while self.skip_to_statement() {
            let line = self.line_at(self.pos);
            let (key, inherited) = self.key(line)?;
            let value = if inherited {
                (self.lookup)(&key).or_else(|| self.vars.get(&key).cloned())
            } else {
                Some(self.value(line)?)
            };
            if let Some(v) = &value {
                self.vars.insert(key.clone(), v.clone());
            }
            self.entries.push(EnvEntry { key, value, line });
        }
        Ok(())
    }

    /// Skip blank space and comment lines; false at the end of the text.
    fn skip_to_statement(&mut self) -> bool {
        loop {
            let rest = self.rest();
            let Some(start) = rest.find(|c: char| !c.is_whitespace()) else {
                self.pos = self.text.len();
                return false;
            };
            self.pos += start;
            if !self.rest().starts_with('#') {
                return true;
            }
            match self.rest().find('\n') {
                Some(nl) => self.pos += nl,
                None => {
                    self.pos = self.text.len();
                    return false;
                }
            }
        }
    }

    /// The key of the statement at `pos`, and whether it is a bare `KEY`
    /// line; leaves `pos` at the start of the value.
    fn key(&mut self, line: usize) -> Result<(String, bool), SyntaxError> {
        self.skip_export();
        let rest = self.rest();
        let mut end = None;
        for (i, c) in rest.char_indices() {
            if is_inline_space(c) || is_key_char(c) {
                continue;
            }
            match c {
                '=' | ':' | '\n' => {
                    end = Some((i, c));
                    break;
                }
                _ => {
                    return Err(SyntaxError::UnexpectedCharacter {
                        line,
                        character: c,
                        text: rest.lines().next().unwrap_or("").to_string(),
                    })
                }
            }
        }
        // The end of the text ends a bare `KEY` line too (see module docs).
        let (key_end, inherited, value_start) = match end {
            Some((i, c)) => (i, c == '\n', i + c.len_utf8()),
            None => (rest.len(), true, rest.len()),
        };
        let key = rest[..key_end].trim_end().to_string();
        if key.contains(' ') {
            return Err(SyntaxError::SpaceInKey { line, key });
        }
        self.pos += value_start;
        let skipped = self.rest().len() - self.rest().trim_start_matches(is_inline_space).len();
        if !inherited {
            self.pos += skipped;
        }
        Ok((key, inherited))
    }

    /// compose-go strips `export` followed by whitespace.
    fn skip_export(&mut self) {
        let rest = self.rest();
        if let Some(after) = rest.strip_prefix("export") {
            if after.starts_with(char::is_whitespace) {
                let trimmed = after.trim_start_matches(is_inline_space);
                self.pos += rest.len() - trimmed.len();
            }
        }
    }

    fn value(&mut self, line: usize) -> Result<String, SyntaxError> {
        let rest = self.rest();
        match rest.chars().next() {
            Some(q @ ('"' | '\'')) => self.quoted(q, line),
            _ => {
                let (raw, consumed) = match rest.find('\n') {
                    Some(nl) => (&rest[..nl], nl + 1),
                    None => (rest, rest.len()),
                };
                let raw = raw.split(" #").next().unwrap_or("").trim_end();
                let raw = raw.to_string();
                self.pos += consumed;
                self.expand(&raw, line)
            }
        }
    }

    /// A quoted value; the rest of its last line is left for the next
    /// statement (where a `# comment` is skipped).
    fn quoted(&mut self, quote: char, line: usize) -> Result<String, SyntaxError> {
        let rest = self.rest();
        let mut chars = String::new();
        let mut escaped = false;
        for (i, c) in rest.char_indices().skip(1) {
            if c != quote {
                if !escaped && c == '\\' {
                    escaped = true;
                    continue;
                }
                if escaped {
                    // Kept for `unescape` below; only the quote is dropped.
                    escaped = false;
                    chars.push('\\');
                }
                chars.push(c);
                continue;
            }
            if escaped {
                escaped = false;
                chars.push(c);
                continue;
            }
            self.pos += i + c.len_utf8();
            if quote == '\'' {
                return Ok(chars);
            }
            return self.expand(&unescape(&chars), line);
        }
        Err(SyntaxError::UnterminatedQuote {
            line,
            text: rest.lines().next().unwrap_or("").to_string(),
        })
    }

    /// `${VAR}` expansion: the lookup first, then variables set earlier.
    fn expand(&self, value: &str, line: usize) -> Result<String, SyntaxError> {
        let vars = &*self.vars;
        let lookup = self.lookup;
        let find = |name: &str| lookup(name).or_else(|| vars.get(name).cloned());
        template::substitute(value, &mut Resolver::new(&find)).map_err(|e| match e {
            TemplateError::Invalid => SyntaxError::InvalidInterpolation {
                line,
                value: value.to_string(),
            },
            TemplateError::MissingRequired { variable, reason } => SyntaxError::MissingRequired {
                line,
                variable,
                reason,
            },
        })
    }
}

/// Shell escapes inside double quotes (compose-go `expandEscapes`). `\$`
/// becomes `$$` so that the expansion that follows leaves a literal `$`.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (replacement, used) = match after.chars().next() {
            Some('a') => ("\u{7}".to_string(), 1),
            Some('b') => ("\u{8}".to_string(), 1),
            Some('c') => ("\\c".to_string(), 1),
            Some('f') => ("\u{c}".to_string(), 1),
            Some('n') => ("\n".to_string(), 1),
            Some('r') => ("\r".to_string(), 1),
            Some('t') => ("\t".to_string(), 1),
            Some('v') => ("\u{b}".to_string(), 1),
            Some('$') => ("$$".to_string(), 1),
            Some('"') => ("\"".to_string(), 1),
            Some('\\') => ("\\".to_string(), 1),
            Some('0') => octal(after),
            _ => ("\\".to_string(), 0),
        };
        out.push_str(&replacement);
        rest = &after[used..];
    }
    out.push_str(rest);
    out
}

/// `\0NNN`: three octal digits after the `0` make one byte-valued character;
/// anything shorter or out of range stays as written (compose-go rewrites it
/// to Go's `\NNN` and keeps the text when Go rejects it).
fn octal(after: &str) -> (String, usize) {
    let digits: String = after[1..]
        .chars()
        .take(3)
        .take_while(char::is_ascii_digit)
        .collect();
    let used = 1 + digits.len();
    let value = (digits.len() == 3)
        .then(|| u32::from_str_radix(&digits, 8).ok())
        .flatten()
        .filter(|v| *v <= 0xff);
    match value.and_then(char::from_u32) {
        Some(c) => (c.to_string(), used),
        None => (format!("\\{}", &after[..used]), used),
    }
}

#[cfg(test)]
mod tests;
