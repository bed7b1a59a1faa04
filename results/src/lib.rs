//! faultline-results owns what a run leaves behind: the result store on disk
//! (`<store>/<test>/<timestamp>/` and its `latest` link), and `results.json` — the verdict with
//! its explanation, op counts, latency percentiles, availability during and outside faults, and
//! the anomalies found (stale reads, lost acknowledged writes); `report.html` per run; and the
//! read-only `serve` web view of a store; a campaign's summary, index.html and JUnit XML. A run
//! or campaign cut short by a signal says so in each of them (`Interruption`).
//!
//! Invariants: computing results is pure (events in, `RunResults` out); only `store` touches
//! the disk (and `serve` reads it, refusing every path outside it); depends on no faultline crate
//! but the checker (for the history types).

mod anomalies;
pub mod campaign;
mod faults;
mod figures;
mod interruption;
mod latency;
mod report;
pub mod serve;
mod store;
mod summary;

pub use anomalies::{Anomaly, find_anomalies};
pub use faults::{FaultWindow, fault_windows};
pub use figures::percent;
pub use interruption::{Interruption, interruption};
pub use latency::{LatencySummary, latencies};
pub use report::{ReportError, ReportInput, render_report};
pub use store::{ClockSample, RunDir, StoreError, read_clock_samples, read_run_history};
pub use summary::{Availability, OpCounts, RunResults, Verdict, final_reads_from, summarise};
