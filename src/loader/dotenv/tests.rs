//! Behaviours pinned by compose-go's dotenv tests, plus line tracking.

use super::*;

fn none(_: &str) -> Option<String> {
    None
}

fn parse(text: &str) -> IndexMap<String, String> {
    let mut vars = IndexMap::new();
    parse_into(text, &none, &mut vars).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    vars
}

fn one(text: &str, key: &str, value: &str) {
    let vars = parse(text);
    assert_eq!(vars.get(key).map(String::as_str), Some(value), "{text:?}");
}

#[test]
fn plain_assignments_and_separators() {
    one("FOO=bar", "FOO", "bar");
    one("FOO =bar", "FOO", "bar");
    one("FOO= bar", "FOO", "bar");
    one("OPTION_A: 1", "OPTION_A", "1");
    one("OPTION_A: Foo=bar", "OPTION_A", "Foo=bar");
    one("OPTION_A=1:B", "OPTION_A", "1:B");
    one("FOO=foobar=", "FOO", "foobar=");
    one("FOO.BAR=foobar", "FOO.BAR", "foobar");
    one("VAR-WITH-DASHES=dashes", "VAR-WITH-DASHES", "dashes");
    one("a[1]=c", "a[1]", "c");
    one(
        "árvíztűrő-TÜKÖRFÚRÓGÉP=ÁRVÍZTŰRŐ-tükörfúrógép",
        "árvíztűrő-TÜKÖRFÚRÓGÉP",
        "ÁRVÍZTŰRŐ-tükörfúrógép",
    );
    one(r#"="value""#, "", "value");
}

#[test]
fn leading_whitespace_and_export_prefix() {
    one(" KEY =value", "KEY", "value");
    one("\tKEY=value", "KEY", "value");
    one("export OPTION_A=2", "OPTION_A", "2");
    one("export OPTION_B='\\n'", "OPTION_B", "\\n");
    one("export exportFoo=2", "exportFoo", "2");
    one("exportFOO=2", "exportFOO", "2");
    one("export_FOO =2", "export_FOO", "2");
    one("export.FOO= 2", "export.FOO", "2");
    one("export\tOPTION_A=2", "OPTION_A", "2");
    one("  export OPTION_A=2", "OPTION_A", "2");
    one(r#"export OPTION_A="export A""#, "OPTION_A", "export A");
}

#[test]
fn unquoted_values_trim_and_drop_inline_comments() {
    one("FOO=bar ", "FOO", "bar");
    one("FOO=bar # this is foo", "FOO", "bar");
    one("FOO=bar #this is foo", "FOO", "bar");
    one("FOO=bar #", "FOO", "bar");
    one(
        "FOO=123#not-an-inline-comment",
        "FOO",
        "123#not-an-inline-comment",
    );
    one(r"FOO=a\tb", "FOO", r"a\tb");
    one("FOO=bar\r\nB=2", "FOO", "bar");
    one("FOO=\nBAR=1", "FOO", "");
}

#[test]
fn quoted_values() {
    one(r#"FOO="bar""#, "FOO", "bar");
    one("FOO='bar'", "FOO", "bar");
    one(r#"FOO="escaped\"bar""#, "FOO", r#"escaped"bar"#);
    one(r#"FOO="\"quoted\"""#, "FOO", r#""quoted""#);
    one(r#"FOO="'d'""#, "FOO", "'d'");
    one("OPTION_K='Let\\'s go!'", "OPTION_K", "Let's go!");
    one(r#"FOO="bar#baz" # comment"#, "FOO", "bar#baz");
    one(r##"FOO="bar#baz"#"##, "FOO", "bar#baz");
    one("FOO='bar#baz' # comment", "FOO", "bar#baz");
    one(
        r#"OPTION_I = "echo 'asd'" # Inline comment"#,
        "OPTION_I",
        "echo 'asd'",
    );
    one("OPTION_C=''", "OPTION_C", "");
    one("OPTION_D='\\n'", "OPTION_D", "\\n");
}

#[test]
fn double_quotes_understand_shell_escapes() {
    one(r#"FOO="bar\nbaz""#, "FOO", "bar\nbaz");
    one(r#"FOO="a\tb""#, "FOO", "a\tb");
    one(
        r#"KEY="Z\aZ\bZ\fZ\nZ\rZ\tZ\vZ\\Z\0123Z""#,
        "KEY",
        "Z\u{7}Z\u{8}Z\u{c}Z\nZ\rZ\tZ\u{b}Z\\ZSZ",
    );
    one(r#"KEY="\0123""#, "KEY", "S");
    one(r#"KEY="\x07""#, "KEY", r"\x07");
    one(r#"KEY="\u12e4""#, "KEY", r"\u12e4");
    one(r#"FOO="bar\n\ b\az""#, "FOO", "bar\n\\ b\u{7}z");
    one(r#"FOO="bar\\\n\ b\az""#, "FOO", "bar\\\n\\ b\u{7}z");
    one(r#"FOO="bar\\r\ b\az""#, "FOO", "bar\\r\\ b\u{7}z");
    one(r#"FOO="bar\nbaz\\""#, "FOO", "bar\nbaz\\");
}

#[test]
fn quoted_values_may_span_lines() {
    let vars = parse(
        "OPTION_J = 'first line\nsecond line\nthird line\nand so on'\nOPTION_Z = \"last value\"\n",
    );
    assert_eq!(
        vars["OPTION_J"],
        "first line\nsecond line\nthird line\nand so on"
    );
    assert_eq!(vars["OPTION_Z"], "last value");
    one(
        "TEST_URLS=\"stratum+tcp://a:3333\nstratum+tcp://b:443\"",
        "TEST_URLS",
        "stratum+tcp://a:3333\nstratum+tcp://b:443",
    );
}

#[test]
fn expansion_of_earlier_variables() {
    let vars = parse("OPTION_A=1\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\nOPTION_D=${OPTION_A}_${OPTION_B}\nOPTION_E=${OPTION_NOT_DEFINED}\n");
    assert_eq!(vars["OPTION_B"], "1");
    assert_eq!(vars["OPTION_C"], "1");
    assert_eq!(vars["OPTION_D"], "1_1");
    assert_eq!(vars["OPTION_E"], "");
    one("FOO=test\nBAR=\"quote $FOO\"", "BAR", "quote test");
    one("BAR='quote $FOO'", "BAR", "quote $FOO");
    one(r#"FOO="foo\$BAR""#, "FOO", "foo$BAR");
    one(r#"FOO="foo\${BAR}""#, "FOO", "foo${BAR}");
    one(
        "FOO=test\nBAR=\"foo\\${FOO} ${FOO}\"",
        "BAR",
        "foo${FOO} test",
    );
    one("FOO=$$x", "FOO", "$x");
}

#[test]
fn the_lookup_wins_over_earlier_lines() {
    // compose-go TestSubstitutionsWithEnvFilePrecedence: the shell's OPTION_A
    // is used for expansion, the file's own value is still recorded.
    let shell = |k: &str| (k == "OPTION_A").then(|| "5".to_string());
    let mut vars = IndexMap::new();
    parse_into(
        "OPTION_A=1\nOPTION_B=${OPTION_A}\nOPTION_C=${OPTION_A:-9}",
        &shell,
        &mut vars,
    )
    .unwrap();
    assert_eq!(vars["OPTION_A"], "1");
    assert_eq!(vars["OPTION_B"], "5");
    assert_eq!(vars["OPTION_C"], "5");
    let me = |k: &str| (k == "ME").then(|| "YES".to_string());
    assert_eq!(
        parse_str("TEST=$ME", &me).unwrap()[0].value.as_deref(),
        Some("YES")
    );
}

#[test]
fn defaults_and_required_in_values() {
    one("A=${UNSET:-def}", "A", "def");
    one("E=\nA=${E-def}", "A", "");
    let err = parse_str("X=1\nRESULT=${UNSET_VAR:?Test error}", &none).unwrap_err();
    assert_eq!(
        err,
        SyntaxError::MissingRequired {
            line: 2,
            variable: "UNSET_VAR".into(),
            reason: "Test error".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "line 2: required variable UNSET_VAR is missing a value: Test error"
    );
}

#[test]
fn bare_keys_inherit_from_the_lookup() {
    let shell = |k: &str| (k == "FROM_SHELL").then(|| "shell value".to_string());
    let entries = parse_str("FROM_SHELL\nfoo=bar\nNOT_FOUND\nLAST", &shell).unwrap();
    assert_eq!(
        entries,
        vec![
            EnvEntry {
                key: "FROM_SHELL".into(),
                value: Some("shell value".into()),
                line: 1
            },
            EnvEntry {
                key: "foo".into(),
                value: Some("bar".into()),
                line: 2
            },
            EnvEntry {
                key: "NOT_FOUND".into(),
                value: None,
                line: 3
            },
            EnvEntry {
                key: "LAST".into(),
                value: None,
                line: 4
            },
        ]
    );
}

#[test]
fn lines_are_those_of_the_keys() {
    let text = "# header\n\nA=1\nB='multi\nline'\n  export C=\"x\" # c\n\nD\n";
    let entries = parse_str(text, &|_| Some("d".into())).unwrap();
    let lines: Vec<_> = entries.iter().map(|e| (e.key.as_str(), e.line)).collect();
    assert_eq!(lines, [("A", 3), ("B", 4), ("C", 6), ("D", 8)]);
}

#[test]
fn ignorable_input_yields_nothing() {
    for text in ["\n", "\r\n", "\t\t ", "# Comment", "\t # comment", ""] {
        assert!(parse_str(text, &none).unwrap().is_empty(), "{text:?}");
    }
}

#[test]
fn byte_order_mark_is_ignored() {
    one("\u{feff}OPTION_A=1\nOPTION_B=2", "OPTION_A", "1");
}

#[test]
fn syntax_errors_name_the_line() {
    let err = parse_str("A=1\nlol$wut", &none).unwrap_err();
    assert!(
        matches!(
            err,
            SyntaxError::UnexpectedCharacter {
                line: 2,
                character: '$',
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        parse_str("%!(EXTRA string)=foo", &none)
            .unwrap_err()
            .to_string(),
        "line 1: unexpected character '%' in variable name \"%!(EXTRA string)=foo\""
    );
    let err = parse_str("A=1\n\n\nFOO BAR=1", &none).unwrap_err();
    assert!(
        matches!(err, SyntaxError::SpaceInKey { line: 4, .. }),
        "{err:?}"
    );
    for text in [
        r#"KEY=""#,
        r#"KEY="value"#,
        r#"KEY="value\""#,
        r#"KEY="value'"#,
        "KEY='",
        "KEY='value",
        r"KEY='value\'",
        r#"KEY='value""#,
    ] {
        let err = parse_str(text, &none).unwrap_err();
        assert!(
            err.to_string().contains("unterminated quoted value"),
            "{text:?}: {err}"
        );
    }
    let err = parse_str("A=${", &none).unwrap_err();
    assert!(matches!(
        err,
        SyntaxError::InvalidInterpolation { line: 1, .. }
    ));
}

#[test]
fn many_lines_parse_linearly() {
    let text: String = (0..1000).map(|i| format!("KEY{i}=VALUE{i}\n")).collect();
    assert_eq!(parse(&text).len(), 1000);
}

#[test]
fn later_files_see_earlier_ones_and_shell_wins_expansion() {
    // compose-go TestMultipleFiles.
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.env");
    let over = dir.path().join("override.env");
    std::fs::write(
        &base,
        "ENV_HOSTNAME=localhost\nENV_MY_URL=\"http://${ENV_HOSTNAME}\"\n",
    )
    .unwrap();
    std::fs::write(
        &over,
        "ENV_HOSTNAME=dev.my-company.com\nENV_MY_URL=\"http://${ENV_HOSTNAME}\"\n",
    )
    .unwrap();
    let mut vars = IndexMap::new();
    read_env_file(&base, &none, &mut vars).unwrap();
    read_env_file(&over, &none, &mut vars).unwrap();
    assert_eq!(vars["ENV_MY_URL"], "http://dev.my-company.com");

    let shell = |k: &str| (k == "ENV_HOSTNAME").then(|| "host.local".to_string());
    let mut vars = IndexMap::new();
    read_env_file(&base, &shell, &mut vars).unwrap();
    read_env_file(&over, &shell, &mut vars).unwrap();
    assert_eq!(vars["ENV_HOSTNAME"], "dev.my-company.com");
    assert_eq!(vars["ENV_MY_URL"], "http://host.local");
}

#[test]
fn file_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.env");
    let err = read_env_file(&missing, &none, &mut IndexMap::new()).unwrap_err();
    assert!(matches!(err, EnvFileError::NotFound { .. }));
    assert!(err.to_string().contains("nope.env not found"));
    let err = read_env_file(dir.path(), &none, &mut IndexMap::new()).unwrap_err();
    assert!(matches!(err, EnvFileError::IsADirectory { .. }), "{err:?}");
    let bad = dir.path().join("bad.env");
    std::fs::write(&bad, "OK=1\nFOO BAR=2\n").unwrap();
    let err = read_env_file(&bad, &none, &mut IndexMap::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:line 2: key \"FOO BAR\" cannot contain a space",
            bad.display()
        )
    );
}
