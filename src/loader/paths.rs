//! Making relative paths absolute (build contexts, bind sources, env files,
//! secrets and configs files, extends files), and `~` expansion.
//!
//! OWNER: loader-composition helper (skeleton only).
