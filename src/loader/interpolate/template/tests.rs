//! Behaviours pinned by compose-go's template tests, re-stated for our engine.

use super::*;

/// compose-go's test mapping: FOO set, BAR set but empty, JSON a JSON text.
fn mapping(name: &str) -> Option<String> {
    match name {
        "FOO" => Some("first".into()),
        "BAR" => Some(String::new()),
        "JSON" => Some(r#"{"json":2}"#.into()),
        _ => None,
    }
}

fn sub(template: &str) -> Result<String, TemplateError> {
    substitute(template, &mut Resolver::new(&mapping))
}

fn ok(template: &str) -> String {
    sub(template).unwrap_or_else(|e| panic!("{template:?}: {e}"))
}

#[test]
fn dollar_dollar_escapes() {
    assert_eq!(ok("$${foo}"), "${foo}");
    assert_eq!(ok("$$FOO"), "$FOO");
    assert_eq!(ok("a $$ b"), "a $ b");
}

#[test]
fn text_without_references_is_unchanged() {
    for t in ["foo", "a $ string", "^REGEX$", "$}", "$", "$1", "cost: 5$"] {
        assert_eq!(ok(t), t);
    }
}

#[test]
fn invalid_templates_are_rejected() {
    for t in [
        "${",
        "${}",
        "${ }",
        "${ foo}",
        "${foo }",
        "${foo!}",
        "${1A}",
        "${A:x}",
        "${A",
        "${A:-x",
        "${A:-x\n}",
    ] {
        assert_eq!(sub(t), Err(TemplateError::Invalid), "{t:?}");
    }
}

#[test]
fn unbraced_name_stops_at_first_non_name_character() {
    // docker/compose#8601: `$FOO-bar` is FOO followed by "-bar".
    assert_eq!(ok("$FOO-bar"), "first-bar");
    assert_eq!(ok("$FOO.x"), "first.x");
    assert_eq!(ok("${FOO}bar"), "firstbar");
}

#[test]
fn plain_references() {
    assert_eq!(ok("This $FOO var"), "This first var");
    assert_eq!(ok("This ${FOO} var"), "This first var");
    assert_eq!(ok("This ${missing} var"), "This  var");
    assert_eq!(ok("This ${BAR} var"), "This  var");
    assert_eq!(ok("${foo_Bar1}"), "");
}

#[test]
fn defaults() {
    assert_eq!(ok("ok ${missing:-def}"), "ok def");
    assert_eq!(ok("ok ${missing-def}"), "ok def");
    assert_eq!(ok("-ok ${BAR:-defaultValue}"), "-ok defaultValue");
    assert_eq!(ok("-ok ${FOO:-defaultValue}"), "-ok first");
    assert_eq!(ok(":-ok ${UNSET-defaultValue}"), ":-ok defaultValue");
    assert_eq!(ok(":-ok ${BAR-defaultValue}"), ":-ok ");
    assert_eq!(ok("+ok ${UNSET:-${BAR-defaultValue}}"), "+ok ");
    assert_eq!(ok("${UNSET_VAR-myerror?msg}"), "myerror?msg");
}

#[test]
fn alternatives() {
    assert_eq!(ok(":+ok ${BAR:+alt}"), ":+ok ");
    assert_eq!(ok("+ok ${BAR+alt}"), "+ok alt");
    assert_eq!(ok("${FOO:+alt}"), "alt");
    assert_eq!(ok("${UNSET+alt}"), "");
    assert_eq!(ok("ok ${BAR+$FOO ${FOO:+second}}"), "ok first second");
}

#[test]
fn nested_defaults() {
    assert_eq!(ok("ok ${UNSET_VAR-$FOO}"), "ok first");
    assert_eq!(ok("ok ${UNSET_VAR-${FOO}}"), "ok first");
    assert_eq!(ok("ok ${UNSET_VAR-${FOO} ${FOO}}"), "ok first first");
    assert_eq!(ok("ok ${BAR:-${FOO} ${FOO}}"), "ok first first");
    assert_eq!(ok("${A:-${B:-c}}"), "c");
    assert_eq!(ok("${A:-${FOO:-c}}/x"), "first/x");
    assert_eq!(ok("${A:-x}-${B:-y}"), "x-y");
}

#[test]
fn defaults_may_contain_braces() {
    assert_eq!(ok(r#"ok ${missing:-{"json":1}}"#), r#"ok {"json":1}"#);
    assert_eq!(ok(r#"ok ${missing-{"json":1}}"#), r#"ok {"json":1}"#);
    assert_eq!(ok(r#"ok ${JSON:-{"json":1}}"#), r#"ok {"json":2}"#);
}

#[test]
fn required_variables() {
    let cases = [
        (
            "not ok ${UNSET_VAR:?Mandatory Variable Unset}",
            "UNSET_VAR",
            "Mandatory Variable Unset",
        ),
        (
            "not ok ${BAR:?Mandatory Variable Empty}",
            "BAR",
            "Mandatory Variable Empty",
        ),
        ("not ok ${UNSET_VAR:?}", "UNSET_VAR", ""),
        (
            "not ok ${UNSET_VAR?Mandatory Variable Unset}",
            "UNSET_VAR",
            "Mandatory Variable Unset",
        ),
        ("not ok ${UNSET_VAR?}", "UNSET_VAR", ""),
        (
            "not ok ${UNSET_VAR:?Mandatory Variable ${FOO}}",
            "UNSET_VAR",
            "Mandatory Variable first",
        ),
        ("${UNSET_VAR?bar-baz}", "UNSET_VAR", "bar-baz"),
    ];
    for (template, variable, reason) in cases {
        assert_eq!(
            sub(template),
            Err(TemplateError::MissingRequired {
                variable: variable.into(),
                reason: reason.into()
            }),
            "{template}"
        );
    }
    assert_eq!(ok("ok ${FOO:?err}"), "ok first");
    assert_eq!(ok("ok ${FOO?err}"), "ok first");
    assert_eq!(ok("ok ${BAR?err}"), "ok ");
    assert_eq!(ok("${FOO?bar-baz}"), "first");
}

#[test]
fn required_error_messages_read_like_compose() {
    let e = sub("${TAG:?set it}").unwrap_err();
    assert_eq!(
        e.to_string(),
        "required variable TAG is missing a value: set it"
    );
    let e = sub("${TAG?}").unwrap_err();
    assert_eq!(e.to_string(), "required variable TAG is missing a value");
}

#[test]
fn unset_hook_hears_plain_references_only_when_used() {
    let mut unset = Vec::new();
    {
        let mut hook = |n: &str| unset.push(n.to_string());
        let mut r = Resolver::with_unset_hook(&mapping, &mut hook);
        // A lazy default that is not used does not warn (compose-go
        // TestLazyDefaultDoesNotWarn); a used one does.
        assert_eq!(substitute("${A:+${A},}B", &mut r).unwrap(), "B");
        assert_eq!(substitute("${A:-${B}}", &mut r).unwrap(), "");
        assert_eq!(substitute("${C:-x} $D", &mut r).unwrap(), "x ");
    }
    assert_eq!(unset, ["B", "D"]);
}

#[test]
fn non_ascii_text_around_references_is_kept() {
    assert_eq!(ok("été ${FOO} ü"), "été first ü");
    assert_eq!(ok("${missing:-ñ}"), "ñ");
}

#[test]
fn referenced_names_lists_every_variable_once() {
    assert_eq!(referenced_names("$A ${B:-${C}} ${A} $$D"), ["A", "B", "C"]);
}
