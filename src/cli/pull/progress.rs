//! `compose pull` progress: one line per image, as docker compose shows
//! (`✔ Image redis:7 Pulled`), with the bytes of all its layers while it
//! downloads. When stderr is not a terminal, plain lines:
//! `Image redis:7 Pulling`, `... Pulled`, `... Skipped - reason`.

use compose_runtime::image::registry::{LayerEvent, PullProgress};
use compose_runtime::image::Digest;
use indicatif::{DecimalBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// All images of one `compose pull` or `compose push`: a line each, as
/// docker compose shows them (`✔ Image redis:7 Pulled`); not a terminal:
/// plain `Image redis:7 Pulling` / `Pulled` lines.
pub struct Board {
    multi: MultiProgress,
    quiet: bool,
    /// Whether a line was drawn (and the cursor sits at its end).
    drawn: AtomicBool,
}

impl Board {
    pub fn new(quiet: bool) -> Board {
        let multi = if quiet {
            MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
        } else {
            MultiProgress::new()
        };
        Board {
            multi,
            quiet,
            drawn: AtomicBool::new(false),
        }
    }

    /// Whether lines are drawn (a terminal, not quiet); notes that one was.
    fn drawing(&self) -> bool {
        let drawing = !self.quiet && !self.multi.is_hidden();
        if drawing {
            self.drawn.store(true, Ordering::Relaxed);
        }
        drawing
    }

    /// Move the cursor below the last line drawn.
    pub fn finish(&self) {
        if self.drawn.load(Ordering::Relaxed) {
            eprintln!();
        }
    }

    /// A finished line of its own (`- Image x Skipped - why`).
    pub fn note(&self, line: &str) {
        if self.quiet {
            return;
        }
        if !self.drawing() {
            eprintln!("{line}");
        } else {
            let style = ProgressStyle::with_template("{msg}").expect("static template");
            let bar = self.multi.add(ProgressBar::new(0).with_style(style));
            bar.finish_with_message(format!("- {line}"));
        }
    }

    /// Say that `image` is not pulled, and why.
    pub fn skipped(&self, image: &str, why: &str) {
        self.note(&format!("Image {image} Skipped - {why}"));
    }

    /// Start showing the pull of `image`.
    pub fn image(&self, image: &str) -> ImageProgress {
        self.line(image, "Pulling", "Pulled")
    }

    /// Start showing `image`'s line, `working` until it is `done`.
    pub(crate) fn line(&self, image: &str, working: &str, done: &'static str) -> ImageProgress {
        let style =
            ProgressStyle::with_template("{spinner} {prefix} {msg}").expect("static template");
        let bar = self.multi.add(ProgressBar::new(0).with_style(style));
        bar.set_prefix(format!("Image {image}"));
        bar.set_message(working.to_string());
        let plain = !self.quiet && self.multi.is_hidden();
        if plain {
            eprintln!("Image {image} {working}");
        } else if self.drawing() {
            bar.enable_steady_tick(std::time::Duration::from_millis(100));
        }
        ImageProgress::new(bar, image, plain, done)
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
