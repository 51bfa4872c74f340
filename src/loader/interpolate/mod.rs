//! `${VAR}` interpolation over a whole document (compose-spec
//! 12-interpolation.md), then the type casts compose-go applies to the
//! strings it produced.
//!
//! What is interpolated follows compose-go's `interpolation.Interpolate`:
//! every string *value* anywhere in the document, `x-` extensions included;
//! mapping keys are left alone. The grammar itself lives in [`template`]
//! (shared with dotenv files); the casts in [`cast`].

pub mod cast;
pub mod template;
pub mod variables;

use super::environment::Environment;
use super::node::{Location, Node, NodePath, Segment, Value};
use super::Warning;
use cast::Casted;
use template::{Resolver, TemplateError};

#[derive(Debug, thiserror::Error)]
pub enum InterpolationError {
    #[error("{location}: invalid interpolation format in {value:?}: a `$` must start a variable like $NAME or ${{NAME}} (write `$$` for a literal `$`)")]
    InvalidFormat { location: Location, value: String },
    #[error("{location}: required variable {variable} is missing a value{}", reason_suffix(.reason))]
    MissingRequired {
        location: Location,
        variable: String,
        reason: String,
    },
    #[error("{location}: {value:?} is not {expected}")]
    Cast {
        location: Location,
        value: String,
        expected: &'static str,
    },
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

impl InterpolationError {
    /// Where in the document the error is.
    pub fn location(&self) -> &Location {
        match self {
            InterpolationError::InvalidFormat { location, .. }
            | InterpolationError::MissingRequired { location, .. }
            | InterpolationError::Cast { location, .. } => location,
        }
    }
}

/// Replace every variable reference in the document's strings, then cast the
/// strings at typed paths (ports' `target`, `privileged`, ...).
pub fn interpolate(
    doc: &mut Node,
    env: &Environment,
    warnings: &mut Vec<Warning>,
) -> Result<(), InterpolationError> {
    let lookup = |name: &str| env.get(name).map(str::to_string);
    walk(doc, &mut NodePath::root(), &lookup, warnings)
}

/// Substitute one string with the environment, reporting unset variables as
/// warnings at `location` (used for values outside a document, e.g. `name:`
/// read before loading).
pub fn substitute_str(
    text: &str,
    env: &Environment,
    location: &Location,
    warnings: &mut Vec<Warning>,
) -> Result<String, InterpolationError> {
    let lookup = |name: &str| env.get(name).map(str::to_string);
    substitute_at(text, location, &lookup, warnings)
}

/// The path is one stack pushed and popped on the way down (not a copy per
/// node), and a `Location` is only built for strings that need one: this
/// walk visits every value of every file.
fn walk(
    node: &mut Node,
    path: &mut NodePath,
    lookup: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<Warning>,
) -> Result<(), InterpolationError> {
    match &mut node.value {
        Value::String(text) => {
            let cast = cast::cast_for(path);
            if cast.is_none() && !text.contains('$') {
                return Ok(());
            }
            let location = Location::new(node.span.clone(), path.clone());
            let value = substitute_at(text, &location, lookup, warnings)?;
            node.value = typed(value, cast, &location, warnings)?;
        }
        Value::Map(map) => {
            for (key, child) in map.iter_mut() {
                path.0.push(Segment::Key(key.clone()));
                let result = walk(child, path, lookup, warnings);
                path.0.pop();
                result?;
            }
        }
        Value::Seq(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                path.0.push(Segment::Index(i));
                let result = walk(child, path, lookup, warnings);
                path.0.pop();
                result?;
            }
        }
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
    }
    Ok(())
}

fn substitute_at(
    text: &str,
    location: &Location,
    lookup: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<Warning>,
) -> Result<String, InterpolationError> {
    if !text.contains('$') {
        return Ok(text.to_string());
    }
    let mut unset = Vec::new();
    let mut hook = |name: &str| unset.push(name.to_string());
    let result = substitute(text, lookup, &mut hook);
    for name in unset {
        warnings.push(Warning {
            location: Some(location.clone()),
            message: format!("the {name:?} variable is not set; defaulting to a blank string"),
        });
    }
    result.map_err(|e| match e {
        TemplateError::Invalid => InterpolationError::InvalidFormat {
            location: location.clone(),
            value: text.to_string(),
        },
        TemplateError::MissingRequired { variable, reason } => {
            InterpolationError::MissingRequired {
                location: location.clone(),
                variable,
                reason,
            }
        }
    })
}

fn substitute(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    hook: &mut dyn FnMut(&str),
) -> Result<String, TemplateError> {
    template::substitute(text, &mut Resolver::with_unset_hook(lookup, hook))
}

/// The value a string becomes at `path`: cast when compose-go casts there.
fn typed(
    text: String,
    cast: Option<cast::Cast>,
    location: &Location,
    warnings: &mut Vec<Warning>,
) -> Result<Value, InterpolationError> {
    let Some(kind) = cast else {
        return Ok(Value::String(text));
    };
    match cast::cast(kind, &text) {
        Some(Casted::Value(v)) => Ok(v),
        Some(Casted::LegacyBool { value, written }) => {
            warnings.push(Warning {
                location: Some(location.clone()),
                message: format!(
                    "{written:?} for a boolean is not supported by YAML 1.2; write `{value}`"
                ),
            });
            Ok(Value::Bool(value))
        }
        None => Err(InterpolationError::Cast {
            location: location.clone(),
            value: text,
            expected: kind.expected(),
        }),
    }
}

#[cfg(test)]
mod tests;
