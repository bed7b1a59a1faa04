//! Durable Raft state on top of the WAL: what a record means, recovery, and the writer thread
//! that batches records and syncs once per batch (group commit).

use std::path::Path;
use std::thread;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use super::log::{Entry, Log};
use crate::config::FsyncPolicy;
use crate::wal::{TailCut, Wal, WalError};

/// What one WAL record says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// The current term and the vote cast in it.
    HardState { term: u64, voted_for: Option<u64> },
    /// A log entry (appended at `entry.index`, replacing anything from there on).
    Entry { entry: Entry },
    /// Entries from `index` on were removed (a conflicting suffix).
    TruncateFrom { index: u64 },
}

/// State rebuilt from the WAL at start.
#[derive(Debug, Default)]
pub struct Restored {
    pub term: u64,
    pub voted_for: Option<u64>,
    pub log: Log,
    pub records: usize,
    pub cut: Option<TailCut>,
    /// Records that were intact on disk but could not be understood (recovery stopped there).
    pub undecodable: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(transparent)]
    Wal(#[from] WalError),
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the WAL writer thread: {0}")]
    Thread(std::io::Error),
}

enum Job {
    Write(Vec<u8>),
    Sync(oneshot::Sender<()>),
}

/// Handle to the WAL writer thread. Writes are queued in call order; `sync` resolves once
/// everything queued before it is durable per the fsync policy.
#[derive(Debug, Clone)]
pub struct Storage {
    tx: mpsc::UnboundedSender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Write(b) => write!(f, "Write({} bytes)", b.len()),
            Job::Sync(_) => write!(f, "Sync"),
        }
    }
}

impl Storage {
    /// Opens `data_dir/wal.log`, restores state from it and starts the writer thread.
    pub fn open(data_dir: &Path, fsync: FsyncPolicy) -> Result<(Storage, Restored), StorageError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StorageError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let (wal, recovered) = Wal::open(&data_dir.join("wal.log"), fsync)?;
        let mut restored = Restored {
            cut: recovered.cut,
            ..Restored::default()
        };
        for bytes in &recovered.records {
            let Ok(record) = serde_json::from_slice::<Record>(bytes) else {
                restored.undecodable += 1;
                break;
            };
            restored.records += 1;
            match record {
                Record::HardState { term, voted_for } => {
                    restored.term = term;
                    restored.voted_for = voted_for;
                }
                Record::Entry { entry } => {
                    if entry.index == 0 || entry.index > restored.log.last_index() + 1 {
                        restored.undecodable += 1;
                        break;
                    }
                    restored.log.truncate_from(entry.index);
                    restored.log.push(entry);
                }
                Record::TruncateFrom { index } => restored.log.truncate_from(index),
            }
        }
        let (tx, rx) = mpsc::unbounded_channel();
        thread::Builder::new()
            .name("wal-writer".into())
            .spawn(move || writer(wal, rx))
            .map_err(StorageError::Thread)?;
        Ok((Storage { tx }, restored))
    }

    /// Queues a record.
    pub fn write(&self, record: &Record) {
        match serde_json::to_vec(record) {
            Ok(bytes) => {
                // A send fails only when the writer has stopped, which ends the process.
                let _ = self.tx.send(Job::Write(bytes));
            }
            Err(e) => tracing::error!("cannot encode WAL record: {e}"),
        }
    }

    /// Resolves once every record queued so far is durable.
    pub fn sync(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        let _ = self.tx.send(Job::Sync(tx));
        rx
    }
}

fn writer(mut wal: Wal, mut rx: mpsc::UnboundedReceiver<Job>) {
    let mut waiting = Vec::new();
    let mut dirty = false;
    while let Some(first) = rx.blocking_recv() {
        let mut next = Some(first);
        // Drain everything queued: one sync covers the whole batch (group commit).
        while let Some(job) = next {
            match job {
                Job::Write(bytes) => {
                    if let Err(e) = wal.append(&bytes) {
                        fail(e);
                    }
                    dirty = true;
                }
                Job::Sync(done) => waiting.push(done),
            }
            next = rx.try_recv().ok();
        }
        if !waiting.is_empty() {
            if dirty && let Err(e) = wal.sync() {
                fail(e);
            }
            dirty = false;
            for done in waiting.drain(..) {
                let _ = done.send(());
            }
        }
    }
}

/// A node that cannot write its log must not acknowledge anything more: it stops.
fn fail(e: WalError) -> ! {
    tracing::error!("write-ahead log failed, stopping: {e}");
    std::process::exit(3)
}
