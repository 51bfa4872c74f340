//! Reading a container's `log.jsonl` for `compose logs` and attached `up`:
//! the whole file, its last lines, or what was appended since the last read
//! (only complete lines: the init may be mid-write).

use crate::container::log::LogEntry;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// A read position in one container's log. It keeps the file open, so a
/// container removed and recreated under the same name (a new file at the
/// same path) has its old file read to the end before the new one is
/// followed from its start; a restarted container appends to the same file
/// and is simply read on.
#[derive(Debug)]
pub struct LogCursor {
    path: PathBuf,
    file: Option<File>,
    /// Bytes of a line the init has not finished writing yet.
    partial: Vec<u8>,
}

impl LogCursor {
    /// A cursor at the start of `path`.
    pub fn new(path: PathBuf) -> LogCursor {
        LogCursor {
            path,
            file: None,
            partial: Vec::new(),
        }
    }

    /// Entries appended since the last call; unreadable lines are skipped
    /// (a log is best effort, it never stops the output).
    pub fn read_new(&mut self) -> Vec<LogEntry> {
        let mut bytes = std::mem::take(&mut self.partial);
        if self.file.is_none() {
            self.file = File::open(&self.path).ok();
        }
        if let Some(file) = &mut self.file {
            let _ = file.read_to_end(&mut bytes);
            if self.replaced() {
                // The old file is complete: its container is gone.
                let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                bytes.truncate(complete);
                self.file = File::open(&self.path).ok();
                if let Some(file) = &mut self.file {
                    let _ = file.read_to_end(&mut bytes);
                }
            }
        }
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        self.partial = bytes.split_off(complete);
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Whether the path now names another file than the open one.
    fn replaced(&self) -> bool {
        let (Some(file), Ok(now)) = (&self.file, std::fs::metadata(&self.path)) else {
            return false;
        };
        file.metadata()
            .map(|open| (open.dev(), open.ino()) != (now.dev(), now.ino()))
            .unwrap_or(false)
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

    #[test]
    fn a_replaced_file_is_read_to_its_end_then_the_new_one_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let line =
            |t: &str| format!("{{\"time\":\"t\",\"stream\":\"stdout\",\"log\":\"{t}\\n\"}}\n");
        std::fs::write(&path, line("old-1")).unwrap();
        let mut cursor = LogCursor::new(path.clone());
        assert_eq!(cursor.read_new().len(), 1);
        // The old container writes its last line, then is removed and a
        // new one starts a new file under the same name.
        let mut old = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::io::Write::write_all(&mut old, line("old-2").as_bytes()).unwrap();
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, line("new-1")).unwrap();
        let got: Vec<String> = cursor.read_new().into_iter().map(|e| e.log).collect();
        assert_eq!(got, ["old-2\n", "new-1\n"]);
        assert!(cursor.read_new().is_empty());
    }
}
