//! The `raw` env_file format (`env_file: [{path: x, format: raw}]`): the
//! line format of `docker run --env-file`, which docker compose registers
//! under that name (`cmd/compose/compose.go`, docker/cli `kvfile`). Values
//! are taken verbatim: no quotes removed, no escapes, no `${VAR}`.
//!
//! - leading whitespace of a line is dropped; empty lines and lines starting
//!   with `#` are skipped;
//! - `KEY=VALUE` keeps VALUE as written, trailing spaces included;
//! - a line `KEY` takes its value from the lookup, or is skipped;
//! - keys may not be empty nor contain spaces or tabs.

use super::{EnvEntry, SyntaxError};

/// Parse raw env-file bytes.
pub fn parse_raw(
    bytes: &[u8],
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<EnvEntry>, SyntaxError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut entries = Vec::new();
    for (i, raw_line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line_no = i + 1;
        let raw_line = raw_line.strip_suffix(b"\r").unwrap_or(raw_line);
        let line = std::str::from_utf8(raw_line)
            .map_err(|_| SyntaxError::InvalidUtf8 { line: line_no })?
            .trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (line, None),
        };
        if key.is_empty() {
            return Err(SyntaxError::NoVariableName {
                line: line_no,
                text: line.to_string(),
            });
        }
        if key.contains([' ', '\t']) {
            return Err(SyntaxError::SpaceInKey {
                line: line_no,
                key: key.to_string(),
            });
        }
        let value = value.or_else(|| lookup(key));
        entries.push(EnvEntry {
            key: key.to_string(),
            value,
            line: line_no,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn values_are_verbatim() {
        let text = b"\xEF\xBB\xBFTEST_VAR='{\"key\": \"value\"}'\n  # comment\n\nA=$HOME \\n \r\nB=\"q\"\n";
        let entries = parse_raw(text, &none).unwrap();
        let got: Vec<_> = entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_deref(), e.line))
            .collect();
        assert_eq!(
            got,
            [
                ("TEST_VAR", Some("'{\"key\": \"value\"}'"), 1),
                ("A", Some("$HOME \\n "), 4),
                ("B", Some("\"q\""), 5),
            ]
        );
    }

    #[test]
    fn bare_keys_use_the_lookup() {
        let lookup = |k: &str| (k == "SET").then(|| "v".to_string());
        let entries = parse_raw(b"SET\nUNSET\n", &lookup).unwrap();
        assert_eq!(entries[0].value.as_deref(), Some("v"));
        assert_eq!(entries[1].value, None);
    }

    #[test]
    fn bad_keys_and_bytes_are_errors() {
        assert_eq!(
            parse_raw(b"A=1\n=x\n", &none).unwrap_err(),
            SyntaxError::NoVariableName {
                line: 2,
                text: "=x".into()
            }
        );
        assert!(matches!(
            parse_raw(b"MY VAR=1", &none).unwrap_err(),
            SyntaxError::SpaceInKey { line: 1, .. }
        ));
        assert_eq!(
            parse_raw(b"A=\xff\n", &none).unwrap_err(),
            SyntaxError::InvalidUtf8 { line: 1 }
        );
    }
}
