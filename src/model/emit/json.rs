//! The JSON printer: Go's `encoding/json` output (`MarshalIndent` with two
//! spaces for `config --format json`, compact for the config hash). Map keys
//! sort bytewise, `<`, `>` and `&` are escaped as Go does by default, and a
//! struct's `x-` extensions are left out except at the top level (compose-go
//! tags them `json:"-"` and adds only the project's back).

use super::Emit;
use std::fmt::Write as _;

/// Indented JSON, as `json.MarshalIndent(v, "", "  ")` (no final newline).
pub fn to_json(value: &Emit) -> String {
    let mut out = String::new();
    write(&mut out, value, Some(0), true);
    out
}

/// Compact JSON, as `json.Marshal` (used for service config hashes, where
/// no extensions are printed at any level).
pub fn to_json_compact(value: &Emit) -> String {
    let mut out = String::new();
    write(&mut out, value, None, false);
    out
}

fn members(value: &Emit, top: bool) -> Vec<(&str, &Emit)> {
    match value {
        Emit::Map(m) => {
            let mut v: Vec<(&str, &Emit)> = m.iter().map(|(k, v)| (k.as_str(), v)).collect();
            v.sort_by(|a, b| a.0.cmp(b.0));
            v
        }
        Emit::Struct { fields, extensions } => {
            let mut v: Vec<(&str, &Emit)> = fields.iter().map(|(k, v)| (k.as_str(), v)).collect();
            if top {
                v.extend(extensions.iter().map(|(k, v)| (k.as_str(), v)));
                v.sort_by(|a, b| a.0.cmp(b.0));
            }
            v
        }
        _ => Vec::new(),
    }
}

fn newline(out: &mut String, indent: Option<usize>) {
    if let Some(n) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', n));
    }
}

fn write(out: &mut String, value: &Emit, indent: Option<usize>, top: bool) {
    let inner = indent.map(|n| n + 2);
    match value {
        Emit::Null | Emit::Omit => out.push_str("null"),
        Emit::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Emit::Int(i) => out.push_str(&i.to_string()),
        Emit::UInt(u) => out.push_str(&u.to_string()),
        Emit::F32(f) => out.push_str(&json_float(f64::from(*f), f.to_string())),
        Emit::F64(f) => out.push_str(&json_float(*f, f.to_string())),
        Emit::Str(s) => out.push_str(&quote(s)),
        Emit::Seq(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, inner);
                write(out, item, inner, false);
            }
            newline(out, indent);
            out.push(']');
        }
        Emit::Map(_) | Emit::Struct { .. } => {
            let m = members(value, top);
            if m.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, inner);
                out.push_str(&quote(k));
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write(out, v, inner, false);
            }
            newline(out, indent);
            out.push('}');
        }
    }
}

/// encoding/json's float: plain decimal in [1e-6, 1e21), else exponent form.
fn json_float(f: f64, display: String) -> String {
    if !f.is_finite() {
        return "null".to_string();
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let g = go_g_format(&format!("{f:e}"));
        // Go trims `e-07` to `e-7` in JSON.
        return g.replace("e-0", "e-").replace("e+0", "e+");
    }
    display
}

/// A JSON string literal as Go writes it (HTML-safe escapes included).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%g` with the shortest precision, from Rust's shortest `{:e}` form
/// (`1.5e3`): exponent form when the exponent is below -4 or at least 6
/// (`1e+06`, two exponent digits at least), else plain decimal.
pub fn go_g_format(sci: &str) -> String {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if neg { "-" } else { "" };
    if digits.chars().all(|c| c == '0') {
        return format!("{sign}0");
    }
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs());
    }
    let point = exp + 1; // digits before the decimal point
    if point <= 0 {
        let zeros = "0".repeat((-point) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let point = point as usize;
    if digits.len() <= point {
        let zeros = "0".repeat(point - digits.len());
        format!("{sign}{digits}{zeros}")
    } else {
        format!("{sign}{}.{}", &digits[..point], &digits[point..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indented_like_marshal_indent() {
        let doc = Emit::Struct {
            fields: vec![
                ("name".into(), Emit::Str("p".into())),
                (
                    "services".into(),
                    Emit::Map(vec![
                        ("web".into(), Emit::Map(vec![])),
                        ("app".into(), Emit::Seq(vec![Emit::Int(1)])),
                    ]),
                ),
            ],
            extensions: vec![("x-a".into(), Emit::Str("<&>".into()))],
        };
        assert_eq!(
            to_json(&doc),
            "{\n  \"name\": \"p\",\n  \"services\": {\n    \"app\": [\n      1\n    ],\n    \"web\": {}\n  },\n  \"x-a\": \"\\u003c\\u0026\\u003e\"\n}"
        );
        assert_eq!(
            to_json_compact(&doc),
            "{\"name\":\"p\",\"services\":{\"app\":[1],\"web\":{}}}"
        );
    }

    #[test]
    fn go_g_format_matches_strconv() {
        assert_eq!(go_g_format("5e-1"), "0.5");
        assert_eq!(go_g_format("1.5e3"), "1500");
        assert_eq!(go_g_format("1e6"), "1e+06");
        assert_eq!(go_g_format("1.25e-5"), "1.25e-05");
        assert_eq!(go_g_format("1e-4"), "0.0001");
    }
}
