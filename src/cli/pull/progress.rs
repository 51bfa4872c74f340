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
        ImageProgress {
            bar,
            image: image.to_string(),
            layers: Mutex::new(HashMap::new()),
            plain: !self.quiet && self.plain(),
        }
    }
}

/// The pull of one image: its layers' bytes summed on one line.
pub struct ImageProgress {
    bar: ProgressBar,
    image: String,
    layers: Mutex<HashMap<Digest, (u64, u64)>>,
    plain: bool,
}

impl ImageProgress {
    /// The pull ended; `error` when it failed.
    pub fn finish(&self, error: Option<&str>) {
        let (mark, word) = match error {
            None => ("✔", "Pulled"),
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
}

impl PullProgress for ImageProgress {
    fn layer(&self, digest: &Digest, event: LayerEvent) {
        let mut layers = self.layers.lock().expect("progress lock");
        match event {
            LayerEvent::Downloading { done, total } => {
                layers.insert(digest.clone(), (done, total));
                let (done, total) = layers
                    .values()
                    .fold((0, 0), |(d, t), (ld, lt)| (d + ld, t + lt));
                // Decimal units, as docker prints sizes.
                self.bar.set_message(format!(
                    "Downloading {}/{}",
                    DecimalBytes(done),
                    DecimalBytes(total)
                ));
            }
            LayerEvent::Extracting => self.bar.set_message("Extracting"),
            _ => {}
        }
    }
}
