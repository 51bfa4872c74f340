//! `include:` of other Compose projects (14-include.md), with cycle detection.
//!
//! OWNER: loader-composition helper (skeleton only).
