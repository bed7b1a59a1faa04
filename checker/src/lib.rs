//! faultline-checker owns histories and the verdicts on them: the history event types, the JSON
//! Lines reader and writer, importers for Jepsen's formats, the models (register, cas-register,
//! kv, kv-append, multi-register, mutex), and the linearizability search with its budget and
//! explanation.
//!
//! Read it like Porcupine: `model` (what a model is), `search` (the algorithm), `fast` (the
//! polynomial path where values identify writes), `check` (the entry points), `explain` (what a
//! verdict says to a person).
//!
//! Invariants: the search does no I/O; only `history` and `import` know file formats; this crate
//! depends on no other faultline crate.

mod check;
mod explain;
mod fast;
#[doc(hidden)]
pub mod generate;
pub mod history;
pub mod import;
pub mod model;
mod search;

pub use check::{
    CheckResult, Decided, Method, Verdict, check_events, check_events_with, check_operations,
    check_operations_with,
};
pub use explain::{Explanation, OpSummary};
pub use model::{ModelError, ModelKind};
pub use search::budget::{Budget, Exhausted};
