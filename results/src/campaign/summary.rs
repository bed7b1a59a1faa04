//! What a campaign concluded: each run with its expectation, and per value of the option its
//! runs differ in (`axis.rs`: a replication mode, a system, a read mode, ...) the numbers that
//! answer "what does this choice cost me".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::axis::Axis;
use super::provenance::Provenance;
pub use super::setup::Setup;
use crate::interruption::{Interruption, seconds};
use crate::summary::{RunResults, Verdict};

/// What a campaign cell expects of its runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    Valid,
    /// A known-weak mode being caught counts as a pass.
    Invalid,
    #[default]
    Any,
}

impl Expect {
    /// As a campaign file spells it.
    pub fn name(self) -> &'static str {
        match self {
            Expect::Valid => "valid",
            Expect::Invalid => "invalid",
            Expect::Any => "any",
        }
    }

    pub fn allows(self, verdict: Verdict) -> bool {
        match self {
            Expect::Valid => verdict == Verdict::Valid,
            Expect::Invalid => verdict == Verdict::Invalid,
            Expect::Any => verdict != Verdict::Unknown,
        }
    }
}

/// What a run's verdict says about its expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    Fail,
    /// Cut short by a signal without a conclusive failure: neither a pass nor a failure.
    Interrupted,
}

impl Outcome {
    fn of(expect: Expect, verdict: Verdict, interrupted: bool) -> Outcome {
        match (interrupted, expect.allows(verdict)) {
            (false, true) => Outcome::Pass,
            (false, false) => Outcome::Fail,
            // A history that is not linearizable stays so however much longer it would have
            // run: a "valid" expectation failed even if the run was cut short.
            (true, _) if expect == Expect::Valid && verdict == Verdict::Invalid => Outcome::Fail,
            (true, _) => Outcome::Interrupted,
        }
    }
}

/// One run of a campaign.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignRun {
    pub label: String,
    /// The system, its options, the workload and the nemesis (flattened: `system`, `options`,
    /// `workload`, `nemesis` in summary.json).
    #[serde(flatten)]
    pub setup: Setup,
    /// The cluster's size; `None` where the caller did not say (`compare`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<usize>,
    pub seed: u64,
    /// The run's folder, relative to the campaign's folder.
    pub dir: String,
    pub verdict: Verdict,
    pub expect: Expect,
    pub outcome: Outcome,
    /// Whether the outcome is a pass.
    pub passed: bool,
    /// Set when a signal cut the run's workload short.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<Interruption>,
    pub ops_per_s: f64,
    pub availability: Option<f64>,
    pub availability_during_faults: Option<f64>,
    /// Writes alone, during faults.
    pub write_availability_during_faults: Option<f64>,
    pub write_p50_ms: Option<f64>,
    pub write_p99_ms: Option<f64>,
    pub stale_reads: usize,
    pub lost_writes: usize,
    /// The slowest failover of the run (leader lost → first write another node acknowledged), seconds.
    pub failover_s: Option<f64>,
    /// Every failover of the run, seconds, as results.json has them (the comparison page draws
    /// their distribution per mode).
    pub failovers_s: Vec<f64>,
    /// The p99 latency of each operation type, milliseconds.
    pub p99_ms: BTreeMap<String, f64>,
    pub seconds: f64,
    /// What the run's option values promise (option → text, from its test.json): the groups
    /// carry them to summary.json and the page, once per group rather than once per run.
    #[serde(skip)]
    pub option_explanations: BTreeMap<String, String>,
}

impl CampaignRun {
    /// A run's row from its results.
    pub fn new(
        label: String,
        setup: Setup,
        seed: u64,
        dir: String,
        expect: Expect,
        results: &RunResults,
        seconds: f64,
    ) -> Self {
        let write = results
            .latency
            .get("write")
            .or_else(|| results.latency.get("append"))
            .or_else(|| results.latency.get("add"));
        let count = |kind: &str| results.anomaly_counts.get(kind).copied().unwrap_or(0);
        let outcome = Outcome::of(expect, results.verdict, results.interrupted.is_some());
        CampaignRun {
            label,
            setup,
            nodes: None,
            seed,
            dir,
            verdict: results.verdict,
            expect,
            outcome,
            passed: outcome == Outcome::Pass,
            interrupted: results.interrupted,
            ops_per_s: results.throughput_ops_per_s,
            availability: results.availability.overall,
            availability_during_faults: results.availability.during_faults,
            write_availability_during_faults: results.availability.writes_during_faults,
            write_p50_ms: write.map(|l| l.p50_ms),
            write_p99_ms: write.map(|l| l.p99_ms),
            stale_reads: count("stale-read") + count("non-linearizable-read"),
            lost_writes: count("lost-write"),
            failover_s: results.failover_s.iter().copied().reduce(f64::max),
            failovers_s: results.failover_s.clone(),
            p99_ms: results
                .latency
                .iter()
                .map(|(f, l)| (f.clone(), l.p99_ms))
                .collect(),
            seconds,
            option_explanations: BTreeMap::new(),
        }
    }

    /// The run with what its option values promise (test.json's `option_explanations`).
    pub fn with_option_explanations(mut self, explanations: BTreeMap<String, String>) -> Self {
        self.option_explanations = explanations;
        self
    }
}

/// What one option's value promises, as a group of runs shares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionPromise {
    pub option: String,
    pub value: String,
    pub text: String,
}

/// One value of the compared option across the campaign's runs.
#[derive(Debug, Clone, Serialize)]
pub struct GroupSummary {
    /// The value (`quorum`; `etcd · serializable` when several options vary).
    pub value: String,
    pub runs: usize,
    pub valid: usize,
    pub invalid: usize,
    pub unknown: usize,
    pub stale_reads: usize,
    pub lost_writes: usize,
    /// Mean over runs.
    pub availability_during_faults: Option<f64>,
    /// Writes alone, mean over runs.
    pub write_availability_during_faults: Option<f64>,
    pub ops_per_s: f64,
    /// Worst over runs.
    pub write_p99_ms: Option<f64>,
    pub write_p50_ms: Option<f64>,
    /// Mean of the runs' slowest failovers, seconds.
    pub failover_s: Option<f64>,
    /// What the group's option values promise: each option the page compares (every option,
    /// when it compares systems) whose value and text all the group's runs share. Empty when
    /// their definitions explain nothing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub promises: Vec<OptionPromise>,
}

/// A cell that never ran: the campaign was interrupted before it, or it could not start.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedCell {
    pub label: String,
    #[serde(flatten)]
    pub setup: Setup,
    pub seed: u64,
    pub expect: Expect,
    /// Why it could not start (its cluster did not come up, its folder could not be made);
    /// absent for a cell a signal kept from running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CampaignSummary {
    pub name: String,
    pub started: String,
    pub runs: Vec<CampaignRun>,
    /// What the groups are values of: the system and options that differ between the runs,
    /// joined by ` · ` (`replication`; `system · reads`).
    pub compared_by: String,
    pub groups: Vec<GroupSummary>,
    /// Whether every cell ran and every expectation held: never for an interrupted campaign.
    pub passed: bool,
    /// Whether the campaign was stopped (Ctrl-C, SIGTERM) before every cell ran to its end.
    pub interrupted: bool,
    /// Seconds from the campaign's start to the signal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted_after_s: Option<f64>,
    /// The cells that never ran, in campaign order.
    pub skipped: Vec<SkippedCell>,
    /// What the campaign ran against.
    pub provenance: Provenance,
}

impl CampaignSummary {
    /// Records what the campaign ran against.
    pub fn with_provenance(mut self, provenance: Provenance) -> Self {
        self.provenance = provenance;
        self
    }

    /// Marks the campaign as stopped by a signal `after_s` seconds in, with the cells that
    /// never ran.
    pub fn interrupted_after(mut self, after_s: f64, skipped: Vec<SkippedCell>) -> Self {
        self.interrupted = true;
        self.passed = false;
        self.interrupted_after_s = Some(after_s);
        self.skipped.extend(skipped);
        self
    }

    /// Adds the cells that could not start (each with its `error`): the campaign did not pass,
    /// and its pages say which and why.
    pub fn with_cells_not_started(mut self, cells: Vec<SkippedCell>) -> Self {
        if !cells.is_empty() {
            self.passed = false;
        }
        self.skipped.extend(cells);
        self
    }

    /// How many cells could not start.
    pub fn not_started(&self) -> usize {
        self.skipped.iter().filter(|c| c.error.is_some()).count()
    }

    /// What the campaign concluded, in one line: the banner of index.html and the last line
    /// of `faultline campaign`.
    pub fn headline(&self) -> String {
        let failed = self.runs.iter().any(|r| r.outcome == Outcome::Fail);
        let not_started = match self.not_started() {
            0 => String::new(),
            n => format!("{n} of {} cells could not start; ", self.runs.len() + n),
        };
        if !self.interrupted {
            return if failed {
                format!("{not_started}an expectation failed")
            } else if !not_started.is_empty() {
                format!("{not_started}every expectation held in what ran")
            } else if !self.passed {
                "an expectation failed".to_owned()
            } else {
                "every expectation held".to_owned()
            };
        }
        let total = self.runs.len() + self.skipped.len();
        let cut = self.runs.iter().filter(|r| r.interrupted.is_some()).count();
        format!(
            "interrupted{}: {} of {total} runs done, {cut} cut short, {} skipped; {}",
            self.interrupted_after_s
                .map(|s| format!(" after {}", seconds(s)))
                .unwrap_or_default(),
            self.runs.len() - cut,
            self.skipped.len(),
            if failed {
                "an expectation failed"
            } else {
                "no expectation failed in what ran"
            }
        )
    }
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// What the runs of one group promise: for each option the axis compares (or every option the
/// runs have, when it compares systems, whose options come with them), the value and text every
/// run of the group has; an option whose runs disagree, or one not explained, is left out.
fn group_promises(axis: &Axis, runs: &[&CampaignRun]) -> Vec<OptionPromise> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    let names: Vec<String> = match axis.compared_options() {
        Some(names) => names,
        None => {
            let mut names: Vec<String> = first.setup.options.keys().cloned().collect();
            names.sort_by_key(|n| {
                let rank = ["replication", "reads"].iter().position(|f| f == n);
                (rank.unwrap_or(2), n.clone())
            });
            names
        }
    };
    names
        .into_iter()
        .filter_map(|option| {
            let value = first.setup.option(&option)?;
            let text = first.option_explanations.get(&option)?;
            runs.iter()
                .all(|r| {
                    r.setup.option(&option) == Some(value)
                        && r.option_explanations.get(&option) == Some(text)
                })
                .then(|| OptionPromise {
                    value: value.to_owned(),
                    text: text.clone(),
                    option,
                })
        })
        .collect()
}

/// Summarises runs per value of what differs between them (`Axis::of`), in rank order.
pub fn summarise_campaign(
    name: String,
    started: String,
    runs: Vec<CampaignRun>,
    interrupted: bool,
) -> CampaignSummary {
    let axis = Axis::of(&runs);
    let groups = axis
        .groups(&runs)
        .into_iter()
        .map(|group| {
            let rs = &group.runs;
            let count = |v: Verdict| rs.iter().filter(|r| r.verdict == v).count();
            GroupSummary {
                value: group.value.clone(),
                runs: rs.len(),
                valid: count(Verdict::Valid),
                invalid: count(Verdict::Invalid),
                unknown: count(Verdict::Unknown),
                stale_reads: rs.iter().map(|r| r.stale_reads).sum(),
                lost_writes: rs.iter().map(|r| r.lost_writes).sum(),
                availability_during_faults: mean(
                    rs.iter().filter_map(|r| r.availability_during_faults),
                ),
                write_availability_during_faults: mean(
                    rs.iter().filter_map(|r| r.write_availability_during_faults),
                ),
                ops_per_s: mean(rs.iter().map(|r| r.ops_per_s)).unwrap_or(0.0),
                write_p99_ms: rs.iter().filter_map(|r| r.write_p99_ms).reduce(f64::max),
                write_p50_ms: mean(rs.iter().filter_map(|r| r.write_p50_ms)),
                failover_s: mean(rs.iter().filter_map(|r| r.failover_s)),
                promises: group_promises(&axis, rs),
            }
        })
        .collect();
    let compared_by = axis.name();
    let passed = !interrupted && runs.iter().all(|r| r.passed);
    CampaignSummary {
        name,
        started,
        runs,
        compared_by,
        groups,
        passed,
        interrupted,
        interrupted_after_s: None,
        skipped: Vec::new(),
        provenance: Provenance::default(),
    }
}
