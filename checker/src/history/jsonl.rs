//! faultline's JSON Lines history format: reader and writer (docs/history-format.md).

use std::io::{self, Write};

use super::Event;
use crate::import::ParseError;

/// Reads a JSON Lines history. Blank lines are skipped; the first bad line is the error.
pub fn read_jsonl(_bytes: &[u8]) -> Result<Vec<Event>, ParseError> {
    todo!("importers helper")
}

/// Writes events as JSON Lines, one event a line.
pub fn write_jsonl<W: Write>(_out: W, _events: &[Event]) -> io::Result<()> {
    todo!("importers helper")
}

/// Appends events to a history as they happen (the harness's recorder uses it).
pub struct HistoryWriter<W: Write> {
    _out: W,
}
