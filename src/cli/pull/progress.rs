//! `compose pull` progress: one line per image, as docker compose shows
//! (`✔ Image redis:7 Pulled`), with the bytes of all its layers while it
//! downloads. When stderr is not a terminal, plain lines:
//! `Image redis:7 Pulling`, `... Pulled`, `... Skipped - reason`.

use compose_runtime::image::registry::{LayerEvent, PullProgress};
use compose_runtime::image::Digest;
use indicatif::{DecimalBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::sync::Mutex;

/// All images of one `compose pull`.
pub struct Board {
    multi: MultiProgress,
    quiet: bool,
}

impl Board {
    pub fn new(quiet: bool) -> Board {
        let multi = if quiet {
            MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
        } else {
            MultiProgress::new()
        };
        Board { multi, quiet }
    }

    fn plain(&self) -> bool {
        self.multi.is_hidden()
    }

    /// Say that `image` is not pulled, and why.
    pub fn skipped(&self, image: &str, why: &str) {
        if self.quiet {
            return;
        }
        let line = format!("Image {image} Skipped - {why}");
        if self.plain() {
            eprintln!("{line}");
        } else {
            let style = ProgressStyle::with_template("{msg}").expect("static template");
            let bar = self.multi.add(ProgressBar::new(0).with_style(style));
            bar.finish_with_message(format!("- {line}"));
        }
    }

    /// Start showing the pull of `image`.
    pub fn image(&self, image: &str) -> ImageProgress {
        let style =
            ProgressStyle::with_template("{spinner} {prefix} {msg}").expect("static template");
        let bar = self.multi.add(ProgressBar::new(0).with_style(style));
        bar.set_prefix(format!("Image {image}"));
        bar.set_message("Pulling");
        if !self.quiet && !self.plain() {
            bar.enable_steady_tick(std::time::Duration::from_millis(100));
        }
        if !self.quiet && self.plain() {
            eprintln!("Image {image} Pulling");
        }
        ImageProgress::new(bar, image, !self.quiet && self.plain(), "Pulled")
    }
}

/// The pull (or push) of one image: its layers' bytes summed on one line.
pub struct ImageProgress {
    bar: ProgressBar,
    image: String,
    layers: Mutex<HashMap<Digest, (u64, u64)>>,
    plain: bool,
    /// `Pulled` or `Pushed`.
    done_word: &'static str,
}

impl ImageProgress {
    /// A line for `image` drawn by `bar` (`plain`: also printed as lines).
    pub(crate) fn new(
        bar: ProgressBar,
        image: &str,
        plain: bool,
        done_word: &'static str,
    ) -> ImageProgress {
        ImageProgress {
            bar,
            image: image.to_string(),
            layers: Mutex::new(HashMap::new()),
            plain,
            done_word,
        }
    }

    /// The pull or push ended; `error` when it failed.
    pub fn finish(&self, error: Option<&str>) {
        let (mark, word) = match error {
            None => ("✔", self.done_word),
            Some(_) => ("✘", "Error"),
        };
        if self.plain {
            eprintln!("Image {} {word}", self.image);
        }
        self.bar
            .set_style(ProgressStyle::with_template("{msg}").expect("static template"));
        self.bar
            .finish_with_message(format!("{mark} Image {} {word}", self.image));
    }

    /// One layer's bytes so far; the line shows the sum over all layers.
    pub(crate) fn bytes(&self, layer: &Digest, done: u64, total: u64, verb: &str) {
        let mut layers = self.layers.lock().expect("progress lock");
        layers.insert(layer.clone(), (done, total));
        let (done, total) = layers
            .values()
            .fold((0, 0), |(d, t), (ld, lt)| (d + ld, t + lt));
        // Decimal units, as docker prints sizes.
        self.bar.set_message(format!(
            "{verb} {}/{}",
            DecimalBytes(done),
            DecimalBytes(total)
        ));
    }
}

impl PullProgress for ImageProgress {
    fn layer(&self, digest: &Digest, event: LayerEvent) {
        match event {
            LayerEvent::Downloading { done, total } => {
                self.bytes(digest, done, total, "Downloading")
            }
            LayerEvent::Extracting => self.bar.set_message("Extracting"),
            _ => {}
        }
    }
}
