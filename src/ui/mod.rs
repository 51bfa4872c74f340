//! Terminal output: styles, warnings and (later) progress and log multiplexing.

pub mod snippet;
pub mod table;

use console::style;

/// Print a warning the way docker compose does: on stderr, marked, one line.
pub fn warn(message: &str) {
    eprintln!("{} {message}", style("WARN").yellow().bold());
}
