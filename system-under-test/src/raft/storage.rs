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
    #[error(
        "write-ahead log record {record} has a valid checksum but cannot be understood \
         (written by another kvnode version?); refusing to start rather than lose it"
    )]
    Undecodable { record: usize },
    #[error("write-ahead log record {record} holds entry {index} past the log's end {last}")]
    Gap {
        record: usize,
        index: u64,
        last: u64,
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
        for (i, bytes) in recovered.records.iter().enumerate() {
            let record = serde_json::from_slice::<Record>(bytes)
                .map_err(|_| StorageError::Undecodable { record: i })?;
            restored.records += 1;
            match record {
                Record::HardState { term, voted_for } => {
                    restored.term = term;
                    restored.voted_for = voted_for;
                }
                Record::Entry { entry } => {
                    let last = restored.log.last_index();
                    if entry.index == 0 || entry.index > last + 1 {
                        return Err(StorageError::Gap {
                            record: i,
                            index: entry.index,
                            last,
                        });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state_machine::Command;

    fn entry(term: u64, index: u64) -> Entry {
        Entry {
            term,
            index,
            command: Command::noop(),
        }
    }

    #[tokio::test]
    async fn replays_hard_state_entries_and_truncations() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let (storage, restored) = Storage::open(dir.path(), FsyncPolicy::Always).expect("open");
            assert_eq!(restored.log.last_index(), 0);
            storage.write(&Record::HardState {
                term: 1,
                voted_for: Some(2),
            });
            for i in 1..=5 {
                storage.write(&Record::Entry { entry: entry(1, i) });
            }
            storage.write(&Record::TruncateFrom { index: 3 });
            storage.write(&Record::HardState {
                term: 2,
                voted_for: None,
            });
            storage.write(&Record::Entry { entry: entry(2, 3) });
            storage.sync().await.expect("synced");
        }
        let (_, restored) = Storage::open(dir.path(), FsyncPolicy::Always).expect("reopen");
        assert_eq!((restored.term, restored.voted_for), (2, None));
        assert_eq!(restored.log.last_index(), 3);
        assert_eq!(restored.log.term_at(2), Some(1));
        assert_eq!(restored.log.term_at(3), Some(2));
        assert!(restored.cut.is_none());
    }

    #[test]
    fn refuses_a_log_it_cannot_understand() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("wal.log");
        std::fs::write(&path, crate::wal::encode(b"{\"kind\":\"mystery\"}")).expect("write");
        let err = Storage::open(dir.path(), FsyncPolicy::Never).expect_err("refused");
        assert!(matches!(err, StorageError::Undecodable { record: 0 }));
    }
}
