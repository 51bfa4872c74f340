//! How yaml.v3 writes a string scalar: plain when it would read back as the
//! same string, else single-quoted, else double-quoted; multi-line strings as
//! literal blocks. Mirrors yaml.v3's `stringv` and libyaml's scalar analysis.

/// The style a string is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// Pick the style yaml.v3 would use for `s` in block context (`is_key` for a
/// mapping key, which libyaml writes as a "simple key").
pub fn style_for(s: &str, is_key: bool) -> Style {
    let a = analyze(s);
    if s.contains('\n') {
        return if a.block_allowed && !is_key {
            Style::Literal
        } else {
            Style::Double
        };
    }
    // yaml.v3 asks for double quotes when a plain form would read back as
    // another type (`"8080"`, `"true"`, `""`).
    if !resolves_as_string(s) || is_base60_float(s) || is_old_bool(s) {
        return Style::Double;
    }
    if a.block_plain_allowed {
        Style::Plain
    } else if a.single_allowed {
        Style::Single
    } else {
        Style::Double
    }
}

struct Analysis {
    block_plain_allowed: bool,
    single_allowed: bool,
    block_allowed: bool,
    multiline: bool,
    special: bool,
}

fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{85}')
        || (' '..='~').contains(&c)
        || (('\u{a0}'..='\u{d7ff}').contains(&c))
        || (('\u{e000}'..='\u{fffd}').contains(&c) && c != '\u{feff}')
        || ('\u{10000}'..='\u{10ffff}').contains(&c)
}

fn is_blank_or_end(c: Option<char>) -> bool {
    matches!(c, None | Some(' ') | Some('\t') | Some('\n') | Some('\r'))
}

/// libyaml's `yaml_emitter_analyze_scalar`, reduced to block context.
fn analyze(s: &str) -> Analysis {
    let mut a = Analysis {
        block_plain_allowed: true,
        single_allowed: true,
        block_allowed: true,
        multiline: false,
        special: false,
    };
    if s.is_empty() {
        a.block_allowed = false;
        return a;
    }
    let mut block_indicators = false;
    if s.starts_with("---") || s.starts_with("...") {
        let rest = s[3..].chars().next();
        if is_blank_or_end(rest) {
            block_indicators = true;
        }
    }
    let chars: Vec<char> = s.chars().collect();
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    let mut preceded_by_ws = true;
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let followed_by_ws = is_blank_or_end(next);
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' if followed_by_ws => block_indicators = true,
                '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            a.special = true;
        }
        if c == '\n' {
            a.multiline = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i == chars.len() - 1 {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if c == '\n' {
            if i == 0 {
                leading_break = true;
            }
            if i == chars.len() - 1 {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_break = true;
            prev_space = false;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = matches!(c, ' ' | '\t' | '\n' | '\r');
    }
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_allowed = false;
    }
    if space_break || a.special {
        a.block_plain_allowed = false;
        a.single_allowed = false;
        a.block_allowed = false;
    }
    if a.multiline {
        a.block_plain_allowed = false;
    }
    if block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// yaml.v3's `resolve`: would this text, written plain, read back as a string?
pub fn resolves_as_string(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    const SPECIAL: &[&str] = &[
        "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", ".inf",
        ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN",
        ".NAN", "<<",
    ];
    if SPECIAL.contains(&s) {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    match first {
        '.' => !is_yaml_float(s),
        '+' | '-' | '0'..='9' => !looks_numeric(s),
        _ => true,
    }
}

/// Int (any Go base prefix, `_` ignored), YAML-style float, or timestamp.
fn looks_numeric(s: &str) -> bool {
    if is_timestamp(s) {
        return true;
    }
    let plain: String = s.chars().filter(|c| *c != '_').collect();
    let (sign, body) = match plain.strip_prefix(['+', '-']) {
        Some(rest) => (true, rest),
        None => (false, plain.as_str()),
    };
    let _ = sign;
    if is_go_int(body) || is_yaml_float(&plain) {
        return true;
    }
    if let Some(bin) = body.strip_prefix("0b") {
        return !bin.is_empty() && bin.bytes().all(|b| b == b'0' || b == b'1');
    }
    if let Some(oct) = body.strip_prefix("0o") {
        return !oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b));
    }
    false
}

/// Go's `strconv.ParseInt(s, 0, 64)` syntax (without the sign).
fn is_go_int(body: &str) -> bool {
    if body.is_empty() {
        return false;
    }
    if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        return !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    if let Some(oct) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        return !oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b));
    }
    if let Some(bin) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        return !bin.is_empty() && bin.bytes().all(|b| b == b'0' || b == b'1');
    }
    if body.len() > 1 && body.starts_with('0') {
        return body.bytes().all(|b| (b'0'..=b'7').contains(&b));
    }
    body.bytes().all(|b| b.is_ascii_digit())
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()),
        Some((int, frac)) => {
            !int.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exp_ok = match exp {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
        }
    };
    mantissa_ok && exp_ok
}

/// yaml.v3 reads `2006-1-2` (optionally followed by a time) as a timestamp.
fn is_timestamp(s: &str) -> bool {
    let date = s.split(['T', 't', ' ']).next().unwrap_or("");
    let parts: Vec<&str> = date.split('-').collect();
    let date_ok = parts.len() == 3
        && parts[0].len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()));
    date_ok && (date.len() == s.len() || s[date.len() + 1..].contains(':'))
}

/// YAML 1.1 booleans yaml.v3 still quotes for older readers.
fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// YAML 1.1 sexagesimal numbers (`8080:80`, `1:20:30.5`), which yaml.v3 quotes.
fn is_base60_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (head, frac) = match s.split_once('.') {
        Some((h, f)) => (h, Some(f)),
        None => (s, None),
    };
    if let Some(f) = frac {
        if !f.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
            return false;
        }
    }
    let mut groups = head.split(':');
    let first = groups.next().unwrap_or("");
    if first.is_empty()
        || !first.as_bytes()[0].is_ascii_digit()
        || !first.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return false;
    }
    let mut count = 0;
    for g in groups {
        count += 1;
        let ok = match g.len() {
            1 => g.as_bytes()[0].is_ascii_digit(),
            2 => (b'0'..=b'5').contains(&g.as_bytes()[0]) && g.as_bytes()[1].is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    count > 0
}

/// Write `s` double-quoted with yaml's escapes.
pub fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            c if !is_printable(c) => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02X}"));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04X}"));
                } else {
                    out.push_str(&format!("\\U{n:08X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Write `s` single-quoted (a `'` doubles).
pub fn single_quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_booleans_are_double_quoted() {
        for s in [
            "8080",
            "1.5",
            "true",
            "null",
            "",
            "0x1F",
            "1e3",
            "yes",
            "off",
            "2024-01-02",
        ] {
            assert_eq!(style_for(s, false), Style::Double, "{s}");
        }
    }

    #[test]
    fn sexagesimal_looking_ports_are_quoted() {
        assert_eq!(style_for("12:30", false), Style::Double);
        assert_eq!(style_for("8080:80", false), Style::Plain);
        assert_eq!(style_for("127.0.0.1:8080:80", false), Style::Plain);
    }

    #[test]
    fn indicators_force_single_quotes() {
        assert_eq!(style_for("*.go", false), Style::Single);
        assert_eq!(style_for("a: b", false), Style::Single);
        assert_eq!(style_for("- x", false), Style::Single);
        assert_eq!(style_for(" lead", false), Style::Single);
        assert_eq!(style_for("a #b", false), Style::Single);
    }

    #[test]
    fn ordinary_text_is_plain() {
        for s in [
            "nginx:latest",
            "1m30s",
            "CMD-SHELL",
            "/run/secrets/x",
            "a-b_c.d",
            "echo hi",
        ] {
            assert_eq!(style_for(s, false), Style::Plain, "{s}");
        }
    }

    #[test]
    fn multi_line_is_literal_and_tabs_double_quoted() {
        assert_eq!(style_for("a\nb", false), Style::Literal);
        assert_eq!(style_for("a\tb", false), Style::Double);
        assert_eq!(double_quoted("a\tb"), "\"a\\tb\"");
    }
}
