//! Pull progress: one indicatif bar per layer, labelled like `docker pull`
//! (`a1b2c3d4e5f6: Downloading`, `Already exists`, `Pull complete`).
//! indicatif hides the bars itself when stderr is not a terminal.

use compose_runtime::image::registry::{LayerEvent, PullProgress};
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

    fn bar(&self, d: &Digest) -> ProgressBar {
        let mut bars = self.bars.lock().expect("progress lock");
        bars.entry(d.clone())
            .or_insert_with(|| {
                let style = ProgressStyle::with_template(
                    "{prefix}: {msg:<16} {wide_bar} {bytes}/{total_bytes}",
                )
                .expect("static template")
                .progress_chars("=> ");
                let bar = self.multi.add(ProgressBar::new(0).with_style(style));
                bar.set_prefix(d.short().to_string());
                bar
            })
            .clone()
    }

    /// Leave the final state of every bar on screen.
    pub fn finish(&self) {
        for bar in self.bars.lock().expect("progress lock").values() {
            if !bar.is_finished() {
                bar.abandon();
            }
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
        let bar = self.bar(digest);
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
