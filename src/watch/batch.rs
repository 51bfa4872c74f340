//! Debouncing: file events are gathered until none came for a quiet
//! period, then handled as one batch, so an editor saving many files (or a
//! branch switch) is one sync or one rebuild (docker compose's
//! `BatchDebounceEvents`, 500 ms; the same path twice counts once).
//! Time is passed in, so the batching is tested without sleeping.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// docker compose's `QuietPeriod`.
pub const QUIET_PERIOD: Duration = Duration::from_millis(500);

/// The paths changed since the last batch.
#[derive(Debug)]
pub struct Debouncer {
    quiet: Duration,
    seen: BTreeSet<PathBuf>,
    last: Option<Instant>,
}

impl Debouncer {
    pub fn new(quiet: Duration) -> Debouncer {
        Debouncer {
            quiet,
            seen: BTreeSet::new(),
            last: None,
        }
    }

    /// Record a change seen at `now`; each change restarts the quiet period.
    pub fn push(&mut self, path: PathBuf, now: Instant) {
        self.seen.insert(path);
        self.last = Some(now);
    }

    /// The batch, once the quiet period has passed since the last change
    /// (sorted, each path once); `None` while changes keep coming or none
    /// is waiting.
    pub fn take_due(&mut self, now: Instant) -> Option<Vec<PathBuf>> {
        let last = self.last?;
        if now.saturating_duration_since(last) < self.quiet {
            return None;
        }
        self.last = None;
        Some(std::mem::take(&mut self.seen).into_iter().collect())
    }

    /// How long to wait for the next event before a batch may be due.
    pub fn wait(&self, now: Instant, idle: Duration) -> Duration {
        match self.last {
            Some(last) => (last + self.quiet).saturating_duration_since(now),
            None => idle,
        }
    }
}

impl Default for Debouncer {
    fn default() -> Debouncer {
        Debouncer::new(QUIET_PERIOD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_one_batch_after_the_quiet_period() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut d = Debouncer::default();
        assert_eq!(d.take_due(ms(1000)), None, "nothing waiting");
        d.push("/p/b".into(), ms(0));
        d.push("/p/a".into(), ms(300));
        d.push("/p/b".into(), ms(600));
        assert_eq!(
            d.take_due(ms(900)),
            None,
            "the last change restarted the period"
        );
        assert_eq!(
            d.wait(ms(900), Duration::from_secs(1)),
            Duration::from_millis(200)
        );
        assert_eq!(
            d.take_due(ms(1100)),
            Some(vec![PathBuf::from("/p/a"), PathBuf::from("/p/b")])
        );
        assert_eq!(d.take_due(ms(5000)), None, "a batch is handed out once");
        assert_eq!(
            d.wait(ms(5000), Duration::from_secs(1)),
            Duration::from_secs(1)
        );
    }
}
