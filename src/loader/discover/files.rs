//! Which Compose files make the project (compose-go `cli/options.go`):
//! `-f` files in order, else `COMPOSE_FILE`, else the first directory from
//! the start directory upwards holding one of the default names, with its
//! override file; then, with `--environment NAME`, `compose.NAME.yaml`.

use super::{ConfigFile, DiscoverError};
use crate::loader::Warning;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// compose-go `DefaultFileNames`, in order of preference.
pub const DEFAULT_FILE_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// compose-go `DefaultOverrideFileNames`, in order of preference.
pub const OVERRIDE_FILE_NAMES: [&str; 4] = [
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// The path standard input is read from when a file is `-`.
pub const STDIN: &str = "-";

/// `path` made absolute against `base` and cleaned of `.` and `..`
/// lexically, as Go's `filepath.Abs` does.
pub fn absolute(base: &Path, path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `COMPOSE_FILE`, split on `COMPOSE_PATH_SEPARATOR` (default `:`), each
/// relative to the working directory and required to exist.
pub fn from_compose_file_var(
    value: &str,
    separator: Option<&str>,
    working_dir: &Path,
) -> Result<Vec<PathBuf>, DiscoverError> {
    let separator = separator.filter(|s| !s.is_empty()).unwrap_or(":");
    value
        .split(separator)
        .map(|part| {
            if part == STDIN {
                return Ok(PathBuf::from(STDIN));
            }
            let path = absolute(working_dir, Path::new(part));
            if path.exists() {
                Ok(path)
            } else {
                Err(DiscoverError::ComposeFileVarMissing { path })
            }
        })
        .collect()
}

/// Search `start` and its parents for a default file and its override.
pub fn search(start: &Path, warnings: &mut Vec<Warning>) -> Result<Vec<PathBuf>, DiscoverError> {
    let mut dir = start.to_path_buf();
    loop {
        if let Some(base) = pick(&dir, &DEFAULT_FILE_NAMES, "config", warnings) {
            let mut files = vec![base];
            files.extend(pick(&dir, &OVERRIDE_FILE_NAMES, "override", warnings));
            return Ok(files);
        }
        if !dir.pop() {
            return Err(DiscoverError::NotFound {
                dir: start.to_path_buf(),
            });
        }
    }
}

/// The first of `names` present in `dir`; warns when several are, as
/// docker compose does.
fn pick(dir: &Path, names: &[&str], kind: &str, warnings: &mut Vec<Warning>) -> Option<PathBuf> {
    let found: Vec<PathBuf> = names
        .iter()
        .map(|n| dir.join(n))
        .filter(|p| p.exists())
        .collect();
    if found.len() > 1 {
        let list: Vec<String> = found.iter().map(|p| p.display().to_string()).collect();
        warnings.push(Warning {
            location: None,
            message: format!(
                "found multiple {kind} files with supported names: {}; using {}",
                list.join(", "),
                found[0].display()
            ),
        });
    }
    found.into_iter().next()
}

/// Environment names become file names: keep them to one plain component.
pub fn check_environment_name(name: &str) -> Result<(), DiscoverError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(DiscoverError::InvalidEnvironmentName {
            name: name.to_string(),
        })
    }
}

/// `compose.NAME.yaml` (or `.yml`) in `dir`, which must exist.
pub fn environment_file(dir: &Path, name: &str) -> Result<PathBuf, DiscoverError> {
    check_environment_name(name)?;
    let yaml = dir.join(format!("compose.{name}.yaml"));
    let yml = dir.join(format!("compose.{name}.yml"));
    if yaml.is_file() {
        return Ok(yaml);
    }
    if yml.is_file() {
        return Ok(yml);
    }
    Err(DiscoverError::EnvironmentFileMissing {
        name: name.to_string(),
        expected: yaml,
    })
}

/// Read every file; `-` is standard input's text.
pub fn read_all(paths: &[PathBuf], stdin: Option<&str>) -> Result<Vec<ConfigFile>, DiscoverError> {
    paths
        .iter()
        .map(|path| {
            let content = if path == Path::new(STDIN) {
                stdin.ok_or(DiscoverError::NoStdin)?.to_string()
            } else {
                read(path)?
            };
            Ok(ConfigFile {
                path: Arc::from(path.as_path()),
                content,
            })
        })
        .collect()
}

fn read(path: &Path) -> Result<String, DiscoverError> {
    std::fs::read_to_string(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => DiscoverError::FileNotFound {
            path: path.to_path_buf(),
        },
        _ => DiscoverError::Read {
            path: path.to_path_buf(),
            source,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, name: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, "services: {}\n").unwrap();
        p
    }

    #[test]
    fn absolute_cleans_like_go() {
        assert_eq!(
            absolute(Path::new("/a/b"), Path::new("./c/../d.yaml")),
            PathBuf::from("/a/b/d.yaml")
        );
        assert_eq!(
            absolute(Path::new("/a/b"), Path::new("/x/./y")),
            PathBuf::from("/x/y")
        );
    }

    #[test]
    fn search_prefers_compose_yaml_and_warns_about_others() {
        let d = tempfile::tempdir().unwrap();
        let a = touch(d.path(), "compose.yaml");
        touch(d.path(), "docker-compose.yml");
        let mut w = Vec::new();
        assert_eq!(search(d.path(), &mut w).unwrap(), [a]);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].message.contains("found multiple config files"),
            "{}",
            w[0]
        );
    }

    #[test]
    fn search_walks_up_and_adds_the_override() {
        let d = tempfile::tempdir().unwrap();
        let base = touch(d.path(), "docker-compose.yaml");
        let over = touch(d.path(), "compose.override.yaml");
        let deep = d.path().join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        let mut w = Vec::new();
        assert_eq!(search(&deep, &mut w).unwrap(), [base, over]);
        assert!(w.is_empty());
    }

    #[test]
    fn search_failure_names_the_start() {
        let d = tempfile::tempdir().unwrap();
        let err = search(d.path(), &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains(&d.path().display().to_string()));
    }

    #[test]
    fn compose_file_var_splits_and_checks() {
        let d = tempfile::tempdir().unwrap();
        let a = touch(d.path(), "a.yaml");
        let b = touch(d.path(), "b.yaml");
        assert_eq!(
            from_compose_file_var("a.yaml:b.yaml", None, d.path()).unwrap(),
            [a.clone(), b.clone()]
        );
        assert_eq!(
            from_compose_file_var("a.yaml;b.yaml", Some(";"), d.path()).unwrap(),
            [a, b]
        );
        let err = from_compose_file_var("a.yaml:nope.yaml", None, d.path()).unwrap_err();
        assert!(err.to_string().contains("nope.yaml"), "{err}");
        assert!(err.to_string().contains("COMPOSE_FILE"), "{err}");
    }

    #[test]
    fn environment_file_prefers_yaml_and_says_what_was_expected() {
        let d = tempfile::tempdir().unwrap();
        let yml = touch(d.path(), "compose.prod.yml");
        assert_eq!(environment_file(d.path(), "prod").unwrap(), yml);
        let yaml = touch(d.path(), "compose.prod.yaml");
        assert_eq!(environment_file(d.path(), "prod").unwrap(), yaml);
        let err = environment_file(d.path(), "test").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("compose.test.yaml"), "{text}");
        assert!(environment_file(d.path(), "a/b").is_err());
    }

    #[test]
    fn stdin_is_read_from_the_options() {
        let files = read_all(&[PathBuf::from("-")], Some("services: {}")).unwrap();
        assert_eq!(files[0].content, "services: {}");
        assert!(matches!(
            read_all(&[PathBuf::from("-")], None),
            Err(DiscoverError::NoStdin)
        ));
    }
}
