//! Typing strings that interpolation produced at places where Compose wants
//! a number or a boolean (compose-go `loader/interpolate.go`,
//! `interpolateTypeCastMapping`): `cpus: ${CPUS}` becomes a float and
//! `privileged: ${PRIV}` a boolean before the schema sees them.
//!
//! As in compose-go, every *string* at one of these paths is cast, whether or
//! not it held a variable, and YAML 1.1 booleans (`yes`, `off`, ...) are
//! accepted with a warning.

use super::super::node::{NodePath, Segment, Value};

/// The type a path is cast to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cast {
    Int,
    Float,
    Bool,
}

impl Cast {
    /// What the user should have written, for error messages.
    pub fn expected(self) -> &'static str {
        match self {
            Cast::Int => "an integer",
            Cast::Float => "a number",
            Cast::Bool => "a boolean (true or false)",
        }
    }
}

/// `*` matches any key or index, `[]` any list index, anything else a key.
const PATTERNS: &[(&[&str], Cast)] = &[
    (&["services", "*", "cpu_count"], Cast::Int),
    (&["services", "*", "cpu_percent"], Cast::Float),
    (&["services", "*", "cpu_period"], Cast::Int),
    (&["services", "*", "cpu_quota"], Cast::Int),
    (&["services", "*", "cpu_rt_period"], Cast::Int),
    (&["services", "*", "cpu_rt_runtime"], Cast::Int),
    (&["services", "*", "cpus"], Cast::Float),
    (&["services", "*", "cpu_shares"], Cast::Int),
    (&["services", "*", "init"], Cast::Bool),
    (
        &["services", "*", "depends_on", "*", "required"],
        Cast::Bool,
    ),
    (&["services", "*", "depends_on", "*", "restart"], Cast::Bool),
    (&["services", "*", "deploy", "replicas"], Cast::Int),
    (
        &["services", "*", "deploy", "update_config", "parallelism"],
        Cast::Int,
    ),
    (
        &[
            "services",
            "*",
            "deploy",
            "update_config",
            "max_failure_ratio",
        ],
        Cast::Float,
    ),
    (
        &["services", "*", "deploy", "rollback_config", "parallelism"],
        Cast::Int,
    ),
    (
        &[
            "services",
            "*",
            "deploy",
            "rollback_config",
            "max_failure_ratio",
        ],
        Cast::Float,
    ),
    (
        &["services", "*", "deploy", "restart_policy", "max_attempts"],
        Cast::Int,
    ),
    (
        &[
            "services",
            "*",
            "deploy",
            "placement",
            "max_replicas_per_node",
        ],
        Cast::Int,
    ),
    (&["services", "*", "healthcheck", "retries"], Cast::Int),
    (&["services", "*", "healthcheck", "disable"], Cast::Bool),
    (&["services", "*", "oom_kill_disable"], Cast::Bool),
    (&["services", "*", "oom_score_adj"], Cast::Int),
    (&["services", "*", "pids_limit"], Cast::Int),
    (&["services", "*", "ports", "[]", "target"], Cast::Int),
    (&["services", "*", "privileged"], Cast::Bool),
    (&["services", "*", "read_only"], Cast::Bool),
    (&["services", "*", "scale"], Cast::Int),
    (&["services", "*", "stdin_open"], Cast::Bool),
    (&["services", "*", "tty"], Cast::Bool),
    (&["services", "*", "ulimits", "*"], Cast::Int),
    (&["services", "*", "ulimits", "*", "hard"], Cast::Int),
    (&["services", "*", "ulimits", "*", "soft"], Cast::Int),
    (&["services", "*", "volumes", "[]", "read_only"], Cast::Bool),
    (
        &["services", "*", "volumes", "[]", "volume", "nocopy"],
        Cast::Bool,
    ),
    (&["networks", "*", "external"], Cast::Bool),
    (&["networks", "*", "internal"], Cast::Bool),
    (&["networks", "*", "attachable"], Cast::Bool),
    (&["networks", "*", "enable_ipv4"], Cast::Bool),
    (&["networks", "*", "enable_ipv6"], Cast::Bool),
    (&["volumes", "*", "external"], Cast::Bool),
    (&["secrets", "*", "external"], Cast::Bool),
    (&["configs", "*", "external"], Cast::Bool),
];

/// The cast that applies at `path`, if any.
pub fn cast_for(path: &NodePath) -> Option<Cast> {
    PATTERNS
        .iter()
        .find(|(pattern, _)| matches(pattern, path))
        .map(|(_, cast)| *cast)
}

fn matches(pattern: &[&str], path: &NodePath) -> bool {
    pattern.len() == path.0.len()
        && pattern.iter().zip(&path.0).all(|(p, seg)| match (*p, seg) {
            ("*", _) => true,
            ("[]", Segment::Index(_)) => true,
            (key, Segment::Key(k)) => key == k,
            _ => false,
        })
}

/// The outcome of casting one string.
#[derive(Debug, Clone, PartialEq)]
pub enum Casted {
    Value(Value),
    /// A YAML 1.1 boolean spelling: accepted, but the user is told to write
    /// `true`/`false` (compose-go logs the same advice).
    LegacyBool {
        value: bool,
        written: String,
    },
}

/// Cast `text`; `None` when it is not of the wanted type.
pub fn cast(kind: Cast, text: &str) -> Option<Casted> {
    match kind {
        Cast::Int => parse_int(text).map(|i| Casted::Value(Value::Int(i))),
        Cast::Float => parse_float(text).map(|f| Casted::Value(Value::Float(f))),
        Cast::Bool => parse_bool(text),
    }
}

/// Go's `strconv.ParseInt(s, 10, 64)`: an optional sign and decimal digits.
fn parse_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn parse_float(text: &str) -> Option<f64> {
    // Rust accepts "inf"/"nan" spellings too, as Go's ParseFloat does; it
    // rejects surrounding spaces, as Go does.
    text.parse().ok()
}

fn parse_bool(text: &str) -> Option<Casted> {
    let lower = text.to_ascii_lowercase();
    let legacy = |value| {
        Some(Casted::LegacyBool {
            value,
            written: text.to_string(),
        })
    };
    match lower.as_str() {
        "true" => Some(Casted::Value(Value::Bool(true))),
        "false" => Some(Casted::Value(Value::Bool(false))),
        "y" | "yes" | "on" => legacy(true),
        "n" | "no" | "off" => legacy(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_with_wildcards_and_list_items() {
        let p = NodePath::parse("services.web.ports[0].target");
        assert_eq!(cast_for(&p), Some(Cast::Int));
        assert_eq!(
            cast_for(&NodePath::parse("services.web.cpus")),
            Some(Cast::Float)
        );
        assert_eq!(
            cast_for(&NodePath::parse("services.web.ulimits.nofile")),
            Some(Cast::Int)
        );
        assert_eq!(
            cast_for(&NodePath::parse("services.web.ulimits.nofile.soft")),
            Some(Cast::Int)
        );
        assert_eq!(
            cast_for(&NodePath::parse("networks.front.external")),
            Some(Cast::Bool)
        );
        assert_eq!(cast_for(&NodePath::parse("services.web.image")), None);
        // `ports.target` on a mapping (not a list) is not the pattern.
        assert_eq!(
            cast_for(&NodePath::parse("services.web.ports.x.target")),
            None
        );
    }

    #[test]
    fn integers_follow_go_parse_int() {
        assert_eq!(cast(Cast::Int, "42"), Some(Casted::Value(Value::Int(42))));
        assert_eq!(cast(Cast::Int, "-3"), Some(Casted::Value(Value::Int(-3))));
        assert_eq!(cast(Cast::Int, "+3"), Some(Casted::Value(Value::Int(3))));
        for bad in ["", "1.5", " 1", "0x10", "ten", "-"] {
            assert_eq!(cast(Cast::Int, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn floats_parse() {
        assert_eq!(
            cast(Cast::Float, "0.5"),
            Some(Casted::Value(Value::Float(0.5)))
        );
        assert_eq!(
            cast(Cast::Float, "2"),
            Some(Casted::Value(Value::Float(2.0)))
        );
        assert_eq!(cast(Cast::Float, "half"), None);
    }

    #[test]
    fn booleans_accept_yaml_1_1_spellings_with_a_warning() {
        assert_eq!(
            cast(Cast::Bool, "TRUE"),
            Some(Casted::Value(Value::Bool(true)))
        );
        assert_eq!(
            cast(Cast::Bool, "false"),
            Some(Casted::Value(Value::Bool(false)))
        );
        assert_eq!(
            cast(Cast::Bool, "Yes"),
            Some(Casted::LegacyBool {
                value: true,
                written: "Yes".into()
            })
        );
        assert_eq!(
            cast(Cast::Bool, "off"),
            Some(Casted::LegacyBool {
                value: false,
                written: "off".into()
            })
        );
        assert_eq!(cast(Cast::Bool, "1"), None);
    }
}
