//! The history: faultline's JSON Lines event format, its reader and writer, the pairing of
//! events into operations, and the streaming reader that pairs a JSON Lines file into compact
//! operations without holding its events.

mod event;
mod file;
mod jsonl;
mod name;
mod operation;
mod stream;
mod value;

pub use event::{Event, EventType, Process};
pub use file::read_operations_file;
pub use jsonl::{HistoryWriter, read_jsonl, write_jsonl};
pub use name::Name;
pub use operation::{Operation, pair_operations};
pub use stream::{PairedHistory, StreamError, read_jsonl_operations};
pub use value::OpValue;
