//! The history recorder: every invocation, completion and nemesis action is appended to
//! `history.jsonl` as it happens. Events are buffered and flushed at least every second (a
//! ticker calls `flush`), so a controller that dies leaves an analysable history behind.
//!
//! Index and time are assigned here, under one lock, so the file's order is the real-time order
//! the checker relies on: an invocation is recorded before its request is sent and a completion
//! after its answer arrived, so the recorded interval always contains the real one.

use std::fs::File;
use std::io::BufWriter;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use faultline_checker::history::{Event, EventType, HistoryWriter, Process};
use faultline_results::is_rejection;
use serde_json::Value;

/// Live counts for the progress bar, as results.json counts them: a cas rejected on its merits
/// (`faultline_results::is_rejection`) is not a failure.
#[derive(Default)]
pub struct Counters {
    pub ok: AtomicU64,
    pub rejected: AtomicU64,
    pub fail: AtomicU64,
    pub info: AtomicU64,
}

pub struct Recorder {
    started: Instant,
    inner: Mutex<Inner>,
    pub counters: Counters,
}

struct Inner {
    writer: HistoryWriter<BufWriter<File>>,
    next_index: u64,
    /// The highest client process number recorded so far.
    max_process: Option<u64>,
    /// The first write error, reported at the end (recording goes on in memory-less mode).
    error: Option<std::io::Error>,
}

/// One event before the recorder gives it an index and a time.
pub struct Record {
    pub process: Process,
    pub kind: EventType,
    pub f: String,
    pub key: Option<String>,
    pub value: Value,
    pub error: Option<Value>,
    pub node: Option<String>,
}

impl Recorder {
    pub fn new(file: File, started: Instant) -> Self {
        Recorder {
            started,
            inner: Mutex::new(Inner {
                writer: HistoryWriter::new(BufWriter::new(file)),
                next_index: 0,
                max_process: None,
                error: None,
            }),
            counters: Counters::default(),
        }
    }

    /// Nanoseconds since the run started.
    pub fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    pub fn record(&self, r: Record) {
        let counter = match (r.process, r.kind) {
            (Process::Client(_), EventType::Ok) => Some(&self.counters.ok),
            (Process::Client(_), EventType::Fail) if is_rejection(r.error.as_ref()) => {
                Some(&self.counters.rejected)
            }
            (Process::Client(_), EventType::Fail) => Some(&self.counters.fail),
            (Process::Client(_), EventType::Info) => Some(&self.counters.info),
            _ => None,
        };
        if let Some(counter) = counter {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let event = Event {
            index: inner.next_index,
            time: self.now(),
            process: r.process,
            kind: r.kind,
            f: r.f,
            key: r.key,
            value: r.value,
            error: r.error,
            node: r.node,
        };
        inner.next_index += 1;
        if let Process::Client(p) = event.process {
            inner.max_process = inner.max_process.max(Some(p));
        }
        if let Err(e) = inner.writer.append(&event) {
            inner.error.get_or_insert(e);
        }
    }

    /// A client process number nobody has used yet.
    pub fn unused_process(&self) -> u64 {
        self.inner
            .lock()
            .ok()
            .and_then(|inner| inner.max_process)
            .map_or(0, |p| p + 1)
    }

    /// Writes buffered events to the file.
    pub fn flush(&self) {
        if let Ok(mut inner) = self.inner.lock()
            && let Err(e) = inner.writer.flush()
        {
            inner.error.get_or_insert(e);
        }
    }

    /// Flushes and reports the first write error, if any.
    pub fn finish(&self) -> std::io::Result<()> {
        self.flush();
        match self.inner.lock() {
            Ok(mut inner) => inner.error.take().map_or(Ok(()), Err),
            Err(_) => Err(std::io::Error::other("recorder lock poisoned")),
        }
    }
}
