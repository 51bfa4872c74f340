//! File events under a set of watched paths, from inotify through the
//! `notify` crate (what docker compose's fsnotify-based watcher does).
//!
//! A watched path that does not exist yet is not an error (docker compose
//! watches its greatest existing ancestor): its nearest existing ancestor
//! is watched alone, and once the path appears it is watched recursively
//! and reported. Events are reported only for paths under a watched path,
//! since an ancestor's watch sees its siblings too. Accesses (open, read,
//! close) are not changes and are dropped.

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::Duration;

/// Why watching failed.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot start watching files: {0}")]
    Start(#[source] notify::Error),
    #[error("cannot watch {}: {source}", path.display())]
    Watch {
        path: PathBuf,
        #[source]
        source: notify::Error,
    },
    #[error("cannot watch the root directory `/`: name a directory below it")]
    Root,
    /// The kernel's event queue overflowed or a watch broke.
    #[error("file watching failed: {0}")]
    Events(#[source] notify::Error),
    #[error("the file watcher stopped")]
    Closed,
}

/// Recursive watches on a set of paths.
pub struct FileWatcher {
    watcher: RecommendedWatcher,
    events: Receiver<notify::Result<notify::Event>>,
    wanted: Vec<PathBuf>,
    /// Wanted paths that did not exist, each with the ancestor watched
    /// for it meanwhile.
    pending: Vec<(PathBuf, PathBuf)>,
}

impl FileWatcher {
    /// Watch each of `paths` (absolute) and everything below it.
    pub fn new(paths: &[PathBuf]) -> Result<FileWatcher, WatchError> {
        let (tx, events) = channel();
        let watcher = notify::recommended_watcher(tx).map_err(WatchError::Start)?;
        let mut this = FileWatcher {
            watcher,
            events,
            wanted: Vec::new(),
            pending: Vec::new(),
        };
        for path in paths {
            if this.wanted.iter().any(|w| path.starts_with(w)) {
                continue;
            }
            this.wanted.push(path.clone());
            this.add(path)?;
        }
        Ok(this)
    }

    /// Watch `path`, or its nearest existing ancestor until it exists.
    /// A file is watched through its directory (as docker compose does):
    /// an editor that saves by renaming a new file over it replaces the
    /// inode a watch on the file itself would follow.
    fn add(&mut self, path: &Path) -> Result<(), WatchError> {
        if path.is_dir() {
            return self.watch(path, RecursiveMode::Recursive);
        }
        if let (true, Some(parent)) = (path.exists(), path.parent()) {
            return self.watch(parent, RecursiveMode::NonRecursive);
        }
        let ancestor = existing_ancestor(path)?;
        self.watch(&ancestor, RecursiveMode::NonRecursive)?;
        self.pending.push((path.to_path_buf(), ancestor));
        Ok(())
    }

    fn watch(&mut self, path: &Path, mode: RecursiveMode) -> Result<(), WatchError> {
        self.watcher
            .watch(path, mode)
            .map_err(|source| WatchError::Watch {
                path: path.to_path_buf(),
                source,
            })
    }

    /// The changed paths of the next event, waiting at most `timeout`
    /// (empty when none came).
    pub fn next(&mut self, timeout: Duration) -> Result<Vec<PathBuf>, WatchError> {
        let event = match self.events.recv_timeout(timeout) {
            Ok(event) => event.map_err(WatchError::Events)?,
            Err(RecvTimeoutError::Timeout) => return Ok(Vec::new()),
            Err(RecvTimeoutError::Disconnected) => return Err(WatchError::Closed),
        };
        let mut changed = self.appeared()?;
        if matches!(event.kind, EventKind::Access(_)) {
            return Ok(changed);
        }
        changed.extend(
            event
                .paths
                .into_iter()
                .filter(|p| self.wanted.iter().any(|w| p.starts_with(w))),
        );
        Ok(changed)
    }

    /// Pending paths that exist now: watched recursively and reported;
    /// one whose nearer ancestor appeared gets that ancestor watched too
    /// (the older, wider watch stays: its events are filtered anyway).
    fn appeared(&mut self) -> Result<Vec<PathBuf>, WatchError> {
        let mut appeared = Vec::new();
        for (path, ancestor) in std::mem::take(&mut self.pending) {
            if path.exists() {
                self.add(&path)?;
                appeared.push(path);
                continue;
            }
            let nearer = existing_ancestor(&path)?;
            if nearer != ancestor {
                self.watch(&nearer, RecursiveMode::NonRecursive)?;
            }
            self.pending.push((path, nearer));
        }
        Ok(appeared)
    }
}

/// The nearest ancestor of `path` that exists.
fn existing_ancestor(path: &Path) -> Result<PathBuf, WatchError> {
    let mut current = path;
    while let Some(parent) = current.parent() {
        if parent.as_os_str().is_empty() || parent == Path::new("/") {
            break;
        }
        if parent.exists() {
            return Ok(parent.to_path_buf());
        }
        current = parent;
    }
    Err(WatchError::Root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// Collect reported paths until `want` is among them or a deadline.
    fn wait_for(w: &mut FileWatcher, want: &Path) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if w.next(Duration::from_millis(100))
                .unwrap()
                .iter()
                .any(|p| p == want)
            {
                return true;
            }
        }
        false
    }

    #[test]
    fn changes_below_a_watched_directory_are_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("src");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let mut w = FileWatcher::new(std::slice::from_ref(&dir)).unwrap();
        let file = dir.join("sub/a.txt");
        std::fs::write(&file, "x").unwrap();
        assert!(wait_for(&mut w, &file));
        std::fs::remove_file(&file).unwrap();
        assert!(wait_for(&mut w, &file));
    }

    #[test]
    fn a_missing_path_is_watched_once_it_appears() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("later");
        let mut w = FileWatcher::new(std::slice::from_ref(&dir)).unwrap();
        // A sibling is not reported.
        std::fs::write(tmp.path().join("other"), "x").unwrap();
        std::fs::create_dir(&dir).unwrap();
        assert!(wait_for(&mut w, &dir));
        let file = dir.join("f");
        std::fs::write(&file, "y").unwrap();
        assert!(wait_for(&mut w, &file));
    }

    #[test]
    fn a_watched_file_survives_being_replaced_by_a_rename() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("package.json");
        std::fs::write(&file, "{}").unwrap();
        let mut w = FileWatcher::new(std::slice::from_ref(&file)).unwrap();
        for text in ["{\"a\":1}", "{\"a\":2}"] {
            let tmpfile = tmp.path().join(".package.json.new");
            std::fs::write(&tmpfile, text).unwrap();
            std::fs::rename(&tmpfile, &file).unwrap();
            assert!(wait_for(&mut w, &file), "replaced with {text}");
        }
    }

    #[test]
    fn the_root_cannot_be_watched_through_a_missing_path() {
        assert!(matches!(
            existing_ancestor(Path::new("/no-such-dir-for-watch")),
            Err(WatchError::Root)
        ));
    }
}
