//! index.html of a campaign: the per-mode comparison first (the answer to "what does async
//! cost me, what does sync cost me"), then one row per run with a link to its report.

use askama::Template;

use super::summary::CampaignSummary;
use crate::figures::percent;

struct ModeRow {
    replication: String,
    verdicts: String,
    anomalies: String,
    availability: String,
    write_availability: String,
    ops_per_s: String,
    latency: String,
    failover: String,
}

struct RunRow {
    label: String,
    verdict: &'static str,
    outcome: &'static str,
    expect: String,
    availability: String,
    anomalies: String,
    report: String,
}

#[derive(Template)]
#[template(path = "campaign_index.html")]
struct IndexPage {
    name: String,
    started: String,
    passed: bool,
    interrupted: bool,
    modes: Vec<ModeRow>,
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

pub fn render_index(summary: &CampaignSummary) -> Result<String, askama::Error> {
    let page = IndexPage {
        name: summary.name.clone(),
        started: summary.started.clone(),
        passed: summary.passed,
        interrupted: summary.interrupted,
        modes: summary
            .modes
            .iter()
            .map(|m| ModeRow {
                replication: m.replication.clone(),
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
            })
            .collect(),
        runs: summary
            .runs
            .iter()
            .map(|r| RunRow {
                label: r.label.clone(),
                verdict: r.verdict.name(),
                outcome: if r.passed { "pass" } else { "FAIL" },
                expect: format!("{:?}", r.expect).to_lowercase(),
                availability: percent(r.availability_during_faults),
                anomalies: anomalies(r.stale_reads, r.lost_writes),
                report: format!("{}/report.html", r.dir),
            })
            .collect(),
    };
    page.render()
}
