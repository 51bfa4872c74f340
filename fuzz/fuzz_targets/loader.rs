//! Arbitrary bytes as a Compose file through the YAML reader, the schema,
//! the semantic checks and the dependency graph: nothing may panic, and
//! every failure must come with a message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let file: Arc<Path> = Arc::from(Path::new("compose.yaml"));
    for message in compose::loader::validate::diagnose(&text, &file) {
        assert!(!message.trim().is_empty());
    }
});
