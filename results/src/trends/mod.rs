//! Nightly trends: a campaign's runs ("nights", its `<timestamp>/` folders in time order) read
//! together. Per cell — system, options, workload, nemesis, node count; never the seed — the
//! outcome of every night, its pass rate, whether it failed anew, is flaky or was fixed
//! (`classify.rs`), and its figures across nights with the nights that regressed marked
//! (`regression.rs`). Written as trends.json and trends.html (`page.rs`, charts by plotters in
//! `charts.rs`, the verdict strip by hand in `strip.rs`) beside the campaign's runs.
//!
//! A night whose summary.json is missing or does not read is named (`bad_runs`) and skipped;
//! it never stops the pages being written.

mod cell;
mod charts;
mod classify;
#[doc(hidden)]
pub mod generate;
mod night;
mod overview;
mod page;
mod regression;
mod strip;

use std::path::Path;

use serde::Serialize;

pub use cell::{CellKey, CellNight, NightOutcome};
pub use classify::{Class, FLAKY_WINDOW};
pub use overview::{CampaignTrends, render_overview};
pub use page::render_trends;
pub use regression::{K_MAD, MIN_NIGHTS, MIN_RELATIVE, WINDOW, Worse, regressions};

use crate::campaign::{CampaignRun, PageError, Provenance};
use crate::store::{StoreError, StoredNight, campaign_nights, write_trends};

/// How the trends judge.
#[derive(Debug, Clone, Copy)]
pub struct TrendOptions {
    /// K: passing nights before a failure counts as new (and the longest passing streak still
    /// called fixed).
    pub passed_nights: usize,
}

impl Default for TrendOptions {
    fn default() -> Self {
        TrendOptions { passed_nights: 3 }
    }
}

/// A night that was read.
#[derive(Debug, Clone, Serialize)]
pub struct NightInfo {
    pub stamp: String,
    pub provenance: Provenance,
}

/// A campaign run folder that could not be read, and why.
#[derive(Debug, Clone, Serialize)]
pub struct BadRun {
    pub stamp: String,
    pub reason: String,
}

/// A figure drawn across nights.
#[derive(Debug, Clone, Copy)]
pub struct Figure {
    pub id: &'static str,
    pub title: &'static str,
    pub worse: Worse,
    pub format: fn(f64) -> String,
    pub value: fn(&CellNight) -> Option<f64>,
}

/// The figures, in the order the page draws them.
pub const FIGURES: [Figure; 4] = [
    Figure {
        id: "throughput",
        title: "throughput (ops/s)",
        worse: Worse::Down,
        format: |v| format!("{v:.0}"),
        value: |n| n.ops_per_s,
    },
    Figure {
        id: "write-p99",
        title: "p99 write latency (ms)",
        worse: Worse::Up,
        format: |v| format!("{v:.1}"),
        value: |n| n.write_p99_ms,
    },
    Figure {
        id: "write-availability",
        title: "writes answered during faults",
        worse: Worse::Down,
        format: |v| format!("{:.0}%", v * 100.0),
        value: |n| n.write_availability_during_faults,
    },
    Figure {
        id: "failover",
        title: "slowest failover (s)",
        worse: Worse::Up,
        format: |v| format!("{v:.2}"),
        value: |n| n.failover_s,
    },
];

/// The nights a figure of a cell regressed on.
#[derive(Debug, Clone, Serialize)]
pub struct FigureRegressions {
    pub figure: &'static str,
    /// Indices into the trends' nights.
    pub nights: Vec<usize>,
}

/// One cell across the nights.
#[derive(Debug, Clone, Serialize)]
pub struct CellTrend {
    pub key: CellKey,
    pub name: String,
    /// One entry per night, oldest first; `null` where the night did not run the cell.
    pub nights: Vec<Option<CellNight>>,
    /// Passing nights over decided ones (an interrupted night is neither).
    pub pass_rate: Option<f64>,
    pub class: Option<Class>,
    /// Only figures with a regression.
    pub regressions: Vec<FigureRegressions>,
}

impl CellTrend {
    /// Whether a figure regressed on the newest night.
    pub fn regressed_now(&self) -> bool {
        let newest = self.nights.len().saturating_sub(1);
        self.regressions.iter().any(|r| r.nights.contains(&newest))
    }
}

/// A campaign's trends, as trends.json holds them.
#[derive(Debug, Clone, Serialize)]
pub struct Trends {
    pub campaign: String,
    /// K.
    pub passed_nights: usize,
    pub nights: Vec<NightInfo>,
    pub bad_runs: Vec<BadRun>,
    pub cells: Vec<CellTrend>,
}

impl Trends {
    pub fn with_class<'a>(
        &'a self,
        name: &'static str,
    ) -> impl Iterator<Item = &'a CellTrend> + 'a {
        self.cells
            .iter()
            .filter(move |c| c.class.as_ref().is_some_and(|k| k.name() == name))
    }

    /// One line per new failure, for CI: the cell, its first failing night with its label,
    /// what changed, and the report (relative to the campaign's folder).
    pub fn new_failure_lines(&self) -> Vec<String> {
        self.cells
            .iter()
            .filter_map(|c| match &c.class {
                Some(Class::NewFailure {
                    first_failing,
                    changes,
                    ..
                }) => {
                    let night = &self.nights[*first_failing];
                    let label = night
                        .provenance
                        .label
                        .as_ref()
                        .map(|l| format!(", label {l}"))
                        .unwrap_or_default();
                    let changed = if changes.is_empty() {
                        "nothing recorded changed".to_owned()
                    } else {
                        format!("changed: {}", changes.join(", "))
                    };
                    let report = c.nights[*first_failing]
                        .as_ref()
                        .map(|n| n.report.clone())
                        .unwrap_or_default();
                    let line = format!(
                        "new failure: {}: {} fails since {}{label} ({changed}); {report}",
                        self.campaign, c.name, night.stamp
                    );
                    // One line whatever a label or name holds (CI greps these).
                    Some(line.replace(char::is_control, " "))
                }
                _ => None,
            })
            .collect()
    }

    /// Why the cell of a campaign run is flaky, or `None`: for junit.xml.
    pub fn flaky_reason(&self, run: &CampaignRun) -> Option<String> {
        let key = CellKey::of_run(run);
        let cell = self.cells.iter().find(|c| c.key == key)?;
        match cell.class {
            Some(Class::Flaky { unexplained_flips }) => Some(format!(
                "flaky: its verdict flipped {unexplained_flips} times in the last {FLAKY_WINDOW} nights with nothing recorded changing"
            )),
            _ => None,
        }
    }
}

/// The trends of the campaign `campaign` from its nights as the store read them.
pub fn compute_trends(campaign: &str, stored: Vec<StoredNight>, options: TrendOptions) -> Trends {
    let mut nights = Vec::new();
    let mut bad_runs = Vec::new();
    for s in stored {
        match s
            .summary
            .and_then(|bytes| night::parse_night(&s.stamp, &bytes))
        {
            Ok(night) => nights.push(night),
            Err(reason) => bad_runs.push(BadRun {
                stamp: s.stamp,
                reason,
            }),
        }
    }
    let provenance: Vec<&Provenance> = nights.iter().map(|n| &n.provenance).collect();
    let cells = cell::cell_series(&nights)
        .into_iter()
        .map(|(key, series)| {
            let (passed, decided) =
                series
                    .iter()
                    .flatten()
                    .fold((0, 0), |(p, d), n| match n.outcome {
                        NightOutcome::Pass => (p + 1, d + 1),
                        NightOutcome::Fail => (p, d + 1),
                        NightOutcome::Interrupted => (p, d),
                    });
            let class = classify::classify(&series, &provenance, options.passed_nights);
            let regressions = FIGURES
                .iter()
                .filter_map(|f| {
                    let values: Vec<Option<f64>> = series
                        .iter()
                        .map(|n| n.as_ref().and_then(f.value))
                        .collect();
                    let nights: Vec<usize> = regressions(&values, f.worse)
                        .into_iter()
                        .enumerate()
                        .filter_map(|(i, m)| m.then_some(i))
                        .collect();
                    (!nights.is_empty()).then_some(FigureRegressions {
                        figure: f.id,
                        nights,
                    })
                })
                .collect();
            CellTrend {
                name: key.name(),
                key,
                nights: series,
                pass_rate: (decided > 0).then(|| passed as f64 / decided as f64),
                class,
                regressions,
            }
        })
        .collect();
    Trends {
        campaign: campaign.to_owned(),
        passed_nights: options.passed_nights,
        nights: nights
            .into_iter()
            .map(|n| NightInfo {
                stamp: n.stamp,
                provenance: n.provenance,
            })
            .collect(),
        bad_runs,
        cells,
    }
}

/// Why the trends could not be written.
#[derive(Debug, thiserror::Error)]
pub enum TrendsError {
    #[error(transparent)]
    Page(#[from] PageError),
    #[error("trends.json: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads the nights of the campaign folder `campaign_dir` (`<store>/campaigns/<name>`) and
/// writes its trends.html and trends.json there.
pub fn write_campaign_trends(
    campaign_dir: &Path,
    options: TrendOptions,
) -> Result<Trends, TrendsError> {
    let name = campaign_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| campaign_dir.display().to_string());
    let trends = compute_trends(&name, campaign_nights(campaign_dir), options);
    let html = render_trends(&trends)?;
    let json = serde_json::to_string(&trends)? + "\n";
    write_trends(campaign_dir, &html, &json)?;
    Ok(trends)
}

/// Writes the store's page (`<store>/trends.html`, `trends.json`): a line per campaign, or a
/// page saying there are none yet.
pub fn write_store_trends(store: &Path, campaigns: &[CampaignTrends]) -> Result<(), TrendsError> {
    let (html, json) = render_overview(campaigns)?;
    write_trends(store, &html, &(json + "\n"))?;
    Ok(())
}
