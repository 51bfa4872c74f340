//! Durations as Compose reads and docker compose prints them: written like
//! `1m30s`, `1.5h`, `2d` (go-str2duration, which adds days and weeks to Go's
//! units), printed by Go's `time.Duration.String()` (`1m30s`, `1h0m0s`).

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A span of time in nanoseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub i64);

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("invalid duration {0:?}: expected a number with a unit, like 30s, 1m30s or 1.5h")]
    Invalid(String),
    #[error("invalid duration {0:?}: missing unit (ns, us, ms, s, m, h, d or w)")]
    MissingUnit(String),
    #[error("invalid duration {text:?}: unknown unit {unit:?} (ns, us, ms, s, m, h, d or w)")]
    UnknownUnit { text: String, unit: String },
}

const NS: f64 = 1.0;
const US: f64 = 1e3;
const MS: f64 = 1e6;
const SEC: f64 = 1e9;
const MIN: f64 = 60.0 * SEC;
const HOUR: f64 = 60.0 * MIN;

fn unit_factor(unit: &str) -> Option<f64> {
    Some(match unit {
        "ns" => NS,
        "us" | "µs" | "μs" => US,
        "ms" => MS,
        "s" => SEC,
        "m" => MIN,
        "h" => HOUR,
        "d" => 24.0 * HOUR,
        "w" => 7.0 * 24.0 * HOUR,
        _ => return None,
    })
}

impl Duration {
    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }

    pub fn from_secs(s: i64) -> Self {
        Duration(s * 1_000_000_000)
    }

    pub fn as_std(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0.max(0) as u64)
    }

    /// Parse `1m30s`, `-1.5h`, `0`, `2d12h`.
    pub fn parse(text: &str) -> Result<Duration, DurationError> {
        let invalid = || DurationError::Invalid(text.to_string());
        let (neg, mut rest) = match text.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        if rest == "0" {
            return Ok(Duration(0));
        }
        if rest.is_empty() {
            return Err(invalid());
        }
        let mut total = 0f64;
        while !rest.is_empty() {
            let num_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            let number = &rest[..num_len];
            if number.is_empty() || number == "." {
                return Err(invalid());
            }
            let value: f64 = number.parse().map_err(|_| invalid())?;
            rest = &rest[num_len..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let unit = &rest[..unit_len];
            if unit.is_empty() {
                return Err(DurationError::MissingUnit(text.to_string()));
            }
            let factor = unit_factor(unit).ok_or_else(|| DurationError::UnknownUnit {
                text: text.to_string(),
                unit: unit.to_string(),
            })?;
            total += value * factor;
            rest = &rest[unit_len..];
        }
        let ns = total.round() as i64;
        Ok(Duration(if neg { -ns } else { ns }))
    }
}

impl fmt::Display for Duration {
    /// Go's `time.Duration.String()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let u = self.0.unsigned_abs();
        let sign = if neg { "-" } else { "" };
        if u == 0 {
            return f.write_str("0s");
        }
        if u < 1_000_000_000 {
            // Sub-second: one unit with a fraction (1.5ms, 300µs, 12ns).
            let (div, unit) = match u {
                0..1_000 => (1, "ns"),
                1_000..1_000_000 => (1_000, "µs"),
                _ => (1_000_000, "ms"),
            };
            return write!(f, "{sign}{}{unit}", fraction(u, div));
        }
        let secs = u / 1_000_000_000;
        let nanos = u % 1_000_000_000;
        let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
        let sec_text = fraction(s * 1_000_000_000 + nanos, 1_000_000_000);
        if h > 0 {
            write!(f, "{sign}{h}h{m}m{sec_text}s")
        } else if m > 0 {
            write!(f, "{sign}{m}m{sec_text}s")
        } else {
            write!(f, "{sign}{sec_text}s")
        }
    }
}

/// `value / div` with the fraction's trailing zeros dropped (`1.5`, `2`).
fn fraction(value: u64, div: u64) -> String {
    let whole = value / div;
    let rem = value % div;
    if rem == 0 {
        return whole.to_string();
    }
    let width = div.ilog10() as usize;
    let frac = format!("{rem:0width$}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // compose-go formats any scalar with fmt.Sprint before parsing it.
        let text = String::deserialize(d)?;
        Duration::parse(&text).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_go() {
        let cases = [
            ("90s", "1m30s"),
            ("1h", "1h0m0s"),
            ("1.5s", "1.5s"),
            ("500ms", "500ms"),
            ("0", "0s"),
            ("2d", "48h0m0s"),
            ("1m0.5s", "1m0.5s"),
            ("1500us", "1.5ms"),
            ("10ns", "10ns"),
            ("-30s", "-30s"),
        ];
        for (input, printed) in cases {
            assert_eq!(
                Duration::parse(input).unwrap().to_string(),
                printed,
                "{input}"
            );
        }
    }

    #[test]
    fn rejects_what_compose_rejects() {
        assert_eq!(
            Duration::parse("10"),
            Err(DurationError::MissingUnit("10".into()))
        );
        assert!(matches!(
            Duration::parse("10y"),
            Err(DurationError::UnknownUnit { .. })
        ));
        assert!(Duration::parse("").is_err());
        assert!(Duration::parse("abc").is_err());
    }
}
