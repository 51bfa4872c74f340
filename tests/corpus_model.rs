//! Every awesome-compose project of the shared corpus (`ac_*`) goes through
//! the canonical transform, normalisation and typing, and its printed form
//! loads back to the same project.

use compose::loader::canonical::canonical;
use compose::loader::environment::Environment;
use compose::loader::node::Node;
use compose::loader::normalize::normalize;
use compose::loader::yaml::parse_documents;
use compose::model::Project;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn corpus_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("COMPOSE_CORPUS") {
        return PathBuf::from(dir);
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/compose-corpus");
    if beside.is_dir() {
        return beside;
    }
    PathBuf::from("/work/shared/compose-corpus")
}

fn compose_file(dir: &Path) -> Option<PathBuf> {
    [
        "compose.yaml",
        "compose.yml",
        "docker-compose.yaml",
        "docker-compose.yml",
    ]
    .iter()
    .map(|n| dir.join(n))
    .find(|p| p.is_file())
}

fn typed(text: &str, file: &Arc<Path>, name: &str) -> Result<Project, String> {
    let docs = parse_documents(text, file).map_err(|e| e.to_string())?;
    let mut doc = docs
        .into_iter()
        .next()
        .unwrap_or_else(|| Node::map(Default::default()));
    canonical(&mut doc, &mut Vec::new()).map_err(|e| e.to_string())?;
    normalize(&mut doc, name, &Environment::new()).map_err(|e| e.to_string())?;
    if let Some(m) = doc.as_map_mut() {
        m.insert("name".into(), Node::string(name));
    }
    Project::from_node(&doc).map_err(|e| e.to_string())
}

#[test]
fn awesome_compose_projects_type_and_round_trip() {
    let root = corpus_dir();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", root.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("ac_"))
        })
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no ac_* projects in {}", root.display());
    let mut failures = Vec::new();
    for case in &cases {
        let Some(path) = compose_file(case) else {
            failures.push(format!("{}: no compose file", case.display()));
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let file: Arc<Path> = Arc::from(path.as_path());
        let name = case
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace('_', "-");
        let project = match typed(&text, &file, &name) {
            Ok(p) => p,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        assert!(!project.services.is_empty(), "{}", case.display());
        let printed = project.to_yaml().unwrap();
        let printed_file: Arc<Path> = Arc::from(Path::new("printed.yaml"));
        match typed(&printed, &printed_file, &name) {
            Ok(back) if back == project => {}
            Ok(_) => failures.push(format!(
                "{}: printed form loads differently:\n{printed}",
                case.display()
            )),
            Err(e) => failures.push(format!(
                "{}: printed form does not load: {e}",
                case.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
