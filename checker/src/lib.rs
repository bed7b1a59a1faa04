//! faultline-checker owns histories and the verdicts on them: the history event types, the JSON
//! Lines reader and writer, importers for Jepsen's formats, the models (register, cas-register,
//! kv, kv-append, multi-register, mutex), and the linearizability search with its budget and
//! explanation.
//!
//! Invariants: the search does no I/O; only `history` and `import` know file formats; this crate
//! depends on no other faultline crate.

pub mod history;
pub mod import;
