//! A campaign's outputs: `summary.json` (every run and a summary per value of what the runs
//! differ in), `index.html` (the comparison page: per value first, a table and charts drawn by plotters as
//! inline SVG, then one row per run) and `junit.xml` (one test case per run: a failed
//! expectation is a failure, an unknown verdict an error, a run cut short by a signal or a cell
//! never run skipped); and the same page for stored runs compared (`compare --out`), its links
//! valid where it is written. The page compares runs along what differs between them
//! (`axis.rs`: the system and the options — replication, reads, ... — whose values are not the
//! same in every run), each value in one colour. summary.json also records
//! what the campaign ran against (`Provenance`) and each run's node count, for the nightly trends.

mod axis;
mod chart_frame;
mod charts;
mod index;
mod junit;
mod links;
mod provenance;
mod setup;
mod summary;

pub use axis::Axis;
pub use index::{PageError, render_comparison, render_index};
pub use junit::{junit_xml, junit_xml_marking_flaky};
pub use links::report_href;
pub use provenance::Provenance;
pub use summary::{
    CampaignRun, CampaignSummary, Expect, GroupSummary, OptionPromise, Outcome, Setup, SkippedCell,
    summarise_campaign,
};
