//! What a schema violation says, in words a Compose user understands.
//!
//! compose-go (schema/schema.go) rewrites its validator's messages ("must be
//! a mapping", "additional properties 'x' not allowed"); we keep the same
//! vocabulary (YAML's "mapping"/"list" rather than JSON's "object"/"array")
//! and add what it leaves out: the value's actual kind, and for an unknown
//! key the closest valid one.

use std::fmt;

/// One thing wrong with one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A key the schema does not define at this place.
    UnknownProperty {
        name: String,
        /// The closest valid key, when one is close enough to be a typo.
        suggestion: Option<String>,
        /// For maps of user-chosen names (services, networks, ...): the
        /// pattern names must match.
        name_pattern: Option<String>,
    },
    /// The value's kind is none of the allowed ones.
    WrongType {
        expected: Vec<&'static str>,
        found: &'static str,
    },
    /// The value is not one of a fixed set.
    NotOneOf {
        allowed: Vec<String>,
    },
    /// The value must be exactly this.
    NotConstant {
        expected: String,
    },
    /// A string that does not match the schema's pattern.
    Pattern {
        pattern: String,
    },
    /// A key that must be present is missing.
    Required {
        property: String,
    },
    /// A number out of range.
    TooSmall {
        limit: String,
        exclusive: bool,
    },
    TooLarge {
        limit: String,
        exclusive: bool,
    },
    /// Lists and mappings with too few or too many entries.
    TooFewItems {
        limit: u64,
    },
    TooManyItems {
        limit: u64,
    },
    TooFewProperties {
        limit: u64,
    },
    /// A list written with the same entry twice.
    DuplicateItems,
    /// The value fits more than one of the forms that must be exclusive.
    Ambiguous,
    /// The schema forbids any value here.
    Forbidden,
    /// A constraint without a dedicated message (string length, formats,
    /// ...): the keyword and the validator's own description.
    Constraint {
        keyword: &'static str,
        detail: String,
    },
}

impl Problem {
    /// How deep a problem sits, beyond its path: compose-go ranks an unknown
    /// property above a type error at the same depth, because the key is
    /// the precise place of the mistake.
    pub fn specificity_bonus(&self) -> usize {
        usize::from(matches!(self, Problem::UnknownProperty { .. }))
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::UnknownProperty {
                name,
                suggestion,
                name_pattern,
            } => {
                write!(f, "additional property `{name}` is not allowed")?;
                if let Some(s) = suggestion {
                    write!(f, "; did you mean `{s}`?")?;
                } else if let Some(p) = name_pattern {
                    write!(f, "; names here must match `{p}`")?;
                }
                Ok(())
            }
            Problem::WrongType { expected, found } => {
                write!(f, "must be {}, found {found}", either(expected, "or"))
            }
            Problem::NotOneOf { allowed } => {
                let quoted: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
                write!(f, "must be one of {}", either(&quoted, "or"))
            }
            Problem::NotConstant { expected } => write!(f, "must be `{expected}`"),
            Problem::Pattern { pattern } => write!(f, "must match the pattern `{pattern}`"),
            Problem::Required { property } => {
                write!(f, "the required property `{property}` is missing")
            }
            Problem::TooSmall { limit, exclusive } => {
                let rel = if *exclusive {
                    "greater than"
                } else {
                    "greater than or equal to"
                };
                write!(f, "must be {rel} {limit}")
            }
            Problem::TooLarge { limit, exclusive } => {
                let rel = if *exclusive {
                    "less than"
                } else {
                    "less than or equal to"
                };
                write!(f, "must be {rel} {limit}")
            }
            Problem::TooFewItems { limit } => write!(f, "must have at least {limit} item(s)"),
            Problem::TooManyItems { limit } => write!(f, "must have at most {limit} item(s)"),
            Problem::TooFewProperties { limit } => {
                write!(f, "must have at least {limit} entr{}", plural_y(*limit))
            }
            Problem::DuplicateItems => f.write_str("must not list the same item twice"),
            Problem::Ambiguous => {
                f.write_str("matches more than one of the allowed forms; use exactly one")
            }
            Problem::Forbidden => f.write_str("is not allowed here"),
            Problem::Constraint { keyword, detail } => write!(f, "{detail} ({keyword})"),
        }
    }
}

fn plural_y(n: u64) -> &'static str {
    if n == 1 {
        "y"
    } else {
        "ies"
    }
}

/// `a`, `a or b`, `a, b or c`.
fn either<S: AsRef<str>>(items: &[S], word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} {word} {}", init.join(", "), last.as_ref())
        }
    }
}

/// A JSON schema type in Compose's words, with its article.
pub fn type_name(json_type: &str) -> &'static str {
    match json_type {
        "object" => "a mapping",
        "array" => "a list",
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "a boolean",
        "null" => "null",
        _ => "a value of another kind",
    }
}

/// The valid key closest to a misspelt one, if it is close enough that a
/// typo is the likely explanation (at most a third of the word changed).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let budget = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, _)| *d <= budget)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_like_english() {
        assert_eq!(either(&["a"], "or"), "a");
        assert_eq!(either(&["a", "b"], "or"), "a or b");
        assert_eq!(either(&["a", "b", "c"], "or"), "a, b or c");
    }

    #[test]
    fn closest_key_finds_typos_and_ignores_strangers() {
        let keys = ["environment", "entrypoint", "env_file", "image"];
        assert_eq!(closest("enviroment", keys).as_deref(), Some("environment"));
        assert_eq!(closest("imgae", keys).as_deref(), Some("image"));
        assert_eq!(closest("completely_else", keys), None);
    }

    #[test]
    fn wrong_type_names_expected_and_found() {
        let p = Problem::WrongType {
            expected: vec!["a number", "a string", "a mapping"],
            found: "a boolean",
        };
        assert_eq!(
            p.to_string(),
            "must be a number, a string or a mapping, found a boolean"
        );
    }
}
