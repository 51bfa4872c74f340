//! Source excerpts under error messages: the line the error points at, with a
//! caret under the column, the way compilers show them. docker compose prints
//! only `line 12`; showing the line saves the user a trip to the editor.

use crate::loader::node::Span;

/// The line `span` points into and a caret line, or `None` when the file
/// cannot be read (stdin, deleted) or the line does not exist.
pub fn render(span: &Span) -> Option<String> {
    let text = std::fs::read_to_string(&*span.file).ok()?;
    render_in(&text, span.line, span.column)
}

/// The `file:line:column` an error message starts with, as every located
/// loader error does (its `Location` is displayed first).
pub fn leading_span(message: &str) -> Option<Span> {
    let head = message.split(": ").next()?;
    let mut parts = head.rsplitn(3, ':');
    let column = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    let file = parts.next()?;
    if file.is_empty() {
        return None;
    }
    Some(Span {
        file: std::sync::Arc::from(std::path::Path::new(file)),
        line,
        column,
    })
}

/// Like [`render`], for text already in memory.
pub fn render_in(text: &str, line: usize, column: usize) -> Option<String> {
    let source = text.lines().nth(line.checked_sub(1)?)?;
    let number = line.to_string();
    let gutter = " ".repeat(number.len());
    // Tabs keep their width in the caret line so the caret stays aligned.
    let pad: String = source
        .chars()
        .take(column.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    Some(format!(
        "{gutter} |\n{number} | {source}\n{gutter} | {pad}^"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_points_at_the_column() {
        let text = "services:\n  web:\n    image: [a\n";
        let out = render_in(text, 3, 12).unwrap();
        assert_eq!(out, "  |\n3 |     image: [a\n  |            ^");
    }

    #[test]
    fn leading_span_reads_the_location_prefix() {
        let s = leading_span("/p/compose.yaml:12:9: services.web.ports[1]: bad").unwrap();
        assert_eq!(s.file.to_str(), Some("/p/compose.yaml"));
        assert_eq!((s.line, s.column), (12, 9));
        assert!(leading_span("no such service: web").is_none());
        assert!(leading_span("services.web: x").is_none());
    }

    #[test]
    fn missing_lines_give_nothing() {
        assert!(render_in("a: 1\n", 5, 1).is_none());
        assert!(render_in("a: 1\n", 0, 1).is_none());
    }
}
