//! The `compose` binary: parse the command line, run it, map errors to exit codes.
//!
//! A container's init (`compose init STATE_DIR [--exec FILE]`, run from a
//! sealed copy of this binary) is recognised before anything else, so each
//! container's PID 1 never touches the CLI's code or allocations.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(code) = compose_runtime::container::init::dispatch(&args) {
        return ExitCode::from(u8::try_from(code).unwrap_or(u8::MAX));
    }
    drop(args);
    compose::cli::main()
}
