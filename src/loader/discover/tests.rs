//! Discovery end to end on temporary directories and corpus cases.

use super::*;
use crate::testing::corpus;
use indexmap::IndexMap;

fn opts(dir: &Path) -> Options {
    let mut o = Options::for_dir(dir);
    o.os_env = IndexMap::new();
    o
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

fn file_names(d: &Discovered) -> Vec<String> {
    d.files
        .iter()
        .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn compose_file_and_project_name_from_dotenv() {
    let dir = corpus("cgo_cli_compose_file_from_dotenv");
    let d = discover(&opts(&dir), &mut Vec::new()).unwrap();
    assert_eq!(file_names(&d), ["compose-with-env-file.yaml"]);
    assert_eq!(d.project_dir, dir);
    assert_eq!(d.project_name, "my_project_from_dot_env");
    assert_eq!(d.explicit_name.as_deref(), Some("my_project_from_dot_env"));
    assert_eq!(d.environment.get("PORT"), Some("8000"));
    assert_eq!(
        d.environment.var("PORT").unwrap().origin,
        Origin::EnvFile {
            path: dir.join(".env"),
            line: 3
        }
    );
}

#[test]
fn env_file_flags_in_order_later_wins() {
    let dir = corpus("cgo_cli_env_file_flag");
    let mut o = opts(&dir);
    o.files = vec!["compose-with-env-files.yaml".into()];
    o.env_files = vec![".env".into(), "override.env".into()];
    let d = discover(&o, &mut Vec::new()).unwrap();
    assert_eq!(file_names(&d), ["compose-with-env-files.yaml"]);
    assert_eq!(d.environment.get("PORT"), Some("9000"));
    assert_eq!(d.project_name, "my_project_from_dot_env");
    assert_eq!(d.env_files, [dir.join(".env"), dir.join("override.env")]);
}

#[test]
fn shell_wins_over_env_files() {
    let dir = corpus("cgo_cli_env_file_flag");
    let mut o = opts(&dir);
    o.files = vec!["compose-with-env-files.yaml".into()];
    o.os_env.insert("PORT".into(), "7000".into());
    let d = discover(&o, &mut Vec::new()).unwrap();
    assert_eq!(d.environment.get("PORT"), Some("7000"));
    assert_eq!(d.environment.var("PORT").unwrap().origin, Origin::Shell);
}

#[test]
fn nested_dotenv_from_a_subdirectory() {
    // docker/compose TestNestedDotEnv: run in sub/, compose.yaml is in the
    // parent; sub/.env is read first and wins over the parent's .env.
    let dir = corpus("e2e_nested_dotenv");
    let d = discover(&opts(&dir.join("sub")), &mut Vec::new()).unwrap();
    assert_eq!(d.project_dir, dir);
    assert_eq!(d.environment.get("ROOT"), Some("root"));
    assert_eq!(d.environment.get("SUB"), Some("sub"));
    assert_eq!(d.environment.get("WIN"), Some("sub"));
    let d = discover(&opts(&dir), &mut Vec::new()).unwrap();
    assert_eq!(d.environment.get("SUB"), None);
    assert_eq!(d.environment.get("WIN"), Some("root"));
    assert_eq!(d.project_name, "e2e_nested_dotenv");
}

#[test]
fn dotenv_sets_compose_file_and_profiles() {
    // docker/compose TestComposeFileSetByDotEnv.
    let dir = corpus("e2e_dotenv_compose_file");
    let d = discover(&opts(&dir), &mut Vec::new()).unwrap();
    assert_eq!(d.project_dir, dir.join("development"));
    assert_eq!(file_names(&d), ["compose.yaml"]);
    assert_eq!(d.environment.get("IMAGE_NAME"), Some("test"));
    assert_eq!(d.environment.get("IMAGE_TAG"), Some("latest"));
    assert_eq!(d.profiles, ["test"]);
    assert_eq!(d.project_name, "development");
}

#[test]
fn project_directory_picks_its_own_dotenv() {
    // docker/compose TestComposeFileSetByProjectDirectory.
    let dir = corpus("e2e_dotenv_compose_file");
    let mut o = opts(&dir);
    o.project_directory = Some("development".into());
    let d = discover(&o, &mut Vec::new()).unwrap();
    assert_eq!(d.environment.get("IMAGE_NAME"), Some("backend"));
    assert!(d.profiles.is_empty());
}

#[test]
fn missing_env_file_flag_is_an_error() {
    let dir = corpus("e2e_env_file_missing");
    let mut o = opts(&dir);
    o.env_files = vec!["does-not-exist.env".into()];
    let err = discover(&o, &mut Vec::new()).unwrap_err();
    assert!(
        matches!(err, DiscoverError::EnvFileNotFound { ref path } if *path == dir.join("does-not-exist.env"))
    );
}

#[test]
fn stdin_file_uses_the_working_directory() {
    let d = tempfile::tempdir().unwrap();
    let mut o = opts(d.path());
    o.files = vec!["-".into()];
    o.stdin = Some("services:\n  a:\n    image: x\n".into());
    let found = discover(&o, &mut Vec::new()).unwrap();
    assert_eq!(found.project_dir, d.path());
    assert_eq!(found.files[0].path.as_ref(), Path::new("-"));
}

#[test]
fn environment_adds_its_compose_file_and_env_file() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "compose.yaml", "services: {}\n");
    write(d.path(), "compose.override.yml", "services: {}\n");
    write(d.path(), "compose.prod.yaml", "services: {}\n");
    write(d.path(), ".env", "A=base\nB=base\n");
    write(d.path(), ".env.prod", "B=prod\n");
    let mut o = opts(d.path());
    o.environment = Some("prod".into());
    let found = discover(&o, &mut Vec::new()).unwrap();
    assert_eq!(
        file_names(&found),
        ["compose.yaml", "compose.override.yml", "compose.prod.yaml"]
    );
    assert_eq!(found.environment.get("A"), Some("base"));
    assert_eq!(found.environment.get("B"), Some("prod"));
    assert_eq!(found.environment_name.as_deref(), Some("prod"));

    // COMPOSE_ENVIRONMENT from the shell works the same way.
    let mut o = opts(d.path());
    o.os_env.insert("COMPOSE_ENVIRONMENT".into(), "prod".into());
    let found = discover(&o, &mut Vec::new()).unwrap();
    assert_eq!(file_names(&found).last().unwrap(), "compose.prod.yaml");
}

#[test]
fn missing_environment_file_says_which_was_expected() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "compose.yaml", "services: {}\n");
    let mut o = opts(d.path());
    o.environment = Some("staging".into());
    let err = discover(&o, &mut Vec::new()).unwrap_err();
    let expected = d.path().join("compose.staging.yaml");
    assert!(
        matches!(err, DiscoverError::EnvironmentFileMissing { expected: ref e, .. } if *e == expected)
    );
    assert!(err.to_string().contains(&expected.display().to_string()));
}

#[test]
fn project_name_precedence() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("My App");
    write(
        &dir,
        "compose.yaml",
        "name: ${APP:-web}_Site\nservices: {}\n",
    );
    let mut o = opts(&dir);
    let found = discover(&o, &mut Vec::new()).unwrap();
    assert_eq!(found.project_name, "web_site");
    assert_eq!(found.explicit_name, None);
    assert_eq!(
        found.environment.get("COMPOSE_PROJECT_NAME"),
        Some("web_site")
    );

    o.os_env
        .insert("COMPOSE_PROJECT_NAME".into(), "from_env".into());
    assert_eq!(
        discover(&o, &mut Vec::new()).unwrap().project_name,
        "from_env"
    );

    o.project_name = Some("from_flag".into());
    assert_eq!(
        discover(&o, &mut Vec::new()).unwrap().project_name,
        "from_flag"
    );

    o.project_name = Some("Bad Name".into());
    let err = discover(&o, &mut Vec::new()).unwrap_err();
    assert!(matches!(err, DiscoverError::InvalidProjectName { .. }));

    write(&dir, "compose.yaml", "services: {}\n");
    let found = discover(&opts(&dir), &mut Vec::new()).unwrap();
    assert_eq!(found.project_name, "myapp");
}

#[test]
fn profiles_from_flag_else_variable() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "compose.yaml", "services: {}\n");
    let mut o = opts(d.path());
    o.os_env.insert("COMPOSE_PROFILES".into(), "a, b,,c".into());
    assert_eq!(
        discover(&o, &mut Vec::new()).unwrap().profiles,
        ["a", "b", "c"]
    );
    o.profiles = vec!["x".into()];
    assert_eq!(discover(&o, &mut Vec::new()).unwrap().profiles, ["x"]);
}

#[test]
fn disabled_default_env_file_and_compose_env_files() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "compose.yaml", "services: {}\n");
    write(d.path(), ".env", "A=dotenv\n");
    write(d.path(), "other.env", "A=other\n");
    let mut o = opts(d.path());
    o.os_env
        .insert("COMPOSE_DISABLE_ENV_FILE".into(), "true".into());
    assert_eq!(
        discover(&o, &mut Vec::new()).unwrap().environment.get("A"),
        None
    );
    o.os_env
        .insert("COMPOSE_ENV_FILES".into(), "other.env".into());
    assert_eq!(
        discover(&o, &mut Vec::new()).unwrap().environment.get("A"),
        Some("other")
    );
}

#[test]
fn missing_flag_file_is_named() {
    let d = tempfile::tempdir().unwrap();
    let mut o = opts(d.path());
    o.files = vec!["nope.yaml".into()];
    let err = discover(&o, &mut Vec::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "compose file {} not found",
            d.path().join("nope.yaml").display()
        )
    );
}

#[test]
fn explicit_name_from_the_environment_must_be_valid() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "compose.yaml", "services: {}\n");
    let mut o = opts(d.path());
    o.os_env
        .insert("COMPOSE_PROJECT_NAME".into(), "42my_project_env".into());
    assert_eq!(
        discover(&o, &mut Vec::new()).unwrap().project_name,
        "42my_project_env"
    );
    o.os_env
        .insert("COMPOSE_PROJECT_NAME".into(), "www.my.project".into());
    let err = discover(&o, &mut Vec::new()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid project name \"www.my.project\""),
        "{err}"
    );
}

#[test]
fn dotenv_expansion_sees_the_shell_first() {
    // compose-go TestEnvVariablePrecedence.
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "compose.yaml", "services: {}\n");
    write(d.path(), ".env", "FOO=foo\nBAR=${FOO}");
    let found = discover(&opts(d.path()), &mut Vec::new()).unwrap();
    assert_eq!(found.environment.get("FOO"), Some("foo"));
    assert_eq!(found.environment.get("BAR"), Some("foo"));
    let mut o = opts(d.path());
    o.os_env.insert("FOO".into(), "zot".into());
    let found = discover(&o, &mut Vec::new()).unwrap();
    assert_eq!(found.environment.get("FOO"), Some("zot"));
    assert_eq!(found.environment.get("BAR"), Some("zot"));
}

#[test]
fn no_interpolate_keeps_the_raw_name() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "compose.yaml", "name: ${N:-app}\nservices: {}\n");
    let mut o = opts(d.path());
    assert_eq!(discover(&o, &mut Vec::new()).unwrap().project_name, "app");
    o.interpolate = false;
    // Normalised like any name from a file: `${N:-app}` keeps `n-app`.
    assert_eq!(discover(&o, &mut Vec::new()).unwrap().project_name, "n-app");
}

#[test]
fn last_name_of_the_files_wins_and_is_exported() {
    // compose-go TestProjectNameInterpolation "with override".
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.yaml", "name: interpolated\nservices: {}\n");
    write(d.path(), "b.yaml", "name: overrided\nservices: {}\n");
    write(d.path(), "c.yaml", "services: {}\n");
    let mut o = opts(d.path());
    o.files = vec!["a.yaml".into(), "b.yaml".into(), "c.yaml".into()];
    let found = discover(&o, &mut Vec::new()).unwrap();
    assert_eq!(found.project_name, "overrided");
    let var = found.environment.var("COMPOSE_PROJECT_NAME").unwrap();
    assert_eq!(
        (var.value.as_str(), &var.origin),
        ("overrided", &Origin::Compose)
    );
}
