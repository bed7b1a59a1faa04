//! A campaign's outputs: `summary.json` (every run and a summary per replication mode),
//! `index.html` (the comparison page: per mode first, then one row per run) and `junit.xml`
//! (one test case per run: a failed expectation is a failure, an unknown verdict an error, a
//! run cut short by a signal or a cell never run skipped); and the same page for stored runs
//! compared (`compare --out`), its links valid where it is written.

mod index;
mod junit;
mod links;
mod summary;

pub use index::{render_comparison, render_index};
pub use junit::junit_xml;
pub use links::report_href;
pub use summary::{
    CampaignRun, CampaignSummary, Expect, ModeSummary, Outcome, SkippedCell, summarise_campaign,
};
