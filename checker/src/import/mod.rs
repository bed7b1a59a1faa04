//! Reading histories from files: faultline's JSON Lines and the formats other tools record
//! (Jepsen EDN, one EDN op map a line, Jepsen log lines), with format detection. EDN is read by
//! a small reader for Jepsen's flat op maps (`flat_edn.rs`) and, for anything it declines, by
//! `clojure-reader` (`edn.rs`), whose errors are the ones reported.
//! Only this module and `history` know file formats.

use std::path::{Path, PathBuf};

use crate::history::Event;

mod detect;
mod edn;
mod flat_edn;
mod format;
mod jepsen_edn;
mod jepsen_edn_lines;
mod jepsen_log;
pub(crate) mod text;

pub use format::UnknownFormat;

/// A history file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// faultline's own JSON Lines (docs/history-format.md).
    Jsonl,
    /// A Jepsen history: a vector or bare sequence of op maps over any number of lines.
    JepsenEdn,
    /// One Jepsen op map a line.
    JepsenEdnLines,
    /// Jepsen log lines: `INFO  jepsen.util - PROCESS\t:TYPE\t:F\tVALUE`.
    JepsenLog,
}

/// Why bytes could not be read as a history: the first bad line and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}: {message}")]
pub struct ParseError {
    /// Line number, counting from 1.
    pub line: usize,
    pub message: String,
}

impl ParseError {
    pub fn new(line: usize, message: impl Into<String>) -> Self {
        ParseError {
            line,
            message: message.into(),
        }
    }
}

/// Why a history file could not be read. Displays as `FILE:LINE: what was expected`.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{}", path.display(), source)]
    Parse { path: PathBuf, source: ParseError },
}

/// Guesses the format of a history from its first meaningful bytes (see `detect.rs` for the
/// rules). Input that looks like nothing known is taken for JSON Lines, whose reader then says
/// precisely what is wrong.
pub fn detect(bytes: &[u8]) -> Format {
    detect::detect(bytes)
}

/// Parses a history in the given format.
pub fn parse(bytes: &[u8], format: Format) -> Result<Vec<Event>, ParseError> {
    match format {
        Format::Jsonl => crate::history::read_jsonl(bytes),
        Format::JepsenEdn => jepsen_edn::parse(bytes),
        Format::JepsenEdnLines => jepsen_edn_lines::parse(bytes),
        Format::JepsenLog => jepsen_log::parse(bytes),
    }
}

/// Parses a history with `clojure-reader` alone, never the flat EDN reader: `parse` must give
/// the same answer, events or error, for every input (the parser tests hold it to that).
#[doc(hidden)]
pub fn parse_general(bytes: &[u8], format: Format) -> Result<Vec<Event>, ParseError> {
    let general = |bytes| {
        let text = text::decode(bytes)?;
        match format {
            Format::JepsenEdn => jepsen_edn::read_general(text),
            _ => jepsen_edn_lines::read_general(text),
        }
    };
    match format {
        Format::Jsonl => crate::history::read_jsonl(bytes),
        Format::JepsenEdn | Format::JepsenEdnLines => general(bytes),
        Format::JepsenLog => jepsen_log::parse_with(bytes, false),
    }
}

/// The flat EDN reader's events for a whole EDN history, `None` where it declines (tests use it
/// to see that the corpus takes the fast path).
#[doc(hidden)]
pub fn parse_flat(bytes: &[u8], format: Format) -> Option<Vec<Event>> {
    let text = text::decode(bytes).ok()?;
    match format {
        Format::JepsenEdn => jepsen_edn::read_flat(text),
        Format::JepsenEdnLines => jepsen_edn_lines::read_flat(text),
        Format::Jsonl | Format::JepsenLog => None,
    }
}

/// Reads a history file, detecting its format when `format` is `None`.
pub fn read_history_file(path: &Path, format: Option<Format>) -> Result<Vec<Event>, ReadError> {
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        path: path.to_owned(),
        source,
    })?;
    let format = format.unwrap_or_else(|| detect(&bytes));
    parse(&bytes, format).map_err(|source| ReadError::Parse {
        path: path.to_owned(),
        source,
    })
}
