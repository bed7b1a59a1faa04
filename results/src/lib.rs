//! faultline-results owns what a run leaves behind: the result store on disk
//! (`<store>/<test>/<timestamp>/` and its `latest` link), and `results.json` — the verdict with
//! its explanation, op counts, latency percentiles, availability during and outside faults and
//! in time, and the anomalies found (stale reads, lost acknowledged writes, each with the node
//! that answered, the faults in force and the write it missed); the one-line headline of a run;
//! `report.html` per run; campaign pages and JUnit XML; and the read-only `serve` web view of a
//! store. Nodes are named `nN` (kvnode's id N) in all of it.
//!
//! Invariants: computing results is pure (events in, `RunResults` out); only `store` touches
//! the disk (and `serve` reads it, refusing every path outside it); depends on no faultline crate
//! but the checker (for the history types).

mod anomalies;
mod answered_time;
pub mod campaign;
mod faults;
mod figures;
mod grudge;
mod headline;
mod latency;
mod nodes;
mod report;
pub mod serve;
mod store;
mod summary;

pub use anomalies::{Anomaly, find_anomalies};
pub use faults::{FaultWindow, fault_windows};
pub use figures::percent;
pub use headline::headline;
pub use latency::{LatencySummary, latencies};
pub use nodes::{name_recorded, node_name};
pub use report::{ReportError, ReportInput, render_report};
pub use store::{ClockSample, RunDir, StoreError, read_clock_samples, read_run_history};
pub use summary::{
    Availability, OpCounts, RunResults, Verdict, final_reads_from, is_rejection, summarise,
};
