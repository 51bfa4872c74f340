//! The container log: the workload's stdout and stderr as JSON lines in
//! `log.jsonl`, one object per line of output, in Docker's json-file shape
//! `{"time": RFC 3339 nanos, "stream": "stdout", "log": "text\n"}`.
//! Like Docker, a line longer than 16 KiB is cut into partial entries (the
//! ones without a trailing newline).

use crate::container::state::now_rfc3339;
use serde::{Deserialize, Serialize};
use std::io::Write;

/// Docker's maximum log entry before a line is split.
pub const MAX_ENTRY: usize = 16 * 1024;

/// Which output stream a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One line of `log.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub time: String,
    pub stream: Stream,
    pub log: String,
}

/// Splits a byte stream into lines (kept with their '\n').
#[derive(Debug, Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
}

impl LineSplitter {
    /// Feed bytes; returns the complete lines (or 16 KiB chunks) they end.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            let newline = self.pending.iter().position(|b| *b == b'\n');
            let cut = match newline {
                Some(i) if i < MAX_ENTRY => i + 1,
                _ if self.pending.len() >= MAX_ENTRY => MAX_ENTRY,
                _ => break,
            };
            let rest = self.pending.split_off(cut);
            out.push(std::mem::replace(&mut self.pending, rest));
        }
        out
    }

    /// The trailing partial line, at end of stream.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        (!self.pending.is_empty()).then(|| std::mem::take(&mut self.pending))
    }
}

/// Appends entries to the log file.
#[derive(Debug)]
pub struct LogWriter<W: Write> {
    out: W,
}

impl<W: Write> LogWriter<W> {
    pub fn new(out: W) -> LogWriter<W> {
        LogWriter { out }
    }

    /// Write one entry for `line` (lossily decoded as UTF-8, as Docker does).
    pub fn write(&mut self, stream: Stream, line: &[u8]) -> std::io::Result<()> {
        let entry = LogEntry {
            time: now_rfc3339(),
            stream,
            log: String::from_utf8_lossy(line).into_owned(),
        };
        let mut bytes = serde_json::to_vec(&entry).map_err(std::io::Error::from)?;
        bytes.push(b'\n');
        // One write per entry: with O_APPEND a reader never sees half a line.
        self.out.write_all(&bytes)
    }
}

/// Parse a whole `log.jsonl` (for `compose logs` and tests).
pub fn parse_log(text: &str) -> Result<Vec<LogEntry>, serde_json::Error> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(serde_json::from_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_across_chunks() {
        let mut s = LineSplitter::default();
        assert!(s.push(b"hel").is_empty());
        assert_eq!(s.push(b"lo\nwor"), vec![b"hello\n".to_vec()]);
        assert_eq!(s.push(b"ld\n\n"), vec![b"world\n".to_vec(), b"\n".to_vec()]);
        assert_eq!(s.finish(), None);
        s.push(b"tail");
        assert_eq!(s.finish(), Some(b"tail".to_vec()));
    }

    #[test]
    fn long_lines_become_partial_entries() {
        let mut s = LineSplitter::default();
        let mut input = vec![b'a'; MAX_ENTRY + 10];
        input.push(b'\n');
        let out = s.push(&input);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].len(), MAX_ENTRY);
        assert_eq!(out[1].len(), 11);
    }

    #[test]
    fn entries_are_json_lines_with_time_stream_log() {
        let mut buf = Vec::new();
        let mut w = LogWriter::new(&mut buf);
        w.write(Stream::Stderr, b"oops\n").unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.starts_with("{\"time\":\""), "{text}");
        let entries = parse_log(&text).unwrap();
        assert_eq!(entries[0].stream, Stream::Stderr);
        assert_eq!(entries[0].log, "oops\n");
    }
}
