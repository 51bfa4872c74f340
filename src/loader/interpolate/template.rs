//! The substitution engine for one string: `$VAR`, `${VAR}`, `${VAR:-d}`,
//! `${VAR-d}`, `${VAR:?err}`, `${VAR?err}`, `${VAR:+alt}`, `${VAR+alt}`,
//! nesting and the `$$` escape (compose-spec 12-interpolation.md).
//!
//! Shared by document interpolation and by dotenv values, as in compose-go
//! where both call `template.Substitute`. The edge cases follow compose-go's
//! template package rather than a shell:
//! - names are `[_A-Za-z][_A-Za-z0-9]*`; `$` followed by anything else (a
//!   digit, a space, the end) stays a literal `$`;
//! - `${` must be followed by a name and either `}` or an operator, and the
//!   operator needs a `}` later on the same line, else the whole value is an
//!   invalid template;
//! - the closing brace is found by counting braces, so defaults may nest
//!   (`${A:-${B:-c}}`) and contain `{...}`;
//! - the argument of an operator is itself substituted, but only when used.

use std::fmt;

/// Why a template could not be substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// `${` not followed by a valid reference, e.g. `${1}`, `${A B}`, `${A`.
    Invalid,
    /// `${VAR:?reason}` / `${VAR?reason}` with the variable missing.
    MissingRequired { variable: String, reason: String },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Invalid => f.write_str("invalid interpolation format"),
            TemplateError::MissingRequired { variable, reason } if reason.is_empty() => {
                write!(f, "required variable {variable} is missing a value")
            }
            TemplateError::MissingRequired { variable, reason } => {
                write!(
                    f,
                    "required variable {variable} is missing a value: {reason}"
                )
            }
        }
    }
}

/// How a template reads variables, and who hears about unset ones.
pub struct Resolver<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    on_unset: Option<&'a mut dyn FnMut(&str)>,
}

impl<'a> Resolver<'a> {
    /// A resolver that reports nothing about unset variables.
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Resolver {
            lookup,
            on_unset: None,
        }
    }

    /// A resolver that calls `on_unset` for every plain reference (`$X`,
    /// `${X}`) to an unset variable, which then becomes empty; compose-go
    /// warns "The X variable is not set. Defaulting to a blank string."
    pub fn with_unset_hook(
        lookup: &'a dyn Fn(&str) -> Option<String>,
        on_unset: &'a mut dyn FnMut(&str),
    ) -> Self {
        Resolver {
            lookup,
            on_unset: Some(on_unset),
        }
    }

    fn plain(&mut self, name: &str) -> String {
        match (self.lookup)(name) {
            Some(v) => v,
            None => {
                if let Some(hook) = self.on_unset.as_mut() {
                    hook(name);
                }
                String::new()
            }
        }
    }
}

/// Substitute every reference in `template`.
pub fn substitute(template: &str, resolver: &mut Resolver<'_>) -> Result<String, TemplateError> {
    let bytes = template.as_bytes();
    let mut out = String::with_capacity(template.len());
    let mut literal_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        out.push_str(&template[literal_start..i]);
        i = match bytes.get(i + 1) {
            Some(b'$') => {
                out.push('$');
                i + 2
            }
            Some(&c) if is_name_start(c) => {
                let end = name_end(bytes, i + 1);
                out.push_str(&resolver.plain(&template[i + 1..end]));
                end
            }
            Some(b'{') => {
                let (value, next) = braced(template, i, resolver)?;
                out.push_str(&value);
                next
            }
            _ => {
                out.push('$');
                i + 1
            }
        };
        literal_start = i;
    }
    out.push_str(&template[literal_start..]);
    Ok(out)
}

/// The variable names a template refers to, in order (without duplicates),
/// including those inside defaults.
pub fn referenced_names(template: &str) -> Vec<String> {
    let names = std::cell::RefCell::new(Vec::<String>::new());
    let lookup = |name: &str| {
        let mut names = names.borrow_mut();
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
        // Unset, so that every default is visited.
        None
    };
    let mut resolver = Resolver::new(&lookup);
    // Errors only cut the list short; the names seen so far are still useful.
    let _ = substitute(template, &mut resolver);
    names.into_inner()
}

fn is_name_start(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}

fn name_end(bytes: &[u8], start: usize) -> usize {
    let mut end = start;
    while end < bytes.len() && (bytes[end] == b'_' || bytes[end].is_ascii_alphanumeric()) {
        end += 1;
    }
    end
}

/// The six operators, longest first so `:-` is not read as `-`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    DefaultIfEmptyOrUnset, // :-
    DefaultIfUnset,        // -
    AltIfNotEmpty,         // :+
    AltIfSet,              // +
    RequiredNotEmpty,      // :?
    RequiredSet,           // ?
}

fn operator_at(bytes: &[u8], at: usize) -> Option<(Operator, usize)> {
    let colon = bytes.get(at) == Some(&b':');
    let sign = *bytes.get(at + usize::from(colon))?;
    let op = match (colon, sign) {
        (true, b'-') => Operator::DefaultIfEmptyOrUnset,
        (false, b'-') => Operator::DefaultIfUnset,
        (true, b'+') => Operator::AltIfNotEmpty,
        (false, b'+') => Operator::AltIfSet,
        (true, b'?') => Operator::RequiredNotEmpty,
        (false, b'?') => Operator::RequiredSet,
        _ => return None,
    };
    Some((op, at + 1 + usize::from(colon)))
}

/// `${...}` starting at `start` (the `$`): its value and the index after it.
fn braced(
    template: &str,
    start: usize,
    resolver: &mut Resolver<'_>,
) -> Result<(String, usize), TemplateError> {
    let bytes = template.as_bytes();
    let name_start = start + 2;
    if !bytes.get(name_start).copied().is_some_and(is_name_start) {
        return Err(TemplateError::Invalid);
    }
    let name_stop = name_end(bytes, name_start);
    let name = &template[name_start..name_stop];
    if bytes.get(name_stop) == Some(&b'}') {
        return Ok((resolver.plain(name), name_stop + 1));
    }
    let (op, arg_start) = operator_at(bytes, name_stop).ok_or(TemplateError::Invalid)?;
    let close = closing_brace(bytes, start, arg_start).ok_or(TemplateError::Invalid)?;
    let arg = &template[arg_start..close];
    let value = apply(op, name, arg, resolver)?;
    Ok((value, close + 1))
}

/// The `}` that ends the reference opened at `start`: the brace that balances
/// the opening one (compose-go counts `{` and `}`), limited to the current
/// line; when the braces never balance, the last `}` of the line.
fn closing_brace(bytes: &[u8], start: usize, arg_start: usize) -> Option<usize> {
    let line_end = bytes[start..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| start + p);
    let last = bytes[arg_start..line_end]
        .iter()
        .rposition(|&b| b == b'}')
        .map(|p| arg_start + p)?;
    let mut open = 0i32;
    let mut i = start;
    while i <= last {
        match bytes[i] {
            b'}' => {
                open -= 1;
                if open == 0 {
                    return Some(i);
                }
            }
            b'{' => {
                open += 1;
                // compose-go skips the character after an opening brace.
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    Some(last)
}

fn apply(
    op: Operator,
    name: &str,
    arg: &str,
    resolver: &mut Resolver<'_>,
) -> Result<String, TemplateError> {
    let value = (resolver.lookup)(name);
    let is_empty = value.as_deref().is_none_or(str::is_empty);
    match op {
        Operator::DefaultIfEmptyOrUnset if is_empty => substitute(arg, resolver),
        Operator::DefaultIfUnset if value.is_none() => substitute(arg, resolver),
        Operator::AltIfNotEmpty if !is_empty => substitute(arg, resolver),
        Operator::AltIfSet if value.is_some() => substitute(arg, resolver),
        Operator::RequiredNotEmpty if is_empty => Err(missing(name, arg, resolver)?),
        Operator::RequiredSet if value.is_none() => Err(missing(name, arg, resolver)?),
        _ => Ok(value.unwrap_or_default()),
    }
}

fn missing(
    name: &str,
    reason: &str,
    resolver: &mut Resolver<'_>,
) -> Result<TemplateError, TemplateError> {
    Ok(TemplateError::MissingRequired {
        variable: name.to_string(),
        reason: substitute(reason, resolver)?,
    })
}

#[cfg(test)]
mod tests;
