//! `report.html`: one self-contained page per run (no CDN, no external file: it opens offline),
//! rendered from a compile-time template (askama) with charts drawn as SVG by plotters.
//! Verdict, spec and seed first; then, for a non-linearizable history, the counterexample view
//! (`counterexample/`, SVG drawn by hand: the op that cannot be linearized, the ops concurrent
//! with it and the end of the longest linearization found on their processes' lanes, the faults
//! in force shaded behind, and in words the node that answered, the state it needed and the
//! faults); then counts, availability, latency, the charts with fault windows shaded, and links
//! to the raw files.
//!
//! The history explorer (`explorer/`) shows the run's operations on a lane per process, with
//! zoom, hover, selection by key and the anomalies as links, drawn by an inline script from
//! columnar data that Rust writes into the page.
//!
//! Large runs stay readable and the page small: the latency chart draws every operation slower
//! than its type's p99, every `info` and every operation never answered, and samples only the
//! rest (at most `MAX_POINTS`); the explorer embeds at most `explorer::MAX_SHOWN` operations,
//! all of those around each anomaly and fault edge and an even sample of the rest, and the page
//! says so. Fault windows are shaded by family (process, network, clock), their labels stacked
//! above the plot; the fault table gives each partition's shape and grudge in words.

mod charts;
mod counterexample;
mod explorer;
mod time_chart;
mod views;

use askama::Template;
use faultline_checker::history::Event;
use serde_json::Value;

use crate::headline::headline;
use crate::palette::{self, OutcomeColour};
use crate::store::ClockSample;
use crate::summary::RunResults;

pub use charts::ChartError;

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Chart(#[from] ChartError),
    #[error("rendering report.html: {0}")]
    Template(#[from] askama::Error),
}

/// What a report is made from: the run's spec (test.json), results, history and the
/// controller's clock samples (clocks.jsonl; empty when there are none).
pub struct ReportInput<'a> {
    pub spec: &'a Value,
    pub results: &'a RunResults,
    pub events: &'a [Event],
    pub clocks: &'a [ClockSample],
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    title: String,
    verdict: &'static str,
    /// "interrupted after 9 s of 30 s" for a run cut short by a signal.
    interrupted: Option<String>,
    /// Why the verdict is unknown (the checker's budget, or no final reads to judge a set by).
    unknown_reason: Option<String>,
    summary: String,
    spec: String,
    seed: String,
    counts: Vec<views::CountRow>,
    availability: Vec<(String, String)>,
    latency: Vec<views::LatencyRow>,
    latency_svg: String,
    throughput_svg: String,
    clocks_svg: Option<String>,
    explanation: Option<String>,
    /// The counterexample view (its story in words and its chart), an HTML fragment.
    counterexample: Option<String>,
    /// The explorer's data (JSON, safe inside a script element) and script.
    explorer_json: String,
    explorer_js: &'static str,
    /// Past the explorer's budget: what it left out.
    explorer_sampled: Option<String>,
    /// The explorer's key: outcome colours, then fault families present.
    explorer_key: Vec<(&'static str, String)>,
    anomalies: Vec<views::AnomalyRow>,
    anomaly_total: usize,
    /// What the run's option values promise (`replication=sync-strict`, text): beside the
    /// verdict, or above the anomalies when there are any, where their reader looks.
    promises: Vec<(String, String)>,
    faults: Vec<views::FaultRow>,
    node_logs: Vec<String>,
}

/// Renders `report.html`.
pub fn render_report(input: &ReportInput<'_>) -> Result<String, ReportError> {
    let r = input.results;
    let (points, series) = views::latency_points(input.events);
    let latency_svg = charts::latency(&points, &series, &r.faults, r.duration_s)?;
    let buckets = views::throughput_buckets(input.events, r.duration_s);
    let throughput_svg = charts::throughput(&buckets, &r.faults, r.duration_s)?;
    let clocks_svg = if input.clocks.is_empty() {
        None
    } else {
        Some(charts::clocks(
            &views::clock_series(input.clocks),
            &r.faults,
            r.duration_s,
        )?)
    };
    let explanation = r
        .linearizability
        .as_ref()
        .and_then(|c| c.explanation.as_ref());
    let counterexample =
        explanation.map(|e| counterexample::counterexample(e, input.events, &r.faults));
    let explorer = explorer::explorer(input.events, r, input.clocks, explorer::MAX_SHOWN);
    let nodes = input.spec.get("nodes").and_then(Value::as_u64).unwrap_or(0);
    let page = ReportPage {
        title: input
            .spec
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("faultline run")
            .to_owned(),
        verdict: r.verdict.name(),
        interrupted: r.interrupted.map(|i| i.to_string()),
        unknown_reason: r
            .unknown_reason
            .clone()
            .or_else(|| r.linearizability.as_ref().and_then(|c| c.reason.clone())),
        summary: headline(r),
        spec: serde_json::to_string_pretty(input.spec).unwrap_or_default(),
        seed: input
            .spec
            .get("seed")
            .map(Value::to_string)
            .unwrap_or_default(),
        counts: views::count_rows(r),
        availability: views::availability_rows(r),
        latency: views::latency_rows(r),
        latency_svg,
        throughput_svg,
        clocks_svg,
        explanation: explanation.map(ToString::to_string),
        counterexample,
        explorer_json: explorer.json,
        explorer_js: explorer::SCRIPT,
        explorer_sampled: explorer.sampled,
        explorer_key: explorer_key(r),
        anomalies: views::anomaly_rows(r),
        anomaly_total: r.anomaly_counts.values().sum(),
        promises: views::option_promises(input.spec),
        faults: views::fault_rows(r),
        node_logs: (1..=nodes).map(|n| format!("nodes/{n}.log")).collect(),
    };
    Ok(page.render()?)
}

/// What the explorer's colours mean: outcomes, then the fault families the run had.
fn explorer_key(r: &RunResults) -> Vec<(&'static str, String)> {
    let mut key = vec![
        ("ok", palette::outcome(OutcomeColour::Ok).hex()),
        ("fail", palette::outcome(OutcomeColour::Fail).hex()),
        (
            "info or no answer",
            palette::outcome(OutcomeColour::Info).hex(),
        ),
        (
            "cas rejected",
            palette::outcome(OutcomeColour::Rejected).hex(),
        ),
    ];
    for (family, name) in [
        ("process", "process fault"),
        ("network", "network fault"),
        ("clock", "clock fault"),
        ("other", "other fault"),
    ] {
        if r.faults
            .iter()
            .any(|w| palette::family_of_fault(&w.fault) == family)
        {
            key.push((name, palette::fault_family(family).rgba(0.35)));
        }
    }
    key
}
