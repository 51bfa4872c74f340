//! Interpolation (spec 12-interpolation.md; compose-go `template` and
//! `interpolation` tests), through a whole load: each template is written
//! as a label value with `FOO=first`, `BAR=` (set, empty) and
//! `JSON={"json":2}` in the shell, and read back from `compose config`.

use super::support::Project;
use serde_json::json;

fn project(value: &str) -> Project {
    let yaml = format!(
        "name: i\nservices:\n  s:\n    image: x\n    labels:\n      v: '{}'\n",
        value.replace('\'', "''")
    );
    Project::new(&yaml)
        .env("FOO", "first")
        .env("BAR", "")
        .env("JSON", "{\"json\":2}")
}

#[track_caller]
fn interpolated(template: &str) -> String {
    let c = project(template).config();
    // The printed value escapes `$` as `$$` only in the command's output,
    // not in the project: read the label from the project itself.
    c["services"]["s"]["labels"]["v"]
        .as_str()
        .unwrap_or_else(|| panic!("no label for {template}: {c}"))
        .to_string()
}

#[track_caller]
fn failure(template: &str) -> String {
    project(template).error()
}

#[test]
fn substitution_forms() {
    let cases = [
        ("$$FOO", "$FOO"),
        ("no variable here", "no variable here"),
        ("$FOO and ${FOO}", "first and first"),
        ("$FOO-bar", "first-bar"),
        ("${UNSET_VAR}", ""),
        ("${UNSET_VAR:-default}", "default"),
        ("${BAR:-default}", "default"),
        ("${BAR-default}", ""),
        ("${UNSET_VAR-default}", "default"),
        ("${FOO:+alt}", "alt"),
        ("${BAR:+alt}", ""),
        ("${BAR+alt}", "alt"),
        ("${UNSET_VAR+alt}", ""),
        ("ok ${BAR:-/non:-alphanumeric}", "ok /non:-alphanumeric"),
        ("${FOO:?err}", "first"),
        ("${BAR?err}", ""),
        ("${UNSET_VAR-myerror?msg}", "myerror?msg"),
    ];
    for (template, expected) in cases {
        assert_eq!(interpolated(template), expected, "{template}");
    }
}

/// compose-go TestInterpolationExternalInterference: operators in the
/// surrounding text do not change how a reference reads.
#[test]
fn text_around_a_reference_does_not_interfere() {
    let cases = [
        ("-ok ${BAR:-defaultValue}", "-ok defaultValue"),
        ("+ok ${UNSET:-${BAR-defaultValue}}", "+ok "),
        ("-ok ${FOO:-defaultValue}", "-ok first"),
        (":-ok ${UNSET-defaultValue}", ":-ok defaultValue"),
        (":-ok ${BAR-defaultValue}", ":-ok "),
        (":?ok ${BAR-defaultValue}", ":?ok "),
        (":?ok ${BAR:-defaultValue}", ":?ok defaultValue"),
        (":+ok ${BAR:-defaultValue}", ":+ok defaultValue"),
        ("?ok ${BAR:-defaultValue}", "?ok defaultValue"),
    ];
    for (template, expected) in cases {
        assert_eq!(interpolated(template), expected, "{template}");
    }
}

#[test]
fn defaults_may_contain_references_and_braces() {
    let cases = [
        ("ok ${UNSET_VAR-$FOO}", "ok first"),
        ("ok ${UNSET_VAR-${FOO}}", "ok first"),
        ("ok ${UNSET_VAR-${FOO} ${FOO}}", "ok first first"),
        ("ok ${BAR:-$FOO}", "ok first"),
        ("ok ${BAR:-${FOO} ${FOO}}", "ok first first"),
        ("ok ${BAR+$FOO}", "ok first"),
        ("ok ${BAR+$FOO ${FOO:+second}}", "ok first second"),
        ("ok ${missing:-{\"json\":1}}", "ok {\"json\":1}"),
        ("ok ${missing-{\"json\":1}}", "ok {\"json\":1}"),
        ("ok ${JSON:-{\"json\":1}}", "ok {\"json\":2}"),
        ("ok ${JSON-{\"json\":1}}", "ok {\"json\":2}"),
    ];
    for (template, expected) in cases {
        assert_eq!(interpolated(template), expected, "{template}");
    }
}

#[test]
fn required_variables_fail_with_their_message() {
    let cases = [
        (
            "not ok ${UNSET_VAR:?Mandatory Variable Unset}",
            "required variable UNSET_VAR is missing a value: Mandatory Variable Unset",
        ),
        (
            "not ok ${BAR:?Mandatory Variable Empty}",
            "required variable BAR is missing a value: Mandatory Variable Empty",
        ),
        (
            "not ok ${UNSET_VAR:?}",
            "required variable UNSET_VAR is missing a value",
        ),
        (
            "not ok ${UNSET_VAR?Mandatory Variable Unset}",
            "required variable UNSET_VAR is missing a value: Mandatory Variable Unset",
        ),
        (
            "not ok ${UNSET_VAR?}",
            "required variable UNSET_VAR is missing a value",
        ),
        (
            "not ok ${UNSET_VAR:?Mandatory Variable ${FOO}}",
            "required variable UNSET_VAR is missing a value: Mandatory Variable first",
        ),
        (
            "${UNSET_VAR?bar-baz}",
            "required variable UNSET_VAR is missing a value: bar-baz",
        ),
    ];
    for (template, expected) in cases {
        let err = failure(template);
        assert!(err.contains(expected), "{template}: {err}");
        assert!(err.contains("services.s.labels.v"), "{template}: {err}");
    }
}

#[test]
fn invalid_templates_are_refused() {
    // `$}` or `$1` is no reference at all and stays as written, as with
    // compose-go's pattern, where only `${` can start an invalid one.
    assert_eq!(interpolated("$} $1"), "$} $1");
    for template in ["${", "${}", "${ }", "${ foo}", "${foo }", "${foo!}"] {
        let err = failure(template);
        assert!(err.contains("services.s.labels.v"), "{template}: {err}");
    }
}

#[test]
fn an_unset_variable_is_warned_about_once_used() {
    let loaded = project("${UNSET_VAR} ${UNSET_VAR:-quiet}").load();
    let warnings: Vec<String> = loaded.warnings.iter().map(|w| w.message.clone()).collect();
    assert_eq!(
        warnings.iter().filter(|w| w.contains("UNSET_VAR")).count(),
        1,
        "{warnings:?}"
    );
}

/// Keys are not interpolated, nor unescaped: the `$$` that `config`
/// writes for a key's `$` stays doubled when read back, as with docker
/// compose, so no round trip here.
#[test]
fn keys_are_not_interpolated_and_dotenv_feeds_values() {
    let loaded = Project::files(&[
        (
            "compose.yaml",
            "name: i\nservices:\n  s:\n    image: ${IMAGE}\n    labels:\n      ${KEY}: v\n",
        ),
        (".env", "IMAGE=from-dotenv\nKEY=nope\n"),
    ])
    .load();
    let c = super::support::yaml_value(&loaded.project.to_yaml().unwrap());
    assert_eq!(c["services"]["s"]["image"], json!("from-dotenv"));
    assert_eq!(c["services"]["s"]["labels"], json!({"${KEY}": "v"}));
}

#[test]
fn the_shell_wins_over_dotenv() {
    let c = Project::files(&[
        (
            "compose.yaml",
            "name: i\nservices:\n  s:\n    image: ${IMAGE}\n",
        ),
        (".env", "IMAGE=from-dotenv\n"),
    ])
    .env("IMAGE", "from-shell")
    .config();
    assert_eq!(c["services"]["s"]["image"], json!("from-shell"));
}

#[test]
fn extension_fields_and_the_project_name_are_interpolated() {
    let c = Project::new("name: ${NAME:-fallback}\nx-meta:\n  owner: ${FOO}\nservices:\n  s:\n    image: x\n    x-tag: ${FOO}\n")
        .env("FOO", "first")
        .config();
    assert_eq!(c["name"], json!("fallback"));
    assert_eq!(c["x-meta"], json!({"owner": "first"}));
    assert_eq!(c["services"]["s"]["x-tag"], json!("first"));
}

#[test]
fn a_value_that_does_not_cast_names_the_attribute() {
    let err = Project::new("name: i\nservices:\n  s:\n    image: x\n    scale: ${N}\n")
        .env("N", "many")
        .error();
    assert!(err.contains("services.s.scale"), "{err}");
}
