//! index.html of a campaign: the comparison along what its runs differ in first (the answer to
//! "what does async cost me, what does sync cost me", or etcd against kvnode), a table and its
//! charts, then one row per run with a link
//! to its report. The page `compare --out` writes is the same page without expectations:
//! verdicts only, no summary.json or junit.xml beside it to link to.

use askama::Template;

use super::axis::Axis;
use super::chart_frame::Chart;
use super::charts::comparison_charts;
use super::summary::{CampaignSummary, Outcome};
use crate::figures::percent;
use crate::report::ChartError;

/// Why a comparison page could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Chart(#[from] ChartError),
    #[error("rendering the comparison page: {0}")]
    Template(#[from] askama::Error),
}

struct GroupRow {
    value: String,
    /// The value's colour in the charts (CSS), for the row's swatch.
    colour: String,
    verdicts: String,
    anomalies: String,
    availability: String,
    write_availability: String,
    ops_per_s: String,
    latency: String,
    failover: String,
    /// What the group's option values promise (`replication=sync-strict`, text).
    promises: Vec<(String, String)>,
}

struct RunRow {
    label: String,
    /// The verdict; `–` for a cell that never ran.
    verdict: &'static str,
    /// A CSS class: the verdict, or `none`.
    verdict_class: &'static str,
    /// A CSS class: pass, FAIL, interrupted, skipped.
    outcome_class: &'static str,
    outcome: String,
    expect: &'static str,
    availability: String,
    anomalies: String,
    report: Option<String>,
}

#[derive(Template)]
#[template(path = "campaign_index.html")]
struct IndexPage {
    name: String,
    /// Stored runs compared (`compare`): no expectations, no campaign files.
    comparison: bool,
    started: String,
    /// What the campaign ran against, in one line.
    provenance: String,
    passed: bool,
    interrupted: bool,
    headline: String,
    /// What the groups are values of (`replication`, `system · reads`).
    axis: String,
    groups: Vec<GroupRow>,
    /// Whether any group has a promise to show (the column is left out otherwise).
    promises: bool,
    charts: Vec<Chart>,
    runs: Vec<RunRow>,
}

fn millis(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"))
}

fn anomalies(stale: usize, lost: usize) -> String {
    match (stale, lost) {
        (0, 0) => "none".to_owned(),
        (s, 0) => format!("{s} stale reads"),
        (0, l) => format!("{l} lost writes"),
        (s, l) => format!("{s} stale reads, {l} lost writes"),
    }
}

/// A campaign's index.html, beside its summary.json and junit.xml; each run's report linked
/// through its folder relative to the campaign's.
pub fn render_index(summary: &CampaignSummary) -> Result<String, PageError> {
    let reports: Vec<String> = summary
        .runs
        .iter()
        .map(|r| format!("{}/report.html", r.dir))
        .collect();
    page(summary, false, &reports)
}

/// The page of `compare --out`: `started` says when the compared runs started, `report_links`
/// is each run's report link (see `report_href`), in the order of `summary.runs`.
pub fn render_comparison(
    summary: &CampaignSummary,
    report_links: &[String],
) -> Result<String, PageError> {
    page(summary, true, report_links)
}

fn page(
    summary: &CampaignSummary,
    comparison: bool,
    reports: &[String],
) -> Result<String, PageError> {
    // The groups are in the axis's rank order already (`summarise_campaign`).
    let axis = Axis::of(&summary.runs);
    let page = IndexPage {
        name: summary.name.clone(),
        comparison,
        started: summary.started.clone(),
        provenance: summary.provenance.describe(),
        passed: summary.passed,
        interrupted: summary.interrupted,
        headline: summary.headline(),
        axis: axis.name(),
        groups: summary
            .groups
            .iter()
            .map(|m| GroupRow {
                value: m.value.clone(),
                colour: axis.colour(&m.value).hex(),
                verdicts: format!(
                    "{} valid, {} invalid, {} unknown of {}",
                    m.valid, m.invalid, m.unknown, m.runs
                ),
                anomalies: anomalies(m.stale_reads, m.lost_writes),
                availability: percent(m.availability_during_faults),
                write_availability: percent(m.write_availability_during_faults),
                ops_per_s: format!("{:.0}", m.ops_per_s),
                latency: format!("{} / {}", millis(m.write_p50_ms), millis(m.write_p99_ms)),
                failover: m
                    .failover_s
                    .map_or_else(|| "–".to_owned(), |s| format!("{s:.2} s")),
                promises: m
                    .promises
                    .iter()
                    .map(|p| (format!("{}={}", p.option, p.value), p.text.clone()))
                    .collect(),
            })
            .collect(),
        promises: summary.groups.iter().any(|g| !g.promises.is_empty()),
        charts: comparison_charts(&summary.runs, &axis)?,
        runs: summary
            .runs
            .iter()
            .zip(reports)
            .map(|(r, report)| {
                let (outcome_class, outcome) = match (r.outcome, r.interrupted) {
                    (Outcome::Pass, _) => ("pass", "pass".to_owned()),
                    (Outcome::Fail, None) => ("FAIL", "FAIL".to_owned()),
                    (Outcome::Fail, Some(i)) => ("FAIL", format!("FAIL ({i})")),
                    (Outcome::Interrupted, i) => (
                        "interrupted",
                        i.map_or_else(|| "interrupted".to_owned(), |i| i.to_string()),
                    ),
                };
                RunRow {
                    label: r.label.clone(),
                    verdict: r.verdict.name(),
                    verdict_class: r.verdict.name(),
                    outcome_class,
                    outcome,
                    expect: r.expect.name(),
                    availability: percent(r.availability_during_faults),
                    anomalies: anomalies(r.stale_reads, r.lost_writes),
                    report: Some(report.clone()),
                }
            })
            .chain(summary.skipped.iter().map(|c| RunRow {
                label: c.label.clone(),
                verdict: "–",
                verdict_class: "none",
                outcome_class: if c.error.is_some() { "FAIL" } else { "skipped" },
                outcome: match &c.error {
                    Some(error) => format!("could not start: {error}"),
                    None => "skipped".to_owned(),
                },
                expect: c.expect.name(),
                availability: "–".to_owned(),
                anomalies: "–".to_owned(),
                report: None,
            }))
            .collect(),
    };
    Ok(page.render()?)
}
