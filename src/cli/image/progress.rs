//! Pull and push progress: one indicatif bar per layer, labelled like
//! `docker pull` (`a1b2c3d4e5f6: Downloading`, `Already exists`, `Pull
//! complete`) and `docker push` (`Preparing`, `Pushing`, `Pushed`, `Layer
//! already exists`, `Mounted from REPO`). indicatif hides the bars itself
//! when stderr is not a terminal; then each layer's outcome is one line.
//! `compose push` shows one line per image instead ([`ImageLine`]).

pub use crate::cli::pull::progress::{Board, ImageProgress};
use compose_runtime::image::registry::{
    BlobOutcome, LayerEvent, PullProgress, PushEvent, PushProgress,
};
use compose_runtime::image::Digest;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::sync::Mutex;

pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<Digest, ProgressBar>>,
}

impl Bars {
    pub fn new() -> Bars {
        Bars {
            multi: MultiProgress::new(),
            bars: Mutex::new(HashMap::new()),
        }
    }

    /// The bar of layer `d`, made with `style` the first time.
    fn bar(&self, d: &Digest, style: fn() -> ProgressStyle) -> ProgressBar {
        let mut bars = self.bars.lock().expect("progress lock");
        bars.entry(d.clone())
            .or_insert_with(|| {
                let bar = self.multi.add(ProgressBar::new(0).with_style(style()));
                bar.set_prefix(d.short().to_string());
                bar
            })
            .clone()
    }

    /// Leave the final state of every bar on screen, and the cursor on
    /// the line below them (indicatif leaves it at the end of the last
    /// bar, where the next line printed would otherwise start).
    pub fn finish(&self) {
        let bars = self.bars.lock().expect("progress lock");
        for bar in bars.values() {
            if !bar.is_finished() {
                bar.abandon();
            }
        }
        if !bars.is_empty() && !self.multi.is_hidden() {
            eprintln!();
        }
    }
}

impl PullProgress for Bars {
    fn layer(&self, digest: &Digest, event: LayerEvent) {
        if self.multi.is_hidden() {
            // Not a terminal (CI logs, pipes): one line per layer outcome, as docker prints.
            match event {
                LayerEvent::AlreadyExists => println!("{}: Already exists", digest.short()),
                LayerEvent::PullComplete => println!("{}: Pull complete", digest.short()),
                _ => {}
            }
            return;
        }
        let bar = self.bar(digest, bar_style);
        match event {
            LayerEvent::AlreadyExists => bar.finish_with_message("Already exists"),
            LayerEvent::Downloading { done, total } => {
                bar.set_length(total);
                bar.set_position(done);
                bar.set_message("Downloading");
            }
            LayerEvent::DownloadComplete => bar.set_message("Download complete"),
            LayerEvent::Extracting => bar.set_message("Extracting"),
            LayerEvent::PullComplete => bar.finish_with_message("Pull complete"),
        }
    }
}

/// A layer's transfer: `a1b2c3d4e5f6: Pushing  [===>   ] 8 KiB/1.9 MiB`.
fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix}: {msg:<16} {wide_bar} {bytes}/{total_bytes}")
        .expect("static template")
        .progress_chars("=> ")
}

/// A layer's state without a transfer: `a1b2c3d4e5f6: Preparing`.
fn words_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix}: {msg}").expect("static template")
}

/// What `docker push` says of a layer that is in the repository.
pub fn outcome_text(o: &BlobOutcome) -> String {
    match o {
        BlobOutcome::AlreadyExists => "Layer already exists".to_string(),
        BlobOutcome::Mounted { from } => format!("Mounted from {from}"),
        BlobOutcome::Pushed => "Pushed".to_string(),
    }
}

impl PushProgress for Bars {
    fn layer(&self, diff_id: &Digest, event: &PushEvent) {
        if self.multi.is_hidden() {
            if let PushEvent::Done(o) = event {
                println!("{}: {}", diff_id.short(), outcome_text(o));
            }
            return;
        }
        // Only an upload has a bar; the other states are words, as docker
        // shows them (`a1b2c3d4e5f6: Layer already exists`).
        let bar = self.bar(diff_id, words_style);
        let words = words_style;
        match event {
            PushEvent::Preparing => {
                bar.set_style(words());
                bar.set_message("Preparing");
            }
            PushEvent::Pushing { done, total } => {
                if bar.length() != Some(*total) {
                    bar.set_style(bar_style());
                    bar.set_length(*total);
                    bar.set_message("Pushing");
                }
                bar.set_position(*done);
            }
            PushEvent::Done(o) => {
                bar.set_style(words());
                bar.finish_with_message(outcome_text(o));
            }
        }
    }
}

impl PushProgress for ImageProgress {
    fn layer(&self, diff_id: &Digest, event: &PushEvent) {
        if let PushEvent::Pushing { done, total } = event {
            self.bytes(diff_id, *done, *total, "Pushing");
        }
    }
}
