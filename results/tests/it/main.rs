//! faultline-results' integration tests, compiled into one binary.

mod anomalies;
mod browser;
mod campaign;
mod charts;
mod comparison_charts;
mod counterexample;
mod explorer;
mod interruption;
mod report;
mod serve;
mod store;
mod summary;
mod trends;
mod trends_browser;

use faultline_checker::history::Event;
use faultline_checker::{Budget, ModelKind, check_events};
use faultline_results::{ReportInput, render_report, summarise};

/// report.html of `events` under the test spec `{"name": name, "seed": seed, "nodes": 3}`, the
/// history checked against `model` first when there is one.
pub(crate) fn render_page(
    events: &[Event],
    model: Option<ModelKind>,
    name: &str,
    seed: u64,
) -> String {
    let check = model.map(|m| check_events(events, m, None, Budget::default()).expect("fits"));
    let results = summarise(events, check, false);
    let spec = serde_json::json!({"name": name, "seed": seed, "nodes": 3});
    render_report(&ReportInput {
        spec: &spec,
        results: &results,
        events,
        clocks: &[],
    })
    .expect("renders")
}
