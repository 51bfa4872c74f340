//! Terminal output: styles, warnings, the progress display and log multiplexing.

pub mod progress;
pub mod snippet;
pub mod table;
pub mod template;

use console::style;

/// Print a warning the way docker compose does: on stderr, marked, one line.
pub fn warn(message: &str) {
    eprintln!("{} {message}", style("WARN").yellow().bold());
}
