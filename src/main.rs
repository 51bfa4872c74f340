//! The `compose` binary: parse the command line, run it, map errors to exit codes.

use std::process::ExitCode;

fn main() -> ExitCode {
    compose::cli::main()
}
