//! `label_file`: a service's labels read from files (compose-go
//! `Project.WithServicesLabelsResolved`, run at the end of loading whatever
//! the options). Files are read in order with the dotenv syntax, later files
//! win, `${VAR}` in a file sees the labels read before it, and the
//! service's own `labels` override them all. A missing file is an error
//! (label files have no `required: false`). `compose config` drops
//! `label_file` once resolved, as it drops `env_file`.

use super::dotenv::{self, EnvFileError};
use super::node::{Location, Mapping, Node, NodePath, Value};
use indexmap::IndexMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LabelFileError {
    #[error("{location}: label file {} not found; check the path", .path.display())]
    NotFound { location: Location, path: PathBuf },
    #[error("{location}: {source}")]
    Read {
        location: Location,
        source: Box<EnvFileError>,
    },
}

/// Merge every service's label files into its `labels`; drop `label_file`
/// when `discard` (what `config` prints).
pub fn apply(doc: &mut Node, discard: bool) -> Result<(), LabelFileError> {
    let Some(services) = doc.get_mut("services").and_then(Node::as_map_mut) else {
        return Ok(());
    };
    for (name, service) in services.iter_mut() {
        let Some(map) = service.as_map_mut() else {
            continue;
        };
        let path = NodePath::root().key("services").key(name.as_str());
        let files = match map.get("label_file") {
            Some(node) => file_list(node, &path.key("label_file")),
            None => continue,
        };
        let mut labels = read_files(&files)?;
        if let Some(own) = map.get("labels").and_then(Node::as_map) {
            for (k, v) in own {
                labels.insert(k.clone(), v.clone());
            }
        }
        if !labels.is_empty() {
            let span = map.get("labels").and_then(|l| l.span.clone());
            map.insert("labels".into(), Node::with_span(Value::Map(labels), span));
        }
        if discard {
            map.shift_remove("label_file");
        }
    }
    Ok(())
}

/// The files named by `label_file` (a string or a list), with where each
/// was written.
fn file_list(node: &Node, path: &NodePath) -> Vec<(String, Location)> {
    let located = |n: &Node, p: NodePath| {
        n.as_str()
            .map(|s| (s.to_string(), Location::new(n.span.clone(), p)))
    };
    match node.as_seq() {
        Some(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, n)| located(n, path.index(i)))
            .collect(),
        None => located(node, path.clone()).into_iter().collect(),
    }
}

fn read_files(files: &[(String, Location)]) -> Result<Mapping, LabelFileError> {
    let mut vars: IndexMap<String, String> = IndexMap::new();
    let mut labels = Mapping::new();
    for (file, location) in files {
        let path = Path::new(file);
        // `${VAR}` and bare keys see only the labels read so far.
        let seen = vars.clone();
        let lookup = |name: &str| seen.get(name).cloned();
        let entries = dotenv::read_env_file_as(path, dotenv::Format::Dotenv, &lookup, &mut vars)
            .map_err(|e| match e {
                EnvFileError::NotFound { path } => LabelFileError::NotFound {
                    location: location.clone(),
                    path,
                },
                other => LabelFileError::Read {
                    location: location.clone(),
                    source: Box::new(other),
                },
            })?;
        for entry in entries {
            if let Some(value) = entry.value {
                labels.insert(entry.key, Node::string(value));
            }
        }
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::yaml::parse_str;
    use std::sync::Arc;

    fn doc(text: &str) -> Node {
        parse_str(text, &Arc::from(Path::new("compose.yaml"))).unwrap()
    }

    #[test]
    fn files_in_order_then_own_labels_win() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.label");
        let b = dir.path().join("b.label");
        std::fs::write(&a, "FOO=a\nBAR=a\n# comment\nREF=${FOO}-x\n").unwrap();
        std::fs::write(&b, "BAR=b\nQUX=b\n").unwrap();
        let mut d = doc(&format!(
            "services:\n  s:\n    label_file: [{}, {}]\n    labels: {{QUX: own}}\n",
            a.display(),
            b.display()
        ));
        apply(&mut d, true).unwrap();
        let s = d.get("services").and_then(|s| s.get("s")).unwrap();
        assert_eq!(
            s.to_json(),
            serde_json::json!({"labels": {"FOO": "a", "BAR": "b", "REF": "a-x", "QUX": "own"}})
        );
    }

    #[test]
    fn a_missing_file_names_the_entry() {
        let mut d = doc("services:\n  s:\n    label_file: /nowhere/x.label\n");
        let err = apply(&mut d, false).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "compose.yaml:3:17: services.s.label_file: label file /nowhere/x.label not found"
            ),
            "{err}"
        );
    }
}
