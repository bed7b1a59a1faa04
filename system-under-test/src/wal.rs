//! The write-ahead log file: append-only frames of `[len: u32 LE][crc32: u32 LE][payload]`.
//!
//! Opening a log recovers every intact frame and cuts the file at the first torn or corrupt one
//! (a short header, a length past the end, a checksum mismatch), reporting what was cut. The
//! payload is opaque here; `raft::storage` decides what it holds.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::config::FsyncPolicy;

const HEADER: usize = 8;
/// A frame claiming more than this is treated as corruption rather than allocated.
pub const MAX_RECORD: usize = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum WalError {
    #[error("write-ahead log {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("record of {0} bytes is larger than the {MAX_RECORD}-byte limit")]
    TooLarge(usize),
}

/// Where recovery cut the file, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailCut {
    /// Length of the file after the cut (the end of the last good record).
    pub offset: u64,
    /// Bytes dropped.
    pub dropped: u64,
    pub reason: &'static str,
}

/// What opening a log found in it.
#[derive(Debug, Default)]
pub struct Recovered {
    pub records: Vec<Vec<u8>>,
    pub cut: Option<TailCut>,
}

/// An open log, positioned at its end.
#[derive(Debug)]
pub struct Wal {
    path: PathBuf,
    out: BufWriter<File>,
    fsync: FsyncPolicy,
}

impl Wal {
    /// Opens (or creates) the log at `path`, recovers its intact records and cuts a bad tail.
    pub fn open(path: &Path, fsync: FsyncPolicy) -> Result<(Wal, Recovered), WalError> {
        let io = |source| WalError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let (records, good_len, reason) = decode_all(&bytes);
        let cut = reason.map(|reason| TailCut {
            offset: good_len as u64,
            dropped: (bytes.len() - good_len) as u64,
            reason,
        });
        if cut.is_some() {
            file.set_len(good_len as u64).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        let wal = Wal {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(256 << 10, file),
            fsync,
        };
        Ok((wal, Recovered { records, cut }))
    }

    /// Appends one record (buffered: call `sync` before acknowledging it).
    pub fn append(&mut self, payload: &[u8]) -> Result<(), WalError> {
        if payload.len() > MAX_RECORD {
            return Err(WalError::TooLarge(payload.len()));
        }
        let frame = encode(payload);
        self.out.write_all(&frame).map_err(|source| WalError::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// Hands buffered records to the OS and, with `FsyncPolicy::Always`, forces them to disk.
    pub fn sync(&mut self) -> Result<(), WalError> {
        let io = |source| WalError::Io {
            path: self.path.clone(),
            source,
        };
        self.out.flush().map_err(io)?;
        if self.fsync == FsyncPolicy::Always {
            self.out.get_ref().sync_data().map_err(io)?;
        }
        Ok(())
    }
}

/// One frame for `payload`.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(HEADER + payload.len());
    frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    frame.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// Decodes frames from the start of `bytes`: the intact records, the length they cover, and
/// why decoding stopped early (if it did).
pub fn decode_all(bytes: &[u8]) -> (Vec<Vec<u8>>, usize, Option<&'static str>) {
    let mut records = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let Some(header) = bytes.get(pos..pos + HEADER) else {
            return (records, pos, Some("torn record header"));
        };
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if len > MAX_RECORD {
            return (records, pos, Some("implausible record length"));
        }
        let Some(payload) = bytes.get(pos + HEADER..pos + HEADER + len) else {
            return (records, pos, Some("torn record payload"));
        };
        if crc32fast::hash(payload) != crc {
            return (records, pos, Some("checksum mismatch"));
        }
        records.push(payload.to_vec());
        pos += HEADER + len;
    }
    (records, pos, None)
}
