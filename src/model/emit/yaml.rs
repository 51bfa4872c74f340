//! The YAML printer: yaml.v3's block style with `SetIndent(2)`, as
//! `docker compose config` prints.

use super::scalar::{double_quoted, single_quoted, style_for, Style};
use super::sort::natural_cmp;
use super::Emit;

/// Print a tree as a YAML document (ending with a newline).
pub fn to_yaml(value: &Emit) -> String {
    let mut out = String::new();
    match value {
        Emit::Map(_) | Emit::Struct { .. } if !entries(value).is_empty() => {
            write_mapping(&mut out, &entries(value), 0)
        }
        Emit::Seq(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        other => {
            out.push_str(&inline(other, 0));
            out.push('\n');
        }
    }
    out
}

/// A mapping's entries in print order: struct fields as declared then the
/// extensions sorted; map keys sorted the way yaml.v3 sorts them.
fn entries(value: &Emit) -> Vec<(&str, &Emit)> {
    match value {
        Emit::Map(m) => sorted(m),
        Emit::Struct { fields, extensions } => {
            let mut v: Vec<(&str, &Emit)> = fields.iter().map(|(k, v)| (k.as_str(), v)).collect();
            v.extend(sorted(extensions));
            v
        }
        _ => Vec::new(),
    }
}

fn sorted(m: &[(String, Emit)]) -> Vec<(&str, &Emit)> {
    let mut v: Vec<(&str, &Emit)> = m.iter().map(|(k, v)| (k.as_str(), v)).collect();
    v.sort_by(|a, b| natural_cmp(a.0, b.0));
    v
}

/// Is this value written on the lines below its key (a non-empty
/// collection) rather than after it?
fn is_block(value: &Emit) -> bool {
    match value {
        Emit::Seq(items) => !items.is_empty(),
        Emit::Map(_) | Emit::Struct { .. } => !entries(value).is_empty(),
        _ => false,
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Write mapping entries at `indent`; the first line's indentation is
/// already written when `first_inline` (after a `- `).
fn write_entries(out: &mut String, items: &[(&str, &Emit)], indent: usize, first_inline: bool) {
    for (i, (key, value)) in items.iter().enumerate() {
        if i > 0 || !first_inline {
            pad(out, indent);
        }
        out.push_str(&scalar_text(key, true, indent));
        out.push(':');
        write_value_after_key(out, value, indent);
    }
}

fn write_mapping(out: &mut String, items: &[(&str, &Emit)], indent: usize) {
    write_entries(out, items, indent, false);
}

/// What follows `key:`: a nested block on the next lines, or ` scalar`.
fn write_value_after_key(out: &mut String, value: &Emit, indent: usize) {
    match value {
        Emit::Seq(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, indent + 2);
        }
        v if is_block(v) => {
            out.push('\n');
            write_mapping(out, &entries(v), indent + 2);
        }
        v => {
            out.push(' ');
            out.push_str(&inline(v, indent + 2));
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, items: &[Emit], indent: usize) {
    for item in items {
        pad(out, indent);
        out.push_str("- ");
        write_seq_item(out, item, indent + 2);
    }
}

/// A sequence item after its `- ` marker; `indent` is the column of its content.
fn write_seq_item(out: &mut String, item: &Emit, indent: usize) {
    match item {
        Emit::Seq(inner) if !inner.is_empty() => {
            // `- - a`: the first nested item goes on the same line.
            for (i, it) in inner.iter().enumerate() {
                if i > 0 {
                    pad(out, indent);
                }
                out.push_str("- ");
                write_seq_item(out, it, indent + 2);
            }
        }
        v if is_block(v) => write_entries(out, &entries(v), indent, true),
        v => {
            out.push_str(&inline(v, indent));
            out.push('\n');
        }
    }
}

/// A value written on one line (or a literal block starting on it, whose
/// lines go to column `indent`).
fn inline(value: &Emit, indent: usize) -> String {
    match value {
        Emit::Null | Emit::Omit => "null".to_string(),
        Emit::Bool(b) => b.to_string(),
        Emit::Int(i) => i.to_string(),
        Emit::UInt(u) => u.to_string(),
        Emit::F32(f) => go_float(f64::from(*f), format!("{f:e}")),
        Emit::F64(f) => go_float(*f, format!("{f:e}")),
        Emit::Str(s) => scalar_text(s, false, indent),
        Emit::Seq(_) => "[]".to_string(),
        Emit::Map(_) | Emit::Struct { .. } => "{}".to_string(),
    }
}

/// A string as yaml.v3 writes it; a literal block's lines are indented to
/// column `indent`.
fn scalar_text(s: &str, is_key: bool, indent: usize) -> String {
    match style_for(s, is_key) {
        Style::Plain => s.to_string(),
        Style::Single => single_quoted(s),
        Style::Double => double_quoted(s),
        Style::Literal => literal(s, indent),
    }
}

/// `|-` / `|` / `|+` block; the chomping indicator says how many trailing
/// newlines the value has, an indentation indicator is needed when the text
/// starts with a space or a line break (libyaml
/// `yaml_emitter_write_block_scalar_hints`). A value that is only a line
/// break keeps it (`|2+`): clipping would read back as an empty string.
fn literal(s: &str, indent: usize) -> String {
    let trailing = s.len() - s.trim_end_matches('\n').len();
    let chomp = match trailing {
        0 => "-",
        1 if s.len() > 1 => "",
        _ => "+",
    };
    let indicator = if s.starts_with([' ', '\n']) { "2" } else { "" };
    let mut out = format!("|{indicator}{chomp}");
    // The last line break ends the last line; any others are empty lines.
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&" ".repeat(indent));
            out.push_str(line);
        }
    }
    out
}

/// Go's `strconv.FormatFloat(f, 'g', -1, bits)` from Rust's shortest
/// scientific form (`sci` = `{:e}`), with yaml.v3's spellings of infinities.
fn go_float(f: f64, sci: String) -> String {
    if f.is_nan() {
        return ".nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.to_string();
    }
    super::json::go_g_format(&sci)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Emit {
        Emit::Str(v.to_string())
    }

    #[test]
    fn nested_maps_and_sequences_indent_like_docker_compose() {
        let port = Emit::Struct {
            fields: vec![
                ("mode".into(), s("ingress")),
                ("target".into(), Emit::UInt(80)),
                ("published".into(), s("8080")),
            ],
            extensions: vec![],
        };
        let web = Emit::Struct {
            fields: vec![
                ("image".into(), s("nginx")),
                ("ports".into(), Emit::Seq(vec![port])),
                (
                    "networks".into(),
                    Emit::Map(vec![("default".into(), Emit::Null)]),
                ),
            ],
            extensions: vec![("x-a".into(), Emit::Int(1))],
        };
        let doc = Emit::Map(vec![(
            "services".into(),
            Emit::Map(vec![("web".into(), web)]),
        )]);
        let expected = "services:\n  web:\n    image: nginx\n    ports:\n      - mode: ingress\n        target: 80\n        published: \"8080\"\n    networks:\n      default: null\n    x-a: 1\n";
        assert_eq!(to_yaml(&doc), expected);
    }

    #[test]
    fn literal_blocks_that_start_with_or_are_only_line_breaks_read_back() {
        for (value, printed) in [
            ("\n", "v: |2+\n\n"),
            ("\nabc\n", "v: |2\n\n  abc\n"),
            ("a\n\n", "v: |+\n  a\n\n"),
            ("a\nb", "v: |-\n  a\n  b\n"),
        ] {
            let doc = Emit::Struct {
                fields: vec![("v".into(), s(value))],
                extensions: vec![],
            };
            let text = to_yaml(&doc);
            assert_eq!(text, printed, "{value:?}");
            let file: std::sync::Arc<std::path::Path> =
                std::sync::Arc::from(std::path::Path::new("t.yaml"));
            let back = crate::loader::yaml::parse_str(&text, &file).unwrap();
            assert_eq!(
                back.get("v").and_then(|v| v.as_str()),
                Some(value),
                "{text}"
            );
        }
    }

    #[test]
    fn empty_collections_and_literals() {
        let doc = Emit::Struct {
            fields: vec![
                (
                    "bind".into(),
                    Emit::Struct {
                        fields: vec![],
                        extensions: vec![],
                    },
                ),
                ("command".into(), Emit::Seq(vec![])),
                ("script".into(), s("a\nb\n")),
                ("list".into(), Emit::Seq(vec![s("x\ny")])),
            ],
            extensions: vec![],
        };
        assert_eq!(
            to_yaml(&doc),
            "bind: {}\ncommand: []\nscript: |\n  a\n  b\nlist:\n  - |-\n    x\n    y\n"
        );
    }

    #[test]
    fn floats_print_as_go() {
        assert_eq!(inline(&Emit::F32(0.5), 0), "0.5");
        assert_eq!(inline(&Emit::F64(2.0), 0), "2");
        assert_eq!(inline(&Emit::F64(1_000_000.0), 0), "1e+06");
        assert_eq!(inline(&Emit::F32(0.1), 0), "0.1");
    }
}
