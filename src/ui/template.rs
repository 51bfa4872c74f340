//! `--format` templates the way the docker CLI reads them: `table`,
//! `json`, or a Go text/template over each row's JSON object. We take the
//! part of Go's template language that `--format` is used with: field
//! references (`{{.Name}}`), `{{json .}}` / `{{json .Field}}`, `{{upper
//! .X}}` / `{{lower .X}}`, and the `table ` prefix, which adds a header of
//! the field names and aligns the columns with Go's tabwriter. Anything
//! else is an error that names the action, never a silently empty cell.

use super::table::{self, Layout};
use serde_json::Value;

/// A parsed `--format` value.
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    /// The command's own table.
    Table,
    /// One JSON object a line.
    Json,
    /// A template, once a row; `table` adds a header and aligns columns.
    Template { parts: Vec<Part>, table: bool },
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Text(String),
    Action(Action),
}

/// What one `{{...}}` prints.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// `None` is the row itself (`.`).
    field: Option<String>,
    func: Func,
    /// The action as written, for errors and table headers.
    source: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Func {
    Plain,
    Json,
    Upper,
    Lower,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TemplateError {
    #[error("--format {format:?}: unclosed action (a `{{{{` without `}}}}`)")]
    Unclosed { format: String },
    #[error("--format {format:?}: {{{{{action}}}}} is not supported: use {{{{.Field}}}}, {{{{json .}}}}, {{{{json .Field}}}}, {{{{upper .Field}}}} or {{{{lower .Field}}}}")]
    Unsupported { format: String, action: String },
    #[error("--format: template: no field {field:?} here; the fields are: {known}")]
    NoField { field: String, known: String },
}

impl Format {
    /// `table`, `json`, or a template.
    pub fn parse(text: &str) -> Result<Format, TemplateError> {
        match text {
            "" | "table" => return Ok(Format::Table),
            "json" => return Ok(Format::Json),
            _ => {}
        }
        let (body, table) = match text.strip_prefix("table ") {
            Some(rest) => (rest, true),
            None => (text, false),
        };
        let body = body.replace("\\t", "\t").replace("\\n", "\n");
        Ok(Format::Template {
            parts: parse_parts(text, &body)?,
            table,
        })
    }

    /// Print `rows` (JSON objects) with this format; `table` renders the
    /// command's own table for [`Format::Table`].
    pub fn render(
        &self,
        rows: &[Value],
        own_table: impl FnOnce() -> String,
    ) -> Result<String, TemplateError> {
        match self {
            Format::Table => Ok(own_table()),
            Format::Json => Ok(rows.iter().map(|r| format!("{r}\n")).collect()),
            Format::Template { parts, table } => {
                let mut lines = Vec::new();
                for row in rows {
                    lines.push(render_row(parts, row)?);
                }
                if !table {
                    return Ok(lines.iter().map(|l| format!("{l}\n")).collect());
                }
                Ok(aligned(&header(parts), &lines))
            }
        }
    }
}

fn parse_parts(format: &str, body: &str) -> Result<Vec<Part>, TemplateError> {
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            parts.push(Part::Text(rest[..start].to_string()));
        }
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| TemplateError::Unclosed {
            format: format.to_string(),
        })?;
        parts.push(Part::Action(parse_action(format, after[..end].trim())?));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    Ok(parts)
}

fn parse_action(format: &str, source: &str) -> Result<Action, TemplateError> {
    let unsupported = || TemplateError::Unsupported {
        format: format.to_string(),
        action: source.to_string(),
    };
    let words: Vec<&str> = source.split_whitespace().collect();
    let (func, arg) = match words.as_slice() {
        [arg] => (Func::Plain, *arg),
        ["json", arg] => (Func::Json, *arg),
        ["upper", arg] => (Func::Upper, *arg),
        ["lower", arg] => (Func::Lower, *arg),
        _ => return Err(unsupported()),
    };
    let field = match arg {
        "." => None,
        _ => {
            let name = arg.strip_prefix('.').ok_or_else(unsupported)?;
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(unsupported());
            }
            Some(name.to_string())
        }
    };
    Ok(Action {
        field,
        func,
        source: source.to_string(),
    })
}

fn render_row(parts: &[Part], row: &Value) -> Result<String, TemplateError> {
    let mut out = String::new();
    for part in parts {
        match part {
            Part::Text(text) => out.push_str(text),
            Part::Action(action) => out.push_str(&value(action, row)?),
        }
    }
    Ok(out)
}

fn value(action: &Action, row: &Value) -> Result<String, TemplateError> {
    let v = match &action.field {
        None => row,
        Some(field) => row.get(field).ok_or_else(|| TemplateError::NoField {
            field: field.clone(),
            known: row
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
                .unwrap_or_default(),
        })?,
    };
    let text = match action.func {
        Func::Json => v.to_string(),
        _ => plain(v),
    };
    Ok(match action.func {
        Func::Upper => text.to_uppercase(),
        Func::Lower => text.to_lowercase(),
        _ => text,
    })
}

/// A value as Go's template prints it: strings bare, numbers and bools as
/// written, null as `<no value>`, lists `[a b]`, objects as JSON.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<no value>".to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(plain).collect::<Vec<_>>().join(" ")
        ),
        other => other.to_string(),
    }
}

/// The header line of a `table` template: each action's field name in
/// capitals (the docker CLI's headers for its own fields are the same
/// words), the text between actions kept.
fn header(parts: &[Part]) -> String {
    let mut out = String::new();
    for part in parts {
        match part {
            Part::Text(text) => out.push_str(text),
            Part::Action(action) => match &action.field {
                Some(field) => out.push_str(&field_header(field)),
                None => out.push_str(&action.source.to_uppercase()),
            },
        }
    }
    out
}

/// `RunningFor` → `RUNNING FOR`, `ID` → `ID`.
fn field_header(field: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = field.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        if i > 0 && c.is_uppercase() && (chars[i - 1].is_lowercase() || next_lower) {
            out.push(' ');
        }
        out.extend(c.to_uppercase());
    }
    out
}

/// Tab-separated lines aligned as the docker CLI's tabwriter does.
fn aligned(header: &str, lines: &[String]) -> String {
    let split = |l: &str| l.split('\t').map(str::to_string).collect::<Vec<_>>();
    let head = split(header);
    let columns = head.len();
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            let mut cells = split(l);
            cells.resize(columns, String::new());
            cells
        })
        .collect();
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    table::render(
        Layout {
            min_width: 10,
            padding: 3,
        },
        &head,
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows() -> Vec<Value> {
        vec![
            json!({"Name": "p-web-1", "State": "running", "RunningFor": "2 minutes ago", "Publishers": [1, 2]}),
            json!({"Name": "p-db-1", "State": "exited", "RunningFor": "1 hour ago", "Publishers": []}),
        ]
    }

    fn render(format: &str) -> Result<String, TemplateError> {
        Format::parse(format)?.render(&rows(), || "own".to_string())
    }

    #[test]
    fn table_and_json_are_the_commands_own() {
        assert_eq!(render("table").unwrap(), "own");
        assert_eq!(render("").unwrap(), "own");
        let json = render("json").unwrap();
        assert_eq!(json.lines().count(), 2);
        assert!(json.starts_with("{\"Name\":\"p-web-1\""), "{json}");
    }

    #[test]
    fn fields_functions_and_escapes() {
        assert_eq!(
            render("{{.Name}} {{ .State }}").unwrap(),
            "p-web-1 running\np-db-1 exited\n"
        );
        assert_eq!(
            render("{{upper .State}}\\t{{json .Publishers}}").unwrap(),
            "RUNNING\t[1,2]\nEXITED\t[]\n"
        );
        assert_eq!(render("{{.Publishers}}").unwrap(), "[1 2]\n[]\n");
        assert!(render("{{json .}}").unwrap().starts_with("{\"Name\""));
    }

    #[test]
    fn table_templates_get_a_header_and_aligned_columns() {
        assert_eq!(
            render("table {{.Name}}\\t{{.RunningFor}}").unwrap(),
            "NAME      RUNNING FOR\np-web-1   2 minutes ago\np-db-1    1 hour ago\n"
        );
        assert_eq!(field_header("ID"), "ID");
        assert_eq!(field_header("CreatedAt"), "CREATED AT");
    }

    #[test]
    fn mistakes_are_named() {
        let err = render("{{.Nope}}").unwrap_err().to_string();
        assert!(err.contains("\"Nope\"") && err.contains("Name, "), "{err}");
        let err = render("{{range .}}x{{end}}").unwrap_err().to_string();
        assert!(err.contains("{{range .}} is not supported"), "{err}");
        assert!(matches!(
            render("{{.Name"),
            Err(TemplateError::Unclosed { .. })
        ));
    }
}
