//! trends.html: what changed first (new failures with their first failing night, what changed
//! that night and its report; flaky cells; fixed cells; runs that could not be read), the
//! rules in words, then every cell: its strip of verdicts, pass rate and figures across nights.

use askama::Template;

use super::charts::figure_chart;
use super::classify::{Class, FLAKY_WINDOW};
use super::regression::{K_MAD, MIN_NIGHTS, MIN_RELATIVE, WINDOW};
use super::strip::strip;
use super::{BadRun, FIGURES, Trends};
use crate::campaign::PageError;
use crate::report::ChartError;

/// `20261130T131222.123Z` as `2026-11-30 13:12:22`; anything else as it is.
pub fn when(stamp: &str) -> String {
    let b = stamp.as_bytes();
    if b.len() < 15 || b[8] != b'T' {
        return stamp.to_owned();
    }
    format!(
        "{}-{}-{} {}:{}:{}",
        &stamp[0..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[9..11],
        &stamp[11..13],
        &stamp[13..15]
    )
}

struct Finding {
    cell: String,
    /// The night it concerns and its label.
    night: String,
    detail: String,
    report: Option<String>,
}

struct CellRow {
    index: usize,
    name: String,
    faults: String,
    strip: String,
    pass_rate: String,
    class: &'static str,
    /// The class as a CSS class (`new-failure`).
    class_css: String,
    regressed: bool,
    newest_report: Option<String>,
    charts: Vec<String>,
}

struct NightRow {
    when: String,
    stamp: String,
    ran_against: String,
}

#[derive(Template)]
#[template(path = "trends.html")]
struct TrendsPage<'a> {
    campaign: &'a str,
    k: usize,
    flaky_window: usize,
    k_mad: f64,
    min_relative: String,
    window: usize,
    min_nights: usize,
    nights: Vec<NightRow>,
    new_failures: Vec<Finding>,
    flaky: Vec<Finding>,
    fixed: Vec<Finding>,
    bad_runs: &'a [BadRun],
    cells: Vec<CellRow>,
}

fn night_label(trends: &Trends, i: usize) -> String {
    let night = &trends.nights[i];
    match &night.provenance.label {
        Some(l) => format!("{} ({l})", when(&night.stamp)),
        None => when(&night.stamp),
    }
}

/// The trends page.
pub fn render_trends(trends: &Trends) -> Result<String, PageError> {
    let mut new_failures = Vec::new();
    let mut flaky = Vec::new();
    let mut fixed = Vec::new();
    for cell in &trends.cells {
        let report_of = |i: usize| cell.nights[i].as_ref().map(|n| n.report.clone());
        match &cell.class {
            Some(Class::NewFailure {
                first_failing,
                last_passing,
                changes,
            }) => new_failures.push(Finding {
                cell: cell.name.clone(),
                night: night_label(trends, *first_failing),
                detail: format!(
                    "last passed {}; {}",
                    night_label(trends, *last_passing),
                    if changes.is_empty() {
                        "nothing recorded changed".to_owned()
                    } else {
                        format!("changed: {}", changes.join(", "))
                    }
                ),
                report: report_of(*first_failing),
            }),
            Some(Class::Flaky { unexplained_flips }) => flaky.push(Finding {
                cell: cell.name.clone(),
                night: night_label(trends, trends.nights.len() - 1),
                detail: format!(
                    "{unexplained_flips} flips with nothing recorded changing; passes {}",
                    crate::figures::percent(cell.pass_rate)
                ),
                report: None,
            }),
            Some(Class::Fixed {
                first_passing,
                last_failing,
            }) => fixed.push(Finding {
                cell: cell.name.clone(),
                night: night_label(trends, *first_passing),
                detail: format!(
                    "passes since then, last failed {}; {}",
                    night_label(trends, *last_failing),
                    trends.nights[*first_passing]
                        .provenance
                        .changes_since(&trends.nights[*last_failing].provenance)
                        .join(", ")
                ),
                report: report_of(*first_passing),
            }),
            None => {}
        }
    }
    let cells = trends
        .cells
        .iter()
        .enumerate()
        .map(|(index, cell)| {
            let charts = FIGURES
                .iter()
                .filter_map(|f| figure_chart(index, cell, f).transpose())
                .collect::<Result<Vec<String>, ChartError>>()?;
            Ok(CellRow {
                index,
                name: cell.name.clone(),
                faults: cell.key.setup.nemesis.replace(',', " + "),
                strip: strip(&cell.name, &cell.nights, &trends.nights),
                pass_rate: crate::figures::percent(cell.pass_rate),
                class: cell.class.as_ref().map_or("", Class::name),
                class_css: cell
                    .class
                    .as_ref()
                    .map_or("", Class::name)
                    .replace(' ', "-"),
                regressed: cell.regressed_now(),
                newest_report: cell
                    .nights
                    .iter()
                    .rev()
                    .flatten()
                    .next()
                    .map(|n| n.report.clone()),
                charts,
            })
        })
        .collect::<Result<Vec<_>, ChartError>>()?;
    let page = TrendsPage {
        campaign: &trends.campaign,
        k: trends.passed_nights,
        flaky_window: FLAKY_WINDOW,
        k_mad: K_MAD,
        min_relative: format!("{:.0}%", MIN_RELATIVE * 100.0),
        window: WINDOW,
        min_nights: MIN_NIGHTS,
        nights: trends
            .nights
            .iter()
            .rev()
            .map(|n| NightRow {
                when: when(&n.stamp),
                stamp: n.stamp.clone(),
                ran_against: n.provenance.describe(),
            })
            .collect(),
        new_failures,
        flaky,
        fixed,
        bad_runs: &trends.bad_runs,
        cells,
    };
    Ok(page.render()?)
}
