//! Semantic checks the schema cannot express: references to undefined
//! networks, volumes, secrets, configs and services, dependency cycles,
//! duplicate container names, port ranges.
//!
//! OWNER: validation helper (skeleton only).
