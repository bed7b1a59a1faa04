//! A history file read as operations, whatever its format: JSON Lines streamed line by line
//! (nothing but the operations is held), the other formats parsed whole and then paired.

use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;

use super::pair_operations;
use super::stream::{PairedHistory, StreamError, read_jsonl_operations};
use crate::import::{Format, ReadError, detect, parse};

/// How much of a file format detection reads first (detection looks at no more).
const DETECTION_WINDOW: usize = 64 * 1024;

/// Reads a history file into operations, detecting its format when `format` is `None`.
/// Errors display as `FILE:LINE: what was expected` (or `FILE: the I/O error`).
pub fn read_operations_file(
    path: &Path,
    format: Option<Format>,
) -> Result<PairedHistory, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_owned(),
        source,
    };
    let parse_error = |source| ReadError::Parse {
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut head = Vec::with_capacity(DETECTION_WINDOW);
    (&mut file)
        .take(DETECTION_WINDOW as u64)
        .read_to_end(&mut head)
        .map_err(io)?;
    let format = format.unwrap_or_else(|| detect(&head));
    if format == Format::Jsonl {
        let input = BufReader::with_capacity(1 << 16, Cursor::new(head).chain(file));
        return read_jsonl_operations(input).map_err(|e| match e {
            StreamError::Io(source) => io(source),
            StreamError::Parse(source) => parse_error(source),
        });
    }
    let mut bytes = head;
    file.read_to_end(&mut bytes).map_err(io)?;
    let events = parse(&bytes, format).map_err(parse_error)?;
    Ok(PairedHistory {
        operations: pair_operations(&events),
        events: events.len() as u64,
    })
}
