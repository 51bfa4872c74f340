//! The service dependency graph (petgraph): start order as levels, stop order
//! reversed, cycles named in full.
//!
//! OWNER: validation helper (skeleton only).
