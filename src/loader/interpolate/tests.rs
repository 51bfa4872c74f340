//! Document-level interpolation: what is touched, errors with places, casts.

use super::*;
use crate::loader::environment::Origin;
use crate::loader::yaml;
use std::path::Path;
use std::sync::Arc;

fn env(vars: &[(&str, &str)]) -> Environment {
    let mut e = Environment::new();
    for (k, v) in vars {
        e.set(*k, *v, Origin::Shell);
    }
    e
}

fn parse(text: &str) -> Node {
    let file: Arc<Path> = Arc::from(Path::new("compose.yaml"));
    yaml::parse_str(text, &file).expect("test YAML parses")
}

fn run(text: &str, vars: &[(&str, &str)]) -> Result<(Node, Vec<Warning>), InterpolationError> {
    let mut doc = parse(text);
    let mut warnings = Vec::new();
    interpolate(&mut doc, &env(vars), &mut warnings)?;
    Ok((doc, warnings))
}

fn at<'a>(doc: &'a Node, path: &str) -> &'a Node {
    doc.at(&NodePath::parse(path))
        .unwrap_or_else(|| panic!("no {path}"))
}

#[test]
fn every_string_value_is_interpolated_but_not_keys() {
    let (doc, warnings) = run(
        "services:\n  a:\n    image: example:${USER}\n    volumes: [\"$FOO:/target\"]\n    logging:\n      driver: ${FOO}\n      options:\n        user: $USER\n        ${FOO}: kept\nx-extra:\n  note: by $USER\n",
        &[("USER", "jenny"), ("FOO", "bar")],
    )
    .unwrap();
    assert!(warnings.is_empty());
    assert_eq!(at(&doc, "services.a.image").as_str(), Some("example:jenny"));
    assert_eq!(
        at(&doc, "services.a.volumes[0]").as_str(),
        Some("bar:/target")
    );
    assert_eq!(at(&doc, "services.a.logging.driver").as_str(), Some("bar"));
    assert_eq!(
        at(&doc, "services.a.logging.options.user").as_str(),
        Some("jenny")
    );
    // Keys stay as written (compose-go interpolates values only).
    assert!(doc
        .at(&NodePath::parse("services.a.logging.options"))
        .unwrap()
        .get("${FOO}")
        .is_some());
    // Extensions are values like any other.
    assert_eq!(at(&doc, "x-extra.note").as_str(), Some("by jenny"));
}

#[test]
fn spans_survive_interpolation() {
    let (doc, _) = run("services:\n  a:\n    image: ${IMG}\n", &[("IMG", "nginx")]).unwrap();
    let span = at(&doc, "services.a.image").span.clone().unwrap();
    assert_eq!((span.line, span.column), (3, 12));
}

#[test]
fn missing_required_variable_names_file_line_path_and_variable() {
    let err = run(
        "services:\n  web:\n    image: \"app:${TAG:?set it}\"\n",
        &[],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "compose.yaml:3:12: services.web.image: required variable TAG is missing a value: set it"
    );
    match err {
        InterpolationError::MissingRequired { variable, .. } => assert_eq!(variable, "TAG"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn invalid_format_is_an_error_with_the_value() {
    let err = run("services:\n  a:\n    image: \"${\"\n", &[]).unwrap_err();
    assert!(matches!(err, InterpolationError::InvalidFormat { ref value, .. } if value == "${"));
    let text = err.to_string();
    assert!(
        text.starts_with("compose.yaml:3:12: services.a.image: invalid interpolation format"),
        "{text}"
    );
    assert!(text.contains("$$"), "{text}");
}

#[test]
fn unset_variables_warn_with_their_place() {
    let (doc, warnings) = run("services:\n  a:\n    image: x${MISSING}y\n", &[]).unwrap();
    assert_eq!(at(&doc, "services.a.image").as_str(), Some("xy"));
    assert_eq!(warnings.len(), 1);
    assert_eq!(
        warnings[0].to_string(),
        "compose.yaml:3:12: services.a.image: the \"MISSING\" variable is not set; defaulting to a blank string"
    );
}

#[test]
fn compose_go_unexistent_variable_cases() {
    let cases = [
        ("{{{ ${FOO:-foo_} }}}", "{{{ foo_ }}}"),
        ("{{{ ${FOO:-foo-bar-value} }}}", "{{{ foo-bar-value }}}"),
        ("{{{ ${FOO:-foo?bar?value} }}}", "{{{ foo?bar?value }}}"),
        ("{{{ ${FOO:-foo:?bar:?value} }}}", "{{{ foo:?bar:?value }}}"),
        (
            "{{{ ${FOO:-foo} ${BAR:-DEFAULT_VALUE} }}}",
            "{{{ foo DEFAULT_VALUE }}}",
        ),
        ("${FOO:-baz} }}}", "baz }}}"),
        ("${FOO:-${BAR:-${ZOT:-qix}}}", "qix"),
        ("${FOO:-${BAR:-x}_test_${BAR:-y}}", "x_test_y"),
        ("${FOO:-${BAR:-${ZOT:-x}}_test}", "x_test"),
    ];
    for (input, expected) in cases {
        let mut doc = Node::map(
            [("v".to_string(), Node::string(input))]
                .into_iter()
                .collect(),
        );
        interpolate(&mut doc, &env(&[]), &mut Vec::new()).unwrap();
        assert_eq!(
            doc.get("v").and_then(Node::as_str),
            Some(expected),
            "{input}"
        );
    }
    let mut doc = Node::map(
        [("v".to_string(), Node::string("${FOO:?foo} ${BAR:?bar}"))]
            .into_iter()
            .collect(),
    );
    let err = interpolate(&mut doc, &env(&[]), &mut Vec::new()).unwrap_err();
    assert!(
        matches!(err, InterpolationError::MissingRequired { ref variable, ref reason, .. } if variable == "FOO" && reason == "foo")
    );
}

#[test]
fn strings_at_typed_paths_are_cast() {
    let (doc, warnings) = run(
        "services:\n  a:\n    cpus: ${CPUS}\n    privileged: ${PRIV}\n    read_only: \"yes\"\n    ports:\n      - target: ${PORT}\n    deploy:\n      replicas: \"3\"\n    image: ${PORT}\nnetworks:\n  n:\n    external: ${EXT}\n",
        &[("CPUS", "0.5"), ("PRIV", "true"), ("PORT", "80"), ("EXT", "false")],
    )
    .unwrap();
    assert_eq!(at(&doc, "services.a.cpus").value, Value::Float(0.5));
    assert_eq!(at(&doc, "services.a.privileged").value, Value::Bool(true));
    assert_eq!(at(&doc, "services.a.read_only").value, Value::Bool(true));
    assert_eq!(at(&doc, "services.a.ports[0].target").value, Value::Int(80));
    assert_eq!(at(&doc, "services.a.deploy.replicas").value, Value::Int(3));
    // Not a typed path: stays a string.
    assert_eq!(at(&doc, "services.a.image").as_str(), Some("80"));
    assert_eq!(at(&doc, "networks.n.external").value, Value::Bool(false));
    // `yes` is accepted with a warning naming the place.
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0]
        .to_string()
        .starts_with("compose.yaml:5:16: services.a.read_only: \"yes\" for a boolean"));
}

#[test]
fn a_value_that_cannot_be_cast_is_an_error() {
    let err = run("services:\n  a:\n    scale: ${N}\n", &[("N", "many")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "compose.yaml:3:12: services.a.scale: \"many\" is not an integer"
    );
}

#[test]
fn native_yaml_scalars_are_left_alone() {
    let (doc, _) = run("services:\n  a:\n    scale: 2\n    tty: true\n", &[]).unwrap();
    assert_eq!(at(&doc, "services.a.scale").value, Value::Int(2));
    assert_eq!(at(&doc, "services.a.tty").value, Value::Bool(true));
}

#[test]
fn substitute_str_uses_the_environment() {
    let loc = Location::new(None, NodePath::root().key("name"));
    let mut w = Vec::new();
    let out = substitute_str("app-${ENV:-dev}", &env(&[("ENV", "prod")]), &loc, &mut w).unwrap();
    assert_eq!(out, "app-prod");
}

#[test]
fn legacy_yaml_booleans_at_boolean_paths() {
    // compose-go TestLoadLegacyBoolean: `init: yes` is true, with a warning.
    let (doc, warnings) = run("services:\n  test:\n    init: yes\n", &[]).unwrap();
    assert_eq!(at(&doc, "services.test.init").value, Value::Bool(true));
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].message.contains("write `true`"),
        "{}",
        warnings[0]
    );
}

#[test]
fn compose_project_name_is_an_ordinary_variable() {
    let (doc, _) = run(
        "services:\n  web:\n    container_name: ${COMPOSE_PROJECT_NAME}-web\n",
        &[("COMPOSE_PROJECT_NAME", "interpolated")],
    )
    .unwrap();
    assert_eq!(
        at(&doc, "services.web.container_name").as_str(),
        Some("interpolated-web")
    );
}
