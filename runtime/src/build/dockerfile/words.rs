//! Word-level helpers of the parser: quote-aware word splitting (quotes
//! and escapes kept for later expansion), leading `--flag` extraction, and
//! the JSON (exec) form.

/// Split on blanks outside quotes, keeping quotes and escape characters in
/// the words (BuildKit `parseWords`); the expander removes them later.
pub fn split_words(text: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            word.push(c);
            escaped = false;
            continue;
        }
        match (quote, c) {
            (_, c) if c == escape && quote != Some('\'') => {
                escaped = true;
                word.push(c);
            }
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                word.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                word.push(c);
            }
            _ => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Take the leading `--flag[=value]` words off `text` (BuildKit
/// `extractBuilderFlags`): quotes inside a flag are removed, `--` alone
/// ends the flags. Returns the flags (without `--`) and the rest.
pub fn take_flags(text: &str) -> (Vec<String>, &str) {
    let mut flags = Vec::new();
    let mut rest = text.trim_start();
    while rest.starts_with("--") {
        let (word, after) = unquoted_word(rest);
        rest = after.trim_start();
        if word == "--" {
            break;
        }
        flags.push(word[2..].to_string());
    }
    (flags, rest)
}

/// The first blank-delimited word with its quotes removed, and the rest.
fn unquoted_word(text: &str) -> (String, &str) {
    let mut word = String::new();
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => return (word, &text[i..]),
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => word.push(c),
        }
    }
    (word, "")
}

/// The exec form: a JSON array of strings. Anything else (including
/// malformed JSON) is the shell form, as BuildKit `parseMaybeJSON` decides.
pub fn json_array(text: &str) -> Option<Vec<String>> {
    let t = text.trim();
    if !t.starts_with('[') || !t.ends_with(']') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(t).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_quotes_and_escapes() {
        assert_eq!(
            split_words(r#"a="b c" d\ e 'f\ g'"#, '\\'),
            vec![r#"a="b c""#, r"d\ e", r"'f\ g'"]
        );
        assert_eq!(split_words("a` b c", '`'), vec!["a` b", "c"]);
    }

    #[test]
    fn flags_stop_at_the_first_plain_word() {
        let (f, rest) = take_flags("--from=build --chown=\"a b\" --link src --x dst");
        assert_eq!(f, vec!["from=build", "chown=a b", "link"]);
        assert_eq!(rest, "src --x dst");
        let (f, rest) = take_flags("-- --weird dst");
        assert!(f.is_empty());
        assert_eq!(rest, "--weird dst");
    }

    #[test]
    fn json_or_shell() {
        assert_eq!(
            json_array(r#" ["a", "b c"] "#),
            Some(vec!["a".into(), "b c".into()])
        );
        assert_eq!(json_array("[a, b]"), None);
        assert_eq!(json_array("[\"a\", 1]"), None);
        assert_eq!(json_array("echo [x]"), None);
    }
}
