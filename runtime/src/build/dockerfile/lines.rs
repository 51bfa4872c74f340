//! From text to logical lines, as BuildKit's parser reads a Dockerfile
//! (`frontend/dockerfile/parser/parser.go`): parser directives at the top,
//! comment lines dropped, lines ending in the escape character joined with
//! the next (comment and blank lines inside a continuation are skipped),
//! and heredoc bodies of RUN/COPY/ADD read after their instruction line.

use super::ast::{Directives, Heredoc};
use super::error::{Location, ParseError};
use super::words::{json_array, split_words, take_flags};

/// One instruction's text with its heredoc bodies.
#[derive(Debug)]
pub struct LogicalLine {
    pub line: usize,
    pub end_line: usize,
    pub text: String,
    pub heredocs: Vec<Heredoc>,
}

/// Split `text` into directives and logical lines.
pub fn logical_lines(file: &str, text: &str) -> Result<(Directives, Vec<LogicalLine>), ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let raw: Vec<&str> = text.lines().collect();
    let (directives, mut i) = directives(file, &raw)?;
    let escape = directives.escape;
    let mut out = Vec::new();
    while i < raw.len() {
        let first = raw[i].trim_start();
        i += 1;
        if first.is_empty() || first.starts_with('#') {
            continue;
        }
        let start = i;
        let (mut joined, mut more) = trim_continuation(first, escape);
        while more && i < raw.len() {
            let next = raw[i];
            i += 1;
            let trimmed = next.trim_start();
            // BuildKit skips comment and empty lines inside a continuation
            // (the latter with a deprecation warning).
            if trimmed.starts_with('#') || trimmed.is_empty() {
                continue;
            }
            let (part, again) = trim_continuation(next, escape);
            joined.push_str(&part);
            more = again;
        }
        let mut line = LogicalLine {
            line: start,
            end_line: i,
            text: joined,
            heredocs: Vec::new(),
        };
        if takes_heredocs(&line.text) && line.text.contains("<<") {
            i = read_heredocs(file, &raw, i, &mut line)?;
        }
        out.push(line);
    }
    Ok((directives, out))
}

/// Parse directives from the top of the file; returns the index of the
/// first line after them. Directive parsing stops at the first line that
/// is not `# name=value` with a known name (BuildKit `DirectiveParser`).
fn directives(file: &str, raw: &[&str]) -> Result<(Directives, usize), ParseError> {
    let mut d = Directives::default();
    let mut seen: Vec<String> = Vec::new();
    for (i, line) in raw.iter().enumerate() {
        let Some((name, value)) = directive(line) else {
            return Ok((d, i));
        };
        let at = || Location {
            file: file.to_string(),
            line: i + 1,
        };
        let lower = name.to_ascii_lowercase();
        if !matches!(lower.as_str(), "syntax" | "escape" | "check") {
            // An unknown directive is a comment and ends the directives.
            return Ok((d, i));
        }
        if seen.contains(&lower) {
            return Err(ParseError::DuplicateDirective {
                at: at(),
                name: lower,
            });
        }
        seen.push(lower.clone());
        match lower.as_str() {
            "syntax" => d.syntax = Some(value.to_string()),
            "check" => d.check = Some(value.to_string()),
            _ => {
                d.escape = match value {
                    "\\" => '\\',
                    "`" => '`',
                    _ => {
                        return Err(ParseError::BadEscape {
                            at: at(),
                            value: value.to_string(),
                        })
                    }
                }
            }
        }
    }
    Ok((d, raw.len()))
}

/// `# name = value` with a name of letters and digits starting with a letter.
fn directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_start().strip_prefix('#')?;
    let (name, value) = rest.split_once('=')?;
    let name = name.trim();
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric());
    let value = value.trim();
    (ok && !value.is_empty()).then_some((name, value))
}

/// Strip a trailing escape character (followed only by blanks); true when
/// the line continues. An escaped escape (`C:\\`) does not continue the
/// line (BuildKit `lineContinuationRegex`).
fn trim_continuation(line: &str, escape: char) -> (String, bool) {
    let trimmed = line.trim_end_matches([' ', '\t', '\r']);
    match trimmed.strip_suffix(escape) {
        Some(rest) if !rest.ends_with(escape) => (rest.to_string(), true),
        _ => (line.trim_end_matches('\r').to_string(), false),
    }
}

/// Only RUN, COPY and ADD take heredocs, also under ONBUILD, and not in
/// their JSON form (BuildKit `heredocDirectives`, `canContainHeredoc`).
fn takes_heredocs(text: &str) -> bool {
    let (word, rest) = split_first(text);
    let (word, rest) = if word.eq_ignore_ascii_case("ONBUILD") {
        split_first(rest)
    } else {
        (word, rest)
    };
    let keyword = ["RUN", "COPY", "ADD"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(word));
    keyword && json_array(take_flags(rest).1).is_none()
}

fn split_first(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    text.split_once(char::is_whitespace).unwrap_or((text, ""))
}

/// Read the bodies of the heredocs named on `line.text`, in order, from
/// `raw[i..]`; returns the index after the last terminator.
fn read_heredocs(
    file: &str,
    raw: &[&str],
    mut i: usize,
    line: &mut LogicalLine,
) -> Result<usize, ParseError> {
    let markers: Vec<Heredoc> = split_words(&line.text, '\\')
        .iter()
        .filter_map(|w| heredoc_marker(w))
        .collect();
    for mut doc in markers {
        let mut closed = false;
        while i < raw.len() {
            let body_line = raw[i].trim_end_matches('\r');
            i += 1;
            let candidate = if doc.chomp {
                body_line.trim_start_matches('\t')
            } else {
                body_line
            };
            if candidate == doc.name {
                closed = true;
                break;
            }
            doc.content.push_str(candidate);
            doc.content.push('\n');
        }
        if !closed {
            return Err(ParseError::UnterminatedHeredoc {
                at: Location {
                    file: file.to_string(),
                    line: line.line,
                },
                delimiter: doc.name,
            });
        }
        line.heredocs.push(doc);
    }
    line.end_line = i;
    Ok(i)
}

/// A word `[fd]<<[-]NAME` (BuildKit `reHeredoc`). Quotes anywhere in the
/// name (`<<"EOF"`, `<<'EOF'`, `<<E"O"F`) are removed and turn expansion
/// of the body off, as in a shell.
pub fn heredoc_marker(word: &str) -> Option<Heredoc> {
    let digits = word.len() - word.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let fd = word[..digits].parse().ok();
    let rest = word[digits..].strip_prefix("<<")?;
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let quoted = rest.contains(['"', '\'']);
    let name: String = rest.chars().filter(|c| !matches!(c, '"' | '\'')).collect();
    let valid = !name.is_empty() && !name.contains(char::is_whitespace);
    valid.then(|| Heredoc {
        name,
        content: String::new(),
        expand: !quoted,
        chomp,
        fd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<LogicalLine> {
        logical_lines("Dockerfile", text).unwrap().1
    }

    #[test]
    fn directives_stop_at_the_first_other_line() {
        let (d, l) = logical_lines(
            "Dockerfile",
            "# syntax=docker/dockerfile:1\n# escape=`\n\n# escape=\\\nFROM a",
        )
        .unwrap();
        assert_eq!(d.syntax.as_deref(), Some("docker/dockerfile:1"));
        assert_eq!(d.escape, '`');
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].line, 5);
    }

    #[test]
    fn duplicate_and_bad_directives_are_errors() {
        let e = logical_lines("Dockerfile", "# escape=`\n# escape=\\\nFROM a").unwrap_err();
        assert!(matches!(e, ParseError::DuplicateDirective { ref at, .. } if at.line == 2));
        let e = logical_lines("Dockerfile", "# escape=x\nFROM a").unwrap_err();
        assert!(e.to_string().starts_with("Dockerfile:1: escape directive"));
    }

    #[test]
    fn continuations_skip_comments_and_blank_lines() {
        let l = lines("RUN a \\\n  # note\n\n  && b \\  \n  c\nCMD x");
        assert_eq!(l[0].text, "RUN a   && b   c");
        assert_eq!((l[0].line, l[0].end_line), (1, 5));
        assert_eq!(l[1].line, 6);
    }

    #[test]
    fn backtick_escape_continues_lines_and_leaves_backslashes() {
        let l = lines("# escape=`\nRUN dir c:\\ `\n  /b\n");
        assert_eq!(l[0].text, "RUN dir c:\\   /b");
    }

    #[test]
    fn heredocs_are_read_in_order_with_chomp_and_quotes() {
        let l = lines("RUN <<A <<-'B'\none $X\nA\n\ttwo\n\tB\nCMD c");
        let docs = &l[0].heredocs;
        assert_eq!(docs.len(), 2);
        assert_eq!(
            (docs[0].name.as_str(), docs[0].content.as_str()),
            ("A", "one $X\n")
        );
        assert!(docs[0].expand && !docs[0].chomp);
        assert_eq!(
            (docs[1].name.as_str(), docs[1].content.as_str()),
            ("B", "two\n")
        );
        assert!(!docs[1].expand && docs[1].chomp);
        assert_eq!(l[0].end_line, 5);
        assert_eq!(l[1].text, "CMD c");
    }

    #[test]
    fn unterminated_heredoc_names_its_line() {
        let e = logical_lines("Dockerfile", "FROM a\nRUN <<EOF\necho\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Dockerfile:2: heredoc `<<EOF` is never closed; end it with a line holding only `EOF`"
        );
    }

    #[test]
    fn escaped_escape_at_the_end_does_not_continue() {
        let l = lines("RUN echo C:\\\\\nRUN next\n");
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].text, "RUN echo C:\\\\");
    }

    #[test]
    fn unknown_directive_ends_the_directives() {
        let (d, _) = logical_lines("Dockerfile", "# foo=bar\n# escape=`\nFROM a").unwrap();
        assert_eq!(d.escape, '\\');
    }

    #[test]
    fn heredocs_only_in_shell_form_and_under_onbuild() {
        let l = lines("RUN [\"cat\", \"<<EOF\"]\nEOF\n");
        assert_eq!(l.len(), 2, "JSON form takes no heredoc");
        let l = lines("ONBUILD RUN <<EOF\nx\nEOF\n");
        assert_eq!(l[0].heredocs[0].content, "x\n");
        let l = lines("COPY --chmod=755 <<E\"O\"F /x\n$A\nEOF\n");
        assert_eq!(l[0].heredocs[0].name, "EOF");
        assert!(!l[0].heredocs[0].expand);
    }

    #[test]
    fn heredoc_markers() {
        assert_eq!(heredoc_marker("3<<EOF").unwrap().fd, Some(3));
        assert!(heredoc_marker("<<").is_none());
        assert!(heredoc_marker("a<<b").is_none());
        assert!(!heredoc_marker("<<\"E\"").unwrap().expand);
    }
}
