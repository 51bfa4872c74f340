//! Helpers shared by the unit and integration tests (not part of the API).

use std::path::{Path, PathBuf};

/// The shared real-world corpus: `COMPOSE_CORPUS`, else `../shared/compose-corpus`
/// beside the checkout, else `/work/shared/compose-corpus`; made absolute and
/// free of `..` so that paths the loader derives from it compare equal.
pub fn corpus_root() -> PathBuf {
    let root = std::env::var_os("COMPOSE_CORPUS")
        .map(PathBuf::from)
        .or_else(|| {
            let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/compose-corpus");
            p.is_dir().then_some(p)
        })
        .unwrap_or_else(|| PathBuf::from("/work/shared/compose-corpus"));
    root.canonicalize().unwrap_or(root)
}

/// One case folder of the corpus.
pub fn corpus(case: &str) -> PathBuf {
    corpus_root().join(case)
}
