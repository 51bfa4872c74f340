//! Reading a container's `log.jsonl` for `compose logs` and attached `up`:
//! the whole file, its last lines, or what was appended since the last read
//! (only complete lines: the init may be mid-write).

use crate::container::log::LogEntry;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

/// A read position in one container's log.
#[derive(Debug, Clone)]
pub struct LogCursor {
    path: PathBuf,
    offset: u64,
}

impl LogCursor {
    /// A cursor at the start of `path`.
    pub fn new(path: PathBuf) -> LogCursor {
        LogCursor { path, offset: 0 }
    }

    /// Entries appended since the last call; unreadable lines are skipped
    /// (a log is best effort, it never stops the output).
    pub fn read_new(&mut self) -> Vec<LogEntry> {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return Vec::new();
        };
        if file.seek(SeekFrom::Start(self.offset)).is_err() {
            return Vec::new();
        }
        let mut bytes = Vec::new();
        if file.read_to_end(&mut bytes).is_err() {
            return Vec::new();
        }
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        self.offset += complete as u64;
        String::from_utf8_lossy(&bytes[..complete])
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Read everything now and keep only the last `n` entries.
    pub fn tail(&mut self, n: usize) -> Vec<LogEntry> {
        let mut all = self.read_new();
        let skip = all.len().saturating_sub(n);
        all.drain(..skip);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_complete_lines_only_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let line =
            |t: &str| format!("{{\"time\":\"t\",\"stream\":\"stdout\",\"log\":\"{t}\\n\"}}\n");
        std::fs::write(&path, format!("{}{}", line("a"), &line("b")[..10])).unwrap();
        let mut cursor = LogCursor::new(path.clone());
        let got: Vec<String> = cursor.read_new().into_iter().map(|e| e.log).collect();
        assert_eq!(got, ["a\n"]);
        std::fs::write(&path, format!("{}{}{}", line("a"), line("b"), line("c"))).unwrap();
        let got: Vec<String> = cursor.read_new().into_iter().map(|e| e.log).collect();
        assert_eq!(got, ["b\n", "c\n"]);
        let got: Vec<String> = LogCursor::new(path)
            .tail(1)
            .into_iter()
            .map(|e| e.log)
            .collect();
        assert_eq!(got, ["c\n"]);
    }
}
