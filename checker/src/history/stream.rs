//! Reading a JSON Lines history straight into operations: each line is parsed, paired with its
//! invocation and dropped, so what stays is the compact operations, never the events or the
//! file's bytes (a 10-minute run is millions of lines).

use std::io::{self, BufRead};

use super::jsonl::read_line;
use super::operation::{EventFields, Pairing, ValueIn};
use super::{Event, Operation};
use crate::import::ParseError;
use crate::import::text::is_blank;

/// A history read as operations.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedHistory {
    /// The operations, paired exactly as [`pair_operations`](super::pair_operations) pairs the
    /// same events.
    pub operations: Vec<Operation>,
    /// Events read (nemesis events and completions included).
    pub events: u64,
}

/// Why a stream could not be read: the input failed, or a line is not an event.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Parse(#[from] ParseError),
}

/// Reads a JSON Lines history (docs/history-format.md) and pairs it into operations as the lines
/// arrive. Blank lines are skipped; the first bad line is the error, with its line number, and
/// says what [`read_jsonl`](super::read_jsonl) would say of it.
pub fn read_jsonl_operations<R: BufRead>(mut input: R) -> Result<PairedHistory, StreamError> {
    let mut pairing = Pairing::default();
    let mut line = Vec::with_capacity(256);
    let mut number = 0;
    let mut events: u64 = 0;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        number += 1;
        let mut text = line.as_slice();
        if number == 1 {
            text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
        }
        let text = text.strip_suffix(b"\n").unwrap_or(text);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if is_blank(text) {
            continue;
        }
        let position = usize::try_from(events).unwrap_or(usize::MAX);
        let event = read_line(text, position).map_err(|m| ParseError::new(number, m))?;
        let Event {
            index,
            time,
            process,
            kind,
            f,
            key,
            value,
            ..
        } = event;
        pairing.push(EventFields {
            index,
            time,
            process,
            kind,
            f: &f,
            key: key.as_deref(),
            value: ValueIn::Owned(value),
        });
        events += 1;
    }
    Ok(PairedHistory {
        operations: pairing.finish(),
        events,
    })
}
