//! The harness: load a project from text, look at it as `compose config`
//! prints it (YAML read back into a JSON value, so that tests compare plain
//! values), and check that printing then reloading changes nothing.

use compose::loader::{load, Loaded, Options};
use serde_json::Value;
use std::fs;
use std::path::Path;

/// A temporary project directory holding `files` (path, text).
pub struct Project {
    pub dir: tempfile::TempDir,
    pub opts: Options,
    /// The JSON printed for this project cannot be read back, as with
    /// docker compose (see [`Project::json_lossy`]).
    json_lossy: bool,
}

impl Project {
    /// A project whose `compose.yaml` is `yaml`.
    pub fn new(yaml: &str) -> Project {
        Project::files(&[("compose.yaml", yaml)])
    }

    pub fn files(files: &[(&str, &str)]) -> Project {
        let dir = tempfile::tempdir().expect("temp dir");
        for (path, text) in files {
            let p = dir.path().join(path);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
        let mut opts = Options::for_dir(dir.path());
        opts.os_env.insert("HOME".into(), "/home/tester".into());
        Project {
            dir,
            opts,
            json_lossy: false,
        }
    }

    /// Set a variable of the (fake) shell environment.
    pub fn env(mut self, key: &str, value: &str) -> Project {
        self.opts.os_env.insert(key.into(), value.into());
        self
    }

    /// Skip reloading the JSON output: compose-go's `MarshalJSON` loses
    /// parts of some projects (`models`, untagged blkio fields).
    pub fn json_lossy(mut self) -> Project {
        self.json_lossy = true;
        self
    }

    pub fn profiles(mut self, profiles: &[&str]) -> Project {
        self.opts.profiles = profiles.iter().map(|p| p.to_string()).collect();
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The directory as a string, for expected absolute paths.
    pub fn dir_str(&self) -> String {
        self.dir.path().to_string_lossy().into_owned()
    }

    #[track_caller]
    pub fn load(&self) -> Loaded {
        load(&self.opts).unwrap_or_else(|e| panic!("loading failed: {e}"))
    }

    /// The project as `compose config` prints it, after checking that the
    /// printed YAML and JSON reload to the same project.
    #[track_caller]
    pub fn config(&self) -> Value {
        let loaded = self.load();
        let yaml = loaded.project.to_yaml().expect("yaml");
        round_trip(&self.opts, "compose.yaml", &yaml);
        if !self.json_lossy {
            let json = loaded.project.to_json().expect("json");
            round_trip(&self.opts, "compose.json", &json);
        }
        yaml_value(&yaml)
    }

    #[track_caller]
    pub fn error(&self) -> String {
        match load(&self.opts) {
            Ok(_) => panic!("loading should fail"),
            Err(e) => e.to_string(),
        }
    }
}

/// `compose config` of a single-file project.
#[track_caller]
pub fn config(yaml: &str) -> Value {
    Project::new(yaml).config()
}

/// One service of `compose config` of a single-file project.
#[track_caller]
pub fn service(yaml: &str, name: &str) -> Value {
    let config = config(yaml);
    config["services"][name].clone()
}

/// The error loading a single-file project fails with.
#[track_caller]
pub fn error(yaml: &str) -> String {
    Project::new(yaml).error()
}

/// Printed YAML read back with the loader's own YAML reader (YAML 1.2 core
/// schema, as docker compose's yaml.v3), as JSON.
pub fn yaml_value(yaml: &str) -> Value {
    let file: std::sync::Arc<std::path::Path> =
        std::sync::Arc::from(std::path::Path::new("printed.yaml"));
    compose::loader::yaml::parse_str(yaml, &file)
        .unwrap_or_else(|e| panic!("printed YAML unreadable: {e}\n{yaml}"))
        .to_json()
}

/// compose-go's `roundTrip`: what `config` printed (YAML or JSON) loads
/// back, in a new directory (paths being absolute by now) with the same
/// profiles, to a project printed the same way. JSON is compared with JSON:
/// compose-go's `MarshalJSON` leaves service extensions out, so it cannot be
/// compared with the YAML.
#[track_caller]
fn round_trip(first: &Options, file: &str, text: &str) {
    // `compose config` escapes `$` as `$$` so that its output reads back
    // without a second interpolation (docker compose does the same).
    let escaped = text.replace('$', "$$");
    let again = Project::files(&[(file, &escaped)]);
    let mut opts = again.opts.clone();
    opts.files = vec![again.path().join(file)];
    opts.profiles = first.profiles.clone();
    let reloaded = load(&opts).unwrap_or_else(|e| panic!("reloading {file} failed: {e}\n{text}"));
    let reprinted = if file.ends_with(".json") {
        reloaded.project.to_json()
    } else {
        reloaded.project.to_yaml()
    };
    assert_eq!(
        yaml_value(&reprinted.unwrap()),
        yaml_value(text),
        "{file} does not round-trip:\n{text}"
    );
}

/// Check that `expected` is contained in `actual`: every key of an expected
/// mapping is present with a matching value; lists match element-wise and in
/// length; scalars are equal.
#[track_caller]
pub fn assert_has(actual: &Value, expected: &Value) {
    if let Err(path) = contains(actual, expected, String::new()) {
        panic!(
            "mismatch at `{path}`\nexpected (subset): {}\nactual: {}",
            serde_json::to_string_pretty(expected).unwrap(),
            serde_json::to_string_pretty(actual).unwrap()
        );
    }
}

fn contains(actual: &Value, expected: &Value, path: String) -> Result<(), String> {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (k, ev) in e {
                let p = format!("{path}.{k}");
                match a.get(k) {
                    Some(av) => contains(av, ev, p)?,
                    None => return Err(p),
                }
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(e)) if a.len() == e.len() => {
            for (i, (av, ev)) in a.iter().zip(e).enumerate() {
                contains(av, ev, format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        _ if actual == expected => Ok(()),
        _ => Err(path),
    }
}

/// `key` is absent from the mapping `v`.
#[track_caller]
pub fn assert_absent(v: &Value, key: &str) {
    assert!(v.get(key).is_none(), "`{key}` should be absent from {v}");
}
