//! A cell across nights: what identifies it (system, options, workload, nemesis, node count —
//! never the seed, so a campaign's repeats of one cell are one cell), and what each night
//! concluded of it and measured.

use std::collections::BTreeMap;

use serde::Serialize;

use super::night::{Night, NightRun};
use crate::campaign::{CampaignRun, Setup};

/// What identifies a cell from night to night.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct CellKey {
    /// The system, its options, the workload and the nemesis.
    #[serde(flatten)]
    pub setup: Setup,
    pub nodes: Option<usize>,
}

impl CellKey {
    /// `system` is the night's system, for runs recorded before each run named its own.
    pub fn of(system: &str, run: &NightRun) -> CellKey {
        CellKey {
            setup: run.setup(system),
            nodes: run.node_count(),
        }
    }

    /// A campaign run's cell.
    pub fn of_run(run: &CampaignRun) -> CellKey {
        CellKey {
            setup: run.setup.clone(),
            nodes: run.nodes,
        }
    }

    /// `register-quorum-read-index-kill+pause-n3`, as a campaign label without its seed (a
    /// system other than kvnode is named after the workload).
    pub fn name(&self) -> String {
        let nodes = self.nodes.map(|n| format!("-n{n}")).unwrap_or_default();
        let mut words = vec![self.setup.workload.clone()];
        if self.setup.system != "kvnode" {
            words.push(self.setup.system.clone());
        }
        words.extend(self.setup.option_values().map(str::to_owned));
        words.push(self.setup.nemesis.replace(',', "+"));
        format!("{}{nodes}", words.join("-"))
    }
}

/// What a cell concluded on one night.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NightOutcome {
    Pass,
    /// Some run of the cell failed its expectation.
    Fail,
    /// Cut short by a signal and nothing failed: neither.
    Interrupted,
}

/// One night of one cell: its runs (one per seed) together.
#[derive(Debug, Clone, Serialize)]
pub struct CellNight {
    pub outcome: NightOutcome,
    /// `valid`, `invalid`, `unknown`, or several joined by `/` when its seeds differ.
    pub verdict: String,
    /// The report to read: the first failing run's, else the first run's; relative to the
    /// campaign's folder.
    pub report: String,
    /// Means over the cell's runs that night.
    pub ops_per_s: Option<f64>,
    pub write_p99_ms: Option<f64>,
    pub write_availability_during_faults: Option<f64>,
    pub failover_s: Option<f64>,
}

fn mean(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let (sum, n) = values
        .flatten()
        .filter(|v| v.is_finite())
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

impl CellNight {
    fn of(stamp: &str, runs: &[&NightRun]) -> CellNight {
        let failed = runs.iter().find(|r| r.outcome == "fail");
        let outcome = if failed.is_some() {
            NightOutcome::Fail
        } else if runs.iter().all(|r| r.outcome == "pass") {
            NightOutcome::Pass
        } else {
            // Interrupted, or an outcome this version does not know: neither pass nor fail.
            NightOutcome::Interrupted
        };
        let mut verdicts: Vec<&str> = runs.iter().map(|r| r.verdict.as_str()).collect();
        verdicts.dedup();
        let shown = failed.copied().or(runs.first().copied());
        CellNight {
            outcome,
            verdict: verdicts.join("/"),
            report: shown.map_or_else(String::new, |r| format!("{stamp}/{}/report.html", r.dir)),
            ops_per_s: mean(runs.iter().map(|r| r.ops_per_s)),
            write_p99_ms: mean(runs.iter().map(|r| r.write_p99_ms)),
            write_availability_during_faults: mean(
                runs.iter().map(|r| r.write_availability_during_faults),
            ),
            failover_s: mean(runs.iter().map(|r| r.failover_s)),
        }
    }
}

/// Every cell met in any night, each with one entry per night (`None` where the night did not
/// run it), in the order of the cells' keys.
pub fn cell_series(nights: &[Night]) -> BTreeMap<CellKey, Vec<Option<CellNight>>> {
    let mut cells: BTreeMap<CellKey, Vec<Option<CellNight>>> = BTreeMap::new();
    for (i, night) in nights.iter().enumerate() {
        let system = night.provenance.system.as_deref().unwrap_or("kvnode");
        let mut by_cell: BTreeMap<CellKey, Vec<&NightRun>> = BTreeMap::new();
        for run in &night.runs {
            by_cell
                .entry(CellKey::of(system, run))
                .or_default()
                .push(run);
        }
        for (key, runs) in by_cell {
            let series = cells.entry(key).or_insert_with(|| vec![None; nights.len()]);
            series[i] = Some(CellNight::of(&night.stamp, &runs));
        }
    }
    cells
}
