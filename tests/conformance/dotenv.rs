//! Env files (compose-go `dotenv` tests: godotenv's parsing cases and
//! expansion rules), read through a service's `env_file` and checked in its
//! resolved `environment`.

use super::support::Project;

/// The service environment after reading an env file holding `text`.
fn env_of(text: &str) -> Result<serde_json::Value, String> {
    let p = Project::files(&[
        (
            "compose.yaml",
            "name: d\nservices:\n  s:\n    image: x\n    env_file: [app.env]\n",
        ),
        ("app.env", text),
    ]);
    match compose::loader::load(&p.opts) {
        Ok(loaded) => {
            let yaml = loaded.project.to_yaml().unwrap();
            Ok(super::support::yaml_value(&yaml)["services"]["s"]["environment"].clone())
        }
        Err(e) => Err(e.to_string()),
    }
}

#[track_caller]
fn parses(text: &str, key: &str, value: &str) {
    let env = env_of(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    assert_eq!(env[key].as_str(), Some(value), "{text:?} gave {env}");
}

#[test]
fn godotenv_parsing_cases() {
    let cases: &[(&str, &str, &str)] = &[
        ("FOO=bar", "FOO", "bar"),
        ("FOO =bar", "FOO", "bar"),
        ("FOO= bar", "FOO", "bar"),
        ("FOO=\"bar\"", "FOO", "bar"),
        ("FOO='bar'", "FOO", "bar"),
        ("FOO=\"escaped\\\"bar\"", "FOO", "escaped\"bar"),
        ("FOO=\"\\\"quoted\\\"\"", "FOO", "\"quoted\""),
        ("FOO=\"'d'\"", "FOO", "'d'"),
        ("OPTION_A: 1", "OPTION_A", "1"),
        ("OPTION_A: Foo=bar", "OPTION_A", "Foo=bar"),
        ("OPTION_A=1:B", "OPTION_A", "1:B"),
        ("export OPTION_A=2", "OPTION_A", "2"),
        ("export OPTION_B='\\n'", "OPTION_B", "\\n"),
        ("export exportFoo=2", "exportFoo", "2"),
        ("exportFOO=2", "exportFOO", "2"),
        ("export_FOO =2", "export_FOO", "2"),
        ("export.FOO= 2", "export.FOO", "2"),
        ("export\tOPTION_A=2", "OPTION_A", "2"),
        ("  export OPTION_A=2", "OPTION_A", "2"),
        ("\texport OPTION_A=2", "OPTION_A", "2"),
        ("export OPTION_A=\"export A\"", "OPTION_A", "export A"),
        ("FOO=\"bar\\nbaz\"", "FOO", "bar\nbaz"),
        ("FOO=a\\tb", "FOO", "a\\tb"),
        ("FOO=\"a\\tb\"", "FOO", "a\tb"),
        (
            "KEY=\"Z\\aZ\\bZ\\fZ\\nZ\\rZ\\tZ\\vZ\\\\Z\\0123Z\"",
            "KEY",
            "Z\x07Z\x08Z\x0cZ\nZ\rZ\tZ\x0bZ\\ZSZ",
        ),
        ("FOO.BAR=foobar", "FOO.BAR", "foobar"),
        ("FOO=foobar=", "FOO", "foobar="),
        ("FOO=bar ", "FOO", "bar"),
        ("FOO=bar # this is foo", "FOO", "bar"),
        ("FOO=bar #this is foo", "FOO", "bar"),
        ("FOO=bar #", "FOO", "bar"),
        (
            "FOO=123#not-an-inline-comment",
            "FOO",
            "123#not-an-inline-comment",
        ),
        ("FOO=\"bar#baz\"", "FOO", "bar#baz"),
        ("FOO=\"bar#baz\"#", "FOO", "bar#baz"),
        ("FOO=\"bar#baz\" # comment", "FOO", "bar#baz"),
        ("FOO='bar#baz' # comment", "FOO", "bar#baz"),
        ("FOO=\"bar#baz#bang\" # comment", "FOO", "bar#baz#bang"),
        ("FOO=\"ba#r\"", "FOO", "ba#r"),
        ("FOO='ba#r'", "FOO", "ba#r"),
        ("FOO=\"bar\\n\\ b\\az\"", "FOO", "bar\n\\ b\x07z"),
        ("FOO=\"bar\\\\\\n\\ b\\az\"", "FOO", "bar\\\n\\ b\x07z"),
        ("FOO=\"bar\\\\r\\ b\\az\"", "FOO", "bar\\r\\ b\x07z"),
        ("FOO=\"bar\\nbaz\\\\\"", "FOO", "bar\nbaz\\"),
        (" KEY =value", "KEY", "value"),
        ("   KEY=value", "KEY", "value"),
        ("\tKEY=value", "KEY", "value"),
        ("KEY=\"\\0123\"", "KEY", "S"),
        ("KEY=\"\\x07\"", "KEY", "\\x07"),
        ("KEY=\"\\u12e4\"", "KEY", "\\u12e4"),
        ("KEY=\"\\U00101234\"", "KEY", "\\U00101234"),
    ];
    for (text, key, value) in cases {
        parses(text, key, value);
    }
}

#[test]
fn a_badly_formatted_line_is_refused() {
    let err = env_of("lol$wut").unwrap_err();
    assert!(err.contains("app.env"), "{err}");
}

#[test]
fn quoted_fixture() {
    let env = env_of(concat!(
        "OPTION_A='1'\nOPTION_B='2'\nOPTION_C=''\nOPTION_D='\\n'\nOPTION_E=\"1\"\nOPTION_F=\"2\"\nOPTION_G=\"\"\nOPTION_H=\"\\n\"\n",
        "OPTION_I = \"echo 'asd'\" # Inline comment\nOPTION_J = 'first line\nsecond line\nthird line\nand so on'\n",
        "OPTION_K='Let\\'s go!'\nOPTION_Z = \"last value\"\n",
    ))
    .unwrap();
    let expected = serde_json::json!({
        "OPTION_A": "1", "OPTION_B": "2", "OPTION_C": "", "OPTION_D": "\\n", "OPTION_E": "1",
        "OPTION_F": "2", "OPTION_G": "", "OPTION_H": "\n", "OPTION_I": "echo 'asd'",
        "OPTION_J": "first line\nsecond line\nthird line\nand so on", "OPTION_K": "Let's go!",
        "OPTION_Z": "last value",
    });
    assert_eq!(env, expected);
}

#[test]
fn substitutions_and_special_names() {
    let env = env_of(concat!(
        "OPTION_A=1\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\nOPTION_D=${OPTION_A}_${OPTION_B}\nOPTION_E=${OPTION_NOT_DEFINED}\n",
        "VAR.WITH.DOTS=dots\nVAR_WITH_UNDERSCORES=underscores\nVAR-WITH-DASHES=dashes\n",
    ))
    .unwrap();
    assert_eq!(
        env,
        serde_json::json!({
            "OPTION_A": "1", "OPTION_B": "1", "OPTION_C": "1", "OPTION_D": "1_1", "OPTION_E": "",
            "VAR-WITH-DASHES": "dashes", "VAR.WITH.DOTS": "dots", "VAR_WITH_UNDERSCORES": "underscores",
        })
    );
}

#[test]
fn expansion_operators_in_env_files() {
    let env = env_of(concat!(
        "SET=value\nEMPTY=\n",
        "A=${UNSET:-default}\nB=${EMPTY:-default}\nC=${EMPTY-default}\nD=${UNSET-default}\n",
        "E=${SET:+alt}\nF=${EMPTY+alt}\n",
    ))
    .unwrap();
    assert_eq!(
        (&env["A"], &env["B"], &env["C"], &env["D"], &env["E"], &env["F"]),
        (
            &serde_json::json!("default"),
            &serde_json::json!("default"),
            &serde_json::json!(""),
            &serde_json::json!("default"),
            &serde_json::json!("alt"),
            &serde_json::json!("alt")
        )
    );
    let err = env_of("A=${UNSET:?must be set}\n").unwrap_err();
    assert!(err.contains("must be set"), "{err}");
    let err = env_of("EMPTY=\nA=${EMPTY:?must not be empty}\n").unwrap_err();
    assert!(err.contains("must not be empty"), "{err}");
    let env = env_of("EMPTY=\nA=${EMPTY?fine when empty}\n").unwrap();
    assert_eq!(env["A"], serde_json::json!(""));
}

#[test]
fn a_byte_order_mark_is_ignored() {
    parses("\u{feff}OPTION_A=1\n", "OPTION_A", "1");
}

#[test]
fn a_bare_key_inherits_from_the_project_environment() {
    let p = Project::files(&[
        (
            "compose.yaml",
            "name: d\nservices:\n  s:\n    image: x\n    env_file: [app.env]\n",
        ),
        ("app.env", "INHERITED\nMISSING\n"),
    ])
    .env("INHERITED", "from_shell");
    let c = p.config();
    assert_eq!(
        c["services"]["s"]["environment"],
        serde_json::json!({"INHERITED": "from_shell"})
    );
}
