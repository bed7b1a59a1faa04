//! The checker's integration tests, compiled into one binary.

#[path = "../support/mod.rs"]
mod support;

mod append_lists;
mod budget;
mod conformance;
mod differential;
mod fast_path;
mod parsers;
mod streaming;
