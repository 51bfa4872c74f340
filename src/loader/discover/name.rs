//! The project name (compose-go `loader.projectName` and the CLI's
//! `withNamePrecedenceLoad`): `-p`, else `COMPOSE_PROJECT_NAME`, both of
//! which must already be valid; else the last `name:` of the Compose files,
//! interpolated and normalised; else the project directory's name,
//! normalised.

use super::DiscoverError;
use crate::loader::environment::Environment;
use crate::loader::interpolate;
use crate::loader::node::{Location, NodePath};
use crate::loader::{yaml, Warning};
use std::path::Path;
use std::sync::Arc;

/// Where a project name came from, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameSource {
    /// `-p/--project-name` or `COMPOSE_PROJECT_NAME`.
    Explicit,
    /// A top-level `name:` in a Compose file.
    ComposeFile,
    /// The project directory's name.
    Directory,
}

impl std::fmt::Display for NameSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NameSource::Explicit => "-p/COMPOSE_PROJECT_NAME",
            NameSource::ComposeFile => "the `name:` of the Compose file",
            NameSource::Directory => "the project directory's name",
        })
    }
}

/// Docker compose's normalisation of a name into a project name:
/// lower-cased, only `[a-z0-9_-]` kept, no leading `_` or `-`.
pub fn normalize_project_name(name: &str) -> String {
    let kept: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    kept.trim_start_matches(['_', '-']).to_string()
}

/// Whether `name` is a valid project name as written
/// (`^[a-z0-9][a-z0-9_-]*$`).
pub fn is_valid_project_name(name: &str) -> bool {
    !name.is_empty() && normalize_project_name(name) == name
}

/// Check an explicit name (`-p` or `COMPOSE_PROJECT_NAME`): it is used as
/// written, so it must already be valid.
pub fn check_explicit(name: &str) -> Result<String, DiscoverError> {
    if is_valid_project_name(name) {
        Ok(name.to_string())
    } else {
        Err(DiscoverError::InvalidProjectName {
            name: name.to_string(),
        })
    }
}

/// The project name by compose-go's rules. `from_files` is the (already
/// interpolated) top-level `name:`; it and the directory name are
/// normalised, an explicit name must be valid as is.
pub fn project_name(
    explicit: Option<&str>,
    from_files: Option<&str>,
    project_dir: &Path,
) -> Result<String, DiscoverError> {
    if let Some(name) = explicit.filter(|n| !n.is_empty()) {
        return check_explicit(name);
    }
    if let Some(raw) = from_files.filter(|n| !n.is_empty()) {
        return non_empty(normalize_project_name(raw), raw, NameSource::ComposeFile);
    }
    let dir_name = project_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    non_empty(
        normalize_project_name(&dir_name),
        &dir_name,
        NameSource::Directory,
    )
}

fn non_empty(name: String, raw: &str, source: NameSource) -> Result<String, DiscoverError> {
    if name.is_empty() {
        Err(DiscoverError::EmptyProjectName {
            raw: raw.to_string(),
            source_kind: source,
        })
    } else {
        Ok(name)
    }
}

/// The last non-empty top-level `name:` among the files' texts, interpolated
/// with `env` unless it is `None` (`--no-interpolate`). compose-go reads it
/// this way, before loading, so that `COMPOSE_PROJECT_NAME` is known during
/// interpolation. Unparsable files are skipped here: loading reports their
/// errors with positions.
pub fn name_from_files<'a>(
    files: impl IntoIterator<Item = (&'a Arc<Path>, &'a str)>,
    env: Option<&Environment>,
    warnings: &mut Vec<Warning>,
) -> Result<Option<String>, DiscoverError> {
    let mut found = None;
    for (path, content) in files {
        if !may_define_name(content) {
            continue;
        }
        let Ok(docs) = yaml::parse_documents(content, path) else {
            continue;
        };
        for doc in docs {
            if let Some(node) = doc.get("name").filter(|n| n.as_str() != Some("")) {
                if let Some(text) = node.scalar_text() {
                    found = Some((text, node.span.clone()));
                }
            }
        }
    }
    let Some((raw, span)) = found else {
        return Ok(None);
    };
    let Some(env) = env else {
        return Ok(Some(raw));
    };
    let location = Location::new(span, NodePath::root().key("name"));
    let name = interpolate::substitute_str(&raw, env, &location, warnings)?;
    Ok(Some(name))
}

/// Whether a file can have a top-level `name:` at all, so that the usual
/// file without one is not parsed twice: a top-level key starts a line at
/// column 0; a flow mapping (`{...}`) or a merge key (`<<`) could also bring
/// one, and are parsed to be sure.
fn may_define_name(content: &str) -> bool {
    content.trim_start().starts_with('{')
        || content.lines().any(|line| {
            line.starts_with("name")
                || line.starts_with("\"name\"")
                || line.starts_with("'name'")
                || line.starts_with("<<")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_that_may_name_the_project_are_parsed() {
        assert!(may_define_name("services: {}\nname: x\n"));
        assert!(may_define_name("{name: x}"));
        assert!(may_define_name("x-a: &a {name: b}\n<<: *a\n"));
        assert!(!may_define_name(
            "services:\n  web:\n    container_name: x\n"
        ));
    }

    #[test]
    fn normalisation_lowercases_filters_and_trims_leading_separators() {
        assert_eq!(normalize_project_name("My Project!"), "myproject");
        assert_eq!(normalize_project_name("__-app_1"), "app_1");
        assert_eq!(normalize_project_name("été"), "t");
        assert_eq!(normalize_project_name("-_"), "");
    }

    #[test]
    fn explicit_names_must_already_be_valid() {
        assert_eq!(
            project_name(Some("my_project"), Some("x"), Path::new("/d")).unwrap(),
            "my_project"
        );
        assert_eq!(
            project_name(Some("42my_project_num"), None, Path::new("/d")).unwrap(),
            "42my_project_num"
        );
        for bad in [
            "My",
            "-my_project",
            "_my_project",
            "a b",
            "www.my.project",
            "MY_PROJECT",
        ] {
            let err = project_name(Some(bad), None, Path::new("/d")).unwrap_err();
            assert!(
                matches!(err, DiscoverError::InvalidProjectName { ref name } if name == bad),
                "{bad}"
            );
            assert!(err.to_string().contains("lowercase alphanumeric"), "{err}");
        }
    }

    #[test]
    fn file_names_are_normalised_and_win_over_the_directory() {
        assert_eq!(
            project_name(None, Some("My_App"), Path::new("/x/dir")).unwrap(),
            "my_app"
        );
        assert_eq!(
            project_name(None, None, Path::new("/x/My.Dir")).unwrap(),
            "mydir"
        );
        assert_eq!(
            project_name(None, None, Path::new("/t/UNNORMALIZED PATH")).unwrap(),
            "unnormalizedpath"
        );
        // An empty explicit name counts as unset.
        assert_eq!(
            project_name(Some(""), None, Path::new("/x/d")).unwrap(),
            "d"
        );
    }

    #[test]
    fn a_name_that_normalises_to_nothing_is_an_error() {
        let err = project_name(None, Some("!!!"), Path::new("/x/dir")).unwrap_err();
        assert!(matches!(
            err,
            DiscoverError::EmptyProjectName {
                source_kind: NameSource::ComposeFile,
                ..
            }
        ));
        let err = project_name(None, None, Path::new("/")).unwrap_err();
        assert!(err.to_string().contains("-p"), "{err}");
    }

    #[test]
    fn name_from_files_takes_the_last_and_interpolates_it() {
        let a: Arc<Path> = Arc::from(Path::new("a.yaml"));
        let b: Arc<Path> = Arc::from(Path::new("b.yaml"));
        let mut env = Environment::new();
        env.set("SUFFIX", "dev", crate::loader::environment::Origin::Shell);
        let files = [(&a, "name: first\n"), (&b, "name: app-${SUFFIX}\n")];
        let name = name_from_files(files, Some(&env), &mut Vec::new()).unwrap();
        assert_eq!(name.as_deref(), Some("app-dev"));
        let raw = name_from_files(files, None, &mut Vec::new()).unwrap();
        assert_eq!(raw.as_deref(), Some("app-${SUFFIX}"));
        let files = [(&a, "services: {}\n"), (&b, ": : bad yaml [")];
        assert_eq!(
            name_from_files(files, Some(&env), &mut Vec::new()).unwrap(),
            None
        );
    }
}
