//! `extends:` within a file and across files, with cycle detection.
//!
//! OWNER: loader-composition helper (skeleton only).
