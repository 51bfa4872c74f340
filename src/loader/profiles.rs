//! Profiles (15-profiles.md): which services are active.
//!
//! OWNER: loader-composition helper (skeleton only).
