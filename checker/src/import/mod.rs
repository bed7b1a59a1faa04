//! Reading histories from files: faultline's JSON Lines and the formats other tools record
//! (Jepsen EDN, one EDN op map a line, Jepsen log lines), with format detection.
//! Only this module and `history` know file formats.

use std::path::{Path, PathBuf};

use crate::history::Event;

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

/// Guesses the format of a history from its first meaningful bytes.
pub fn detect(_bytes: &[u8]) -> Format {
    todo!("importers helper")
}

/// Parses a history in the given format.
pub fn parse(_bytes: &[u8], _format: Format) -> Result<Vec<Event>, ParseError> {
    todo!("importers helper")
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
