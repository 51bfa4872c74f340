//! Reading dotenv files (`.env`, `--env-file`, service `env_file:`), keeping
//! the line each variable was set on.
//!
//! OWNER: loader-front helper (skeleton only).
