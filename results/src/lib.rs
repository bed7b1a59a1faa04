//! faultline-results owns what a run leaves behind: the result store on disk
//! (`<store>/<test>/<timestamp>/` and its `latest` link, what a store holds, what `prune`
//! removes), and `results.json` — the verdict with its explanation, op counts, latency
//! percentiles, availability during and outside faults and in time, and the anomalies found
//! (stale reads, lost acknowledged writes, each with the node that answered, the faults in force
//! and the write it missed); the one-line headline of a run; `report.html` per run; campaign
//! pages, comparisons and JUnit XML; the nightly trends of a campaign (`trends`: new failures,
//! flaky and fixed cells, figures across nights); and the read-only `serve` web view of a store. A run or
//! campaign cut short by a signal says so in each of them (`Interruption`). Nodes are named `nN`
//! (kvnode's id N) in all of it.
//!
//! Invariants: computing results is pure (events in, `RunResults` out); only `store` touches
//! the disk (and `serve` reads it), never through a symlink that leads out of the store;
//! depends on no faultline crate but the checker (for the history types).

mod anomalies;
mod answered_time;
pub mod campaign;
mod faults;
mod figures;
mod grudge;
mod headline;
mod interruption;
mod latency;
mod markup;
mod nodes;
pub mod palette;
mod report;
pub mod serve;
mod store;
mod summary;
pub mod trends;

pub use anomalies::{Anomaly, find_anomalies};
pub use faults::{FaultWindow, fault_windows};
pub use figures::percent;
pub use headline::headline;
pub use interruption::{Interruption, interruption};
pub use latency::{LatencySummary, latencies};
pub use nodes::{name_recorded, node_name};
pub use report::{ReportError, ReportInput, render_report};
pub use store::{
    ClockSample, FolderKind, Removal, Retention, RunDir, StoreError, StoredFolder, StoredNight,
    campaign_dirs, campaign_nights, is_store, plan_removals, read_clock_samples, read_run_history,
    remove_folder, stored_folders,
};
pub use summary::{
    Availability, OpCounts, RunResults, Verdict, final_reads_from, is_rejection, summarise,
};
