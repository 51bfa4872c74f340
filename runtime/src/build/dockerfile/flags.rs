//! The `--flag` options of FROM, RUN, COPY, ADD and HEALTHCHECK: each
//! instruction accepts a fixed set (BuildKit `instructions/parse.go`), and
//! an unknown, repeated or valueless flag is an error naming the line.

use super::error::{Location, ParseError};

pub const FROM: &[&str] = &["platform"];
pub const RUN: &[&str] = &["mount", "network", "security"];
pub const COPY: &[&str] = &["from", "chown", "chmod", "link", "parents", "exclude"];
pub const ADD: &[&str] = &[
    "chown",
    "chmod",
    "link",
    "exclude",
    "keep-git-dir",
    "checksum",
];
pub const HEALTHCHECK: &[&str] = &[
    "interval",
    "timeout",
    "start-period",
    "start-interval",
    "retries",
];

/// The flags given to one instruction, consumed by name.
pub struct Flags {
    at: Location,
    instruction: &'static str,
    given: Vec<(String, Option<String>)>,
}

impl Flags {
    /// Check `raw` (`name[=value]` strings) against `known`.
    pub fn new(
        at: &Location,
        instruction: &'static str,
        known: &'static [&'static str],
        raw: Vec<String>,
    ) -> Result<Flags, ParseError> {
        let mut given = Vec::with_capacity(raw.len());
        for flag in raw {
            let (name, value) = match flag.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (flag, None),
            };
            if !known.contains(&name.as_str()) {
                return Err(ParseError::UnknownFlag {
                    at: at.clone(),
                    instruction,
                    flag: name,
                    known,
                });
            }
            given.push((name, value));
        }
        Ok(Flags {
            at: at.clone(),
            instruction,
            given,
        })
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Option<String>> + 'a {
        self.given
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v)
    }

    fn needs_value(&self, name: &str) -> ParseError {
        ParseError::FlagNeedsValue {
            at: self.at.clone(),
            instruction: self.instruction,
            flag: name.to_string(),
        }
    }

    /// A flag given at most once, with a value.
    pub fn string(&self, name: &str) -> Result<Option<String>, ParseError> {
        let mut values = self.all(name);
        let first = values.next();
        if values.next().is_some() {
            return Err(ParseError::DuplicateFlag {
                at: self.at.clone(),
                instruction: self.instruction,
                flag: name.to_string(),
            });
        }
        match first {
            None => Ok(None),
            Some(Some(v)) => Ok(Some(v.clone())),
            Some(None) => Err(self.needs_value(name)),
        }
    }

    /// A flag that may repeat (`--mount`, `--exclude`).
    pub fn list(&self, name: &str) -> Result<Vec<String>, ParseError> {
        self.all(name)
            .map(|v| v.clone().ok_or_else(|| self.needs_value(name)))
            .collect()
    }

    /// A boolean flag: `--link`, `--link=true`, `--link=false`.
    pub fn boolean(&self, name: &str) -> Result<bool, ParseError> {
        match self.string_or_bare(name)? {
            None => Ok(false),
            Some(None) => Ok(true),
            Some(Some(v)) => match v.as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(ParseError::BadBoolFlag {
                    at: self.at.clone(),
                    flag: name.to_string(),
                    value: v,
                }),
            },
        }
    }

    fn string_or_bare(&self, name: &str) -> Result<Option<Option<String>>, ParseError> {
        let mut values = self.all(name);
        let first = values.next().cloned();
        if values.next().is_some() {
            return Err(ParseError::DuplicateFlag {
                at: self.at.clone(),
                instruction: self.instruction,
                flag: name.to_string(),
            });
        }
        Ok(first)
    }
}

/// A Go `time.ParseDuration` string (`30s`, `1m30s`, `1.5h`, `250ms`, `0`),
/// the format HEALTHCHECK options take.
pub fn parse_go_duration(text: &str) -> Option<std::time::Duration> {
    if text == "0" {
        return Some(std::time::Duration::ZERO);
    }
    let mut rest = text;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * seconds;
    }
    Some(std::time::Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at() -> Location {
        Location {
            file: "Dockerfile".into(),
            line: 3,
        }
    }

    #[test]
    fn unknown_flags_list_the_known_ones() {
        let e = Flags::new(&at(), "COPY", COPY, vec!["form=x".into()])
            .err()
            .unwrap();
        assert!(e.to_string().starts_with(
            "Dockerfile:3: COPY does not accept flag `--form` (known: --from, --chown"
        ));
    }

    #[test]
    fn values_lists_and_booleans() {
        let f = Flags::new(
            &at(),
            "COPY",
            COPY,
            vec![
                "link".into(),
                "exclude=a".into(),
                "exclude=b".into(),
                "parents=false".into(),
            ],
        )
        .unwrap();
        assert!(f.boolean("link").unwrap());
        assert!(!f.boolean("parents").unwrap());
        assert_eq!(f.list("exclude").unwrap(), vec!["a", "b"]);
        assert!(matches!(
            f.string("exclude"),
            Err(ParseError::DuplicateFlag { .. })
        ));
        assert_eq!(f.string("from").unwrap(), None);
        let f = Flags::new(&at(), "COPY", COPY, vec!["from".into()]).unwrap();
        assert!(matches!(
            f.string("from"),
            Err(ParseError::FlagNeedsValue { .. })
        ));
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_go_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_go_duration("30"), None);
        assert_eq!(parse_go_duration("5d"), None);
    }
}
