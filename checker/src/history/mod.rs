//! The history: faultline's JSON Lines event format, its reader and writer, and the pairing of
//! events into operations.

mod event;
mod jsonl;
mod operation;

pub use event::{Event, EventType, Process};
pub use jsonl::{HistoryWriter, read_jsonl, write_jsonl};
pub use operation::{Operation, pair_operations};
