//! The shell-word processor BuildKit applies to the instructions that
//! allow variables (`frontend/dockerfile/shell/lex.go`; Dockerfile
//! reference "Environment replacement"): quote removal, the escape
//! character, `$VAR`, `${VAR}` and the `-`, `:-`, `+`, `:+`, `?`, `:?`
//! modifiers. Unset variables expand to nothing.

use std::collections::BTreeSet;

/// A word that cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    #[error("unterminated {what} in `{word}`")]
    Unterminated { what: &'static str, word: String },
    #[error("bad substitution `{text}` in `{word}`: use ${{NAME}}, ${{NAME:-default}}, ${{NAME:+alternative}} or ${{NAME:?message}}")]
    BadSubstitution { text: String, word: String },
    #[error("{name}: {message}")]
    Required { name: String, message: String },
}

/// One character of output and whether blank splitting applies to it
/// (false inside quotes).
type Piece = (char, bool);

/// Expands words against a variable lookup and records which variables
/// were referenced (set or not), for cache keys and unused-arg warnings.
pub struct Shell<'a> {
    escape: char,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    pub used: BTreeSet<String>,
}

impl<'a> Shell<'a> {
    pub fn new(escape: char, lookup: &'a dyn Fn(&str) -> Option<String>) -> Shell<'a> {
        Shell {
            escape,
            lookup,
            used: BTreeSet::new(),
        }
    }

    /// Expand `word` into one string (quotes removed, blanks kept).
    pub fn word(&mut self, word: &str) -> Result<String, ExpandError> {
        Ok(self.pieces(word)?.into_iter().map(|(c, _)| c).collect())
    }

    /// Expand `text` and split it into words on unquoted blanks, including
    /// blanks that came from unquoted variable values.
    pub fn words(&mut self, text: &str) -> Result<Vec<String>, ExpandError> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut quoted_empty = false;
        for (c, split) in self.pieces_marking_quotes(text, &mut quoted_empty)? {
            if split && c.is_whitespace() {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            } else {
                cur.push(c);
            }
        }
        if !cur.is_empty() || (out.is_empty() && quoted_empty) {
            out.push(cur);
        }
        Ok(out)
    }

    /// Expand the body of an unquoted heredoc as a shell does (POSIX
    /// "Here-Document"): `$` references are replaced, the escape character
    /// only escapes `$` and itself, quotes are ordinary characters.
    pub fn heredoc(&mut self, body: &str) -> Result<String, ExpandError> {
        let chars: Vec<char> = body.chars().collect();
        let mut lx = Lexer {
            chars: &chars,
            pos: 0,
            word: body,
        };
        let mut out = String::new();
        while let Some(c) = lx.next() {
            match c {
                '$' => out.push_str(&self.dollar(&mut lx)?),
                c if c == self.escape => match lx.peek() {
                    Some(n) if n == '$' || n == self.escape => {
                        lx.pos += 1;
                        out.push(n);
                    }
                    _ => out.push(c),
                },
                c => out.push(c),
            }
        }
        Ok(out)
    }

    fn pieces(&mut self, word: &str) -> Result<Vec<Piece>, ExpandError> {
        let mut ignored = false;
        self.pieces_marking_quotes(word, &mut ignored)
    }

    fn pieces_marking_quotes(
        &mut self,
        word: &str,
        saw_quotes: &mut bool,
    ) -> Result<Vec<Piece>, ExpandError> {
        let chars: Vec<char> = word.chars().collect();
        let mut lexer = Lexer {
            chars: &chars,
            pos: 0,
            word,
        };
        let out = self.process(&mut lexer, None, saw_quotes)?;
        Ok(out)
    }

    /// Process until `stop` (outside quotes) or the end.
    fn process(
        &mut self,
        lx: &mut Lexer<'_>,
        stop: Option<char>,
        saw_quotes: &mut bool,
    ) -> Result<Vec<Piece>, ExpandError> {
        let mut out = Vec::new();
        while let Some(c) = lx.peek() {
            if Some(c) == stop {
                return Ok(out);
            }
            lx.pos += 1;
            match c {
                // A trailing escape is dropped (BuildKit `processStopOn`).
                c if c == self.escape => {
                    if let Some(n) = lx.next() {
                        out.push((n, false));
                    }
                }
                '\'' => {
                    *saw_quotes = true;
                    let text = lx
                        .until('\'')
                        .ok_or_else(|| lx.unterminated("single quote"))?;
                    out.extend(text.chars().map(|c| (c, false)));
                }
                '"' => {
                    *saw_quotes = true;
                    self.double_quoted(lx, &mut out)?;
                }
                '$' => {
                    let value = self.dollar(lx)?;
                    out.extend(value.chars().map(|c| (c, true)));
                }
                c => out.push((c, true)),
            }
        }
        match stop {
            Some(_) => Err(lx.unterminated("`${`")),
            None => Ok(out),
        }
    }

    fn double_quoted(
        &mut self,
        lx: &mut Lexer<'_>,
        out: &mut Vec<Piece>,
    ) -> Result<(), ExpandError> {
        loop {
            let c = lx.next().ok_or_else(|| lx.unterminated("double quote"))?;
            match c {
                '"' => return Ok(()),
                '$' => {
                    let value = self.dollar(lx)?;
                    out.extend(value.chars().map(|c| (c, false)));
                }
                // Inside double quotes the escape only escapes `"`, `$` and
                // itself; elsewhere it stays (BuildKit processDoubleQuote).
                c if c == self.escape => match lx.peek() {
                    Some(n) if n == '"' || n == '$' || n == self.escape => {
                        lx.pos += 1;
                        out.push((n, false));
                    }
                    None => {}
                    _ => out.push((c, false)),
                },
                c => out.push((c, false)),
            }
        }
    }

    /// After a `$`: a name, `${...}`, or a literal `$`.
    fn dollar(&mut self, lx: &mut Lexer<'_>) -> Result<String, ExpandError> {
        if lx.peek() == Some('{') {
            lx.pos += 1;
            return self.braced(lx);
        }
        let name = lx.name();
        if name.is_empty() {
            return Ok("$".to_string());
        }
        Ok(self.get(&name).unwrap_or_default())
    }

    fn get(&mut self, name: &str) -> Option<String> {
        self.used.insert(name.to_string());
        (self.lookup)(name)
    }

    fn braced(&mut self, lx: &mut Lexer<'_>) -> Result<String, ExpandError> {
        let start = lx.pos;
        let name = lx.name();
        let bad = |lx: &Lexer<'_>| ExpandError::BadSubstitution {
            text: lx.chars[start.saturating_sub(2)..lx.pos.min(lx.chars.len())]
                .iter()
                .collect(),
            word: lx.word.to_string(),
        };
        if name.is_empty() {
            lx.pos += 1;
            return Err(bad(lx));
        }
        let value = self.get(&name);
        let colon = lx.peek() == Some(':');
        if colon {
            lx.pos += 1;
        }
        let op = lx.next().ok_or_else(|| lx.unterminated("`${`"))?;
        if op == '}' && !colon {
            return Ok(value.unwrap_or_default());
        }
        if !matches!(op, '-' | '+' | '?') {
            return Err(bad(lx));
        }
        let mut ignored = false;
        let arg: String = self
            .process(lx, Some('}'), &mut ignored)?
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        lx.pos += 1; // the `}`
                     // With `:` an empty value counts as unset (POSIX parameter expansion).
        let set = match &value {
            Some(v) => !(colon && v.is_empty()),
            None => false,
        };
        match op {
            '-' => Ok(if set { value.unwrap_or_default() } else { arg }),
            '+' => Ok(if set { arg } else { String::new() }),
            _ if set => Ok(value.unwrap_or_default()),
            _ => Err(ExpandError::Required {
                message: if arg.is_empty() {
                    "is not set".to_string()
                } else {
                    arg
                },
                name,
            }),
        }
    }
}

struct Lexer<'w> {
    chars: &'w [char],
    pos: usize,
    word: &'w str,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn until(&mut self, end: char) -> Option<String> {
        let mut s = String::new();
        loop {
            match self.next()? {
                c if c == end => return Some(s),
                c => s.push(c),
            }
        }
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`, a run of digits (`$1`), a shell special
    /// parameter (`$@`, `$$`, ...), or nothing. Positional and special
    /// parameters are never set in a build, so they expand to nothing, as
    /// BuildKit's `processName` makes them.
    fn name(&mut self) -> String {
        let mut s = String::new();
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {
                while let Some(d) = self.peek().filter(char::is_ascii_digit) {
                    s.push(d);
                    self.pos += 1;
                }
                return s;
            }
            Some(c @ ('@' | '*' | '#' | '?' | '-' | '$' | '!')) => {
                self.pos += 1;
                return c.to_string();
            }
            _ => {}
        }
        while let Some(c) = self.peek() {
            let ok = c == '_' || c.is_ascii_alphabetic() || (!s.is_empty() && c.is_ascii_digit());
            if !ok {
                break;
            }
            s.push(c);
            self.pos += 1;
        }
        s
    }

    fn unterminated(&self, what: &'static str) -> ExpandError {
        ExpandError::Unterminated {
            what,
            word: self.word.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "A" => Some("alpha".into()),
            "EMPTY" => Some(String::new()),
            "SP" => Some("x  y".into()),
            _ => None,
        }
    }

    fn w(word: &str) -> Result<String, ExpandError> {
        Shell::new('\\', &vars).word(word)
    }

    #[test]
    fn plain_and_braced_references() {
        assert_eq!(w("$A/${A}_$A1-$UNSET.").unwrap(), "alpha/alpha_-.");
        assert_eq!(w("cost: $5 and $ or $$.").unwrap(), "cost:  and $ or .");
        assert_eq!(w("trailing\\").unwrap(), "trailing");
    }

    #[test]
    fn modifiers_with_and_without_colon() {
        assert_eq!(
            w("${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} ${A:-d}").unwrap(),
            "d d  alpha"
        );
        assert_eq!(
            w("${UNSET:+x} ${EMPTY:+x} ${EMPTY+x} ${A:+x}").unwrap(),
            "  x x"
        );
        assert_eq!(w("${UNSET:-${A}-$A}").unwrap(), "alpha-alpha");
        assert_eq!(w("${A:?boom}").unwrap(), "alpha");
        assert_eq!(
            w("${EMPTY:?must be set}").unwrap_err().to_string(),
            "EMPTY: must be set"
        );
        assert!(w("${EMPTY?x}").is_ok());
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(
            w(r#"'$A' "$A" \$A "\$A" "a\b" \"q"#).unwrap(),
            r#"$A alpha $A $A a\b "q"#
        );
        assert_eq!(
            Shell::new('`', &vars).word("`$A c:\\x").unwrap(),
            "$A c:\\x"
        );
    }

    #[test]
    fn heredoc_bodies_keep_quotes() {
        let mut sh = Shell::new('\\', &vars);
        assert_eq!(
            sh.heredoc("echo \"$A\" '${A}' \\$A \\n ${UNSET:-d}\n")
                .unwrap(),
            "echo \"alpha\" 'alpha' $A \\n d\n"
        );
    }

    #[test]
    fn errors() {
        assert!(matches!(
            w("'open"),
            Err(ExpandError::Unterminated {
                what: "single quote",
                ..
            })
        ));
        assert!(matches!(w("\"open"), Err(ExpandError::Unterminated { .. })));
        assert!(matches!(w("${A"), Err(ExpandError::Unterminated { .. })));
        assert!(matches!(
            w("${A%x}"),
            Err(ExpandError::BadSubstitution { .. })
        ));
        assert!(matches!(w("${}"), Err(ExpandError::BadSubstitution { .. })));
    }

    #[test]
    fn words_split_on_unquoted_blanks_only() {
        let mut sh = Shell::new('\\', &vars);
        assert_eq!(
            sh.words(r#"80 "$SP" $SP ''"#).unwrap(),
            vec!["80", "x  y", "x", "y"]
        );
        assert_eq!(sh.words("\"\"").unwrap(), vec![""]);
        assert_eq!(sh.used.iter().collect::<Vec<_>>(), ["SP"]);
    }
}
