//! `results.json`: everything a run concluded, computed from its history.

use std::collections::{BTreeMap, HashMap};

use faultline_checker::history::{Event, EventType, Process, pair_operations};
use faultline_checker::{CheckResult, Verdict as CheckVerdict};
use serde::Serialize;

use crate::anomalies::{Anomaly, find_anomalies};
use crate::answered_time::AnsweredSeconds;
use crate::faults::{FaultWindow, fault_windows};
use crate::interruption::Interruption;
use crate::latency::{LatencySummary, latencies};
use crate::nodes::name_recorded;

/// The run's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Valid,
    Invalid,
    Unknown,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Invalid => "invalid",
            Verdict::Unknown => "unknown",
        }
    }
}

/// Completions by outcome for one operation type; the outcomes are disjoint. `pending` never
/// completed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OpCounts {
    pub ok: usize,
    /// Definite answers on the operation's merits: a compare-and-set that found another value
    /// (kvnode's `cas_mismatch`, or `type_mismatch`). The store was available; the operation
    /// just did not apply. Not counted in `fail`.
    pub rejected: usize,
    /// Operations that certainly did not happen for any other reason: the node was not the
    /// leader, nothing could be sent, a read that could not be served.
    pub fail: usize,
    pub info: usize,
    pub pending: usize,
}

impl OpCounts {
    fn completed(&self) -> usize {
        self.ok + self.rejected + self.fail + self.info
    }

    fn answered(&self) -> usize {
        self.ok + self.rejected
    }
}

/// How much of the time, and of the operations, the store answered. An operation is answered
/// when it completed `ok` or was rejected on its merits (a cas mismatch); `fail` and `info`
/// are not answers.
///
/// Per operation, by when it was invoked: during faults, those invoked while a fault was in
/// force (injection begun, heal not yet), answered before the heal began. Per operation counts
/// favour healthy stretches (thousands of answers a second) over dead ones (one timeout per
/// client per request timeout), so `overall_by_time` measures time as well: of the workload's
/// seconds in which clients were asking, those in which at least one operation was answered
/// (`answered_time.rs`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Availability {
    /// Operations invoked during faults.
    pub during_faults: Option<f64>,
    /// Writes alone (write, cas, append, add), invoked during a fault: what the replication
    /// modes trade against safety (sync stops writing while any follower is cut off).
    pub writes_during_faults: Option<f64>,
    pub outside_faults: Option<f64>,
    pub writes_outside_faults: Option<f64>,
    /// All operations of the run.
    pub overall: Option<f64>,
    /// Of the workload's seconds (counted from its first invocation; the final reads left out)
    /// in which an operation was in flight, those in which at least one was answered.
    pub overall_by_time: Option<f64>,
    /// The same for writes alone: of the seconds with a write in flight, those in which a
    /// write was answered.
    pub writes_overall_by_time: Option<f64>,
    /// Per operation type, overall.
    pub by_f: BTreeMap<String, Option<f64>>,
}

/// What `results.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunResults {
    pub verdict: Verdict,
    /// The linearizability checker's result (absent for the set workload).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linearizability: Option<CheckResult>,
    /// Client operations by type and outcome.
    pub ops: BTreeMap<String, OpCounts>,
    pub latency: BTreeMap<String, LatencySummary>,
    pub availability: Availability,
    /// Completed client operations per second over the run.
    pub throughput_ops_per_s: f64,
    pub duration_s: f64,
    pub faults: Vec<FaultWindow>,
    /// Counts by kind (`stale-read`, `lost-write`, `non-linearizable-read`).
    pub anomaly_counts: BTreeMap<String, usize>,
    /// The first anomalies found (at most 100).
    pub anomalies: Vec<Anomaly>,
    /// Whether the history's last line was torn (a controller killed mid-write) and dropped.
    pub history_torn: bool,
    /// For each fault that hit the leader: seconds from the fault's start to the completion of
    /// the first write invoked after it that succeeded on a node other than that leader (how
    /// long until another node took writes; see `failover_times`). Faults with no such write
    /// before the next fault are left out.
    pub failover_s: Vec<f64>,
    /// Set when a signal cut the workload short: what was recorded until then was checked,
    /// and the verdict is of that part (`interruption`, from the history's markers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<Interruption>,
    /// Why the verdict is `unknown` when no checker said so (the set workload without final
    /// reads); the checker's own reason is in `linearizability`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_reason: Option<String>,
}

const MAX_LISTED: usize = 100;

/// Errors that are the store's answer about the operation, not about itself (kvnode's codes):
/// the operation was rejected on its merits (`OpCounts::rejected`).
pub fn is_rejection(error: Option<&serde_json::Value>) -> bool {
    matches!(
        error.and_then(serde_json::Value::as_str),
        Some("cas_mismatch" | "type_mismatch")
    )
}

/// Completed operations and how many of them the store answered.
#[derive(Default)]
struct Tally {
    answered: usize,
    all: usize,
}

impl Tally {
    fn count(&mut self, answered: bool) {
        self.all += 1;
        self.answered += usize::from(answered);
    }

    fn ratio(&self) -> Option<f64> {
        ratio(self.answered, self.all)
    }
}

/// All operations and writes alone, over one stretch of the run.
#[derive(Default)]
struct Tallies {
    all: Tally,
    writes: Tally,
}

impl Tallies {
    fn count(&mut self, answered: bool, write: bool) {
        self.all.count(answered);
        if write {
            self.writes.count(answered);
        }
    }
}

fn ratio(ok: usize, all: usize) -> Option<f64> {
    (all > 0).then(|| ok as f64 / all as f64)
}

/// Operations that change state: what "writes are available" means.
fn is_write(f: &str) -> bool {
    matches!(f, "write" | "cas" | "append" | "add" | "put")
}

/// Leader lost → first successful write acknowledged by another node, per fault that hit the
/// leader. "Another node": a leader cut off from the others may go on acknowledging writes
/// (kvnode's async mode, a PostgreSQL primary until Patroni's lease runs out), which is not a
/// failover — the first write some other node acknowledged is. A write whose history records
/// no node (a client that does not say) counts wherever it went, as does every write when the
/// fault names no leader. The node is the one the client recorded: kvnode's and PostgreSQL's
/// clients record the node that served the write, etcd's the member it asked (members forward
/// to the leader), so for etcd a fault that never deposed the leader can still read ~0 s.
fn failover_times(
    ops: &[faultline_checker::history::Operation],
    faults: &[FaultWindow],
    events: &[Event],
) -> Vec<f64> {
    let answered_by: HashMap<u64, String> = events
        .iter()
        .filter(|e| e.kind == EventType::Ok && is_write(&e.f))
        .filter_map(|e| Some((e.index, name_recorded(e.node.as_deref()?))))
        .collect();
    faults
        .iter()
        .enumerate()
        .filter(|(_, w)| w.hit_leader)
        .filter_map(|(i, w)| {
            let next_fault = faults.get(i + 1).map_or(u64::MAX, |n| n.start);
            let elsewhere = |op: &&faultline_checker::history::Operation| {
                let node = op.return_index.and_then(|i| answered_by.get(&i));
                match (node, &w.leader) {
                    (Some(node), Some(leader)) => node != leader,
                    _ => true,
                }
            };
            ops.iter()
                .filter(|op| is_write(&op.f) && op.call_time >= w.start)
                .filter(elsewhere)
                .filter_map(|op| op.return_time)
                .filter(|&done| done < next_fault)
                .min()
                .map(|done| (done - w.start) as f64 / 1e9)
        })
        .collect()
}

/// The time the final reads began: the controller marks it with a nemesis-process `phase`
/// event whose value is `"final-reads"`.
pub fn final_reads_from(events: &[Event]) -> Option<u64> {
    crate::interruption::phase_time(events, "final-reads")
}

/// Computes a run's results from its history and (for model workloads) the checker's result.
pub fn summarise(events: &[Event], check: Option<CheckResult>, history_torn: bool) -> RunResults {
    let mut windows = fault_windows(events);
    let ops = pair_operations(events);
    let explanation = check.as_ref().and_then(|c| c.explanation.as_ref());
    let anomalies = find_anomalies(events, &ops, &windows, explanation);

    // Outcomes, counted from the events themselves (pairing drops `fail`s).
    let mut counts: BTreeMap<String, OpCounts> = BTreeMap::new();
    let (mut in_faults, mut outside) = (Tallies::default(), Tallies::default());
    let mut per_window: Vec<Tallies> = windows.iter().map(|_| Tallies::default()).collect();
    let mut open: BTreeMap<u64, (String, u64)> = BTreeMap::new();
    let mut seconds = AnsweredSeconds::default();
    let workload_end = final_reads_from(events).unwrap_or(u64::MAX);
    for e in events {
        let Process::Client(p) = e.process else {
            continue;
        };
        if e.kind == EventType::Invoke {
            // Second 0 starts at the first invocation, not at the invocation of the first
            // operation to complete (which may come later).
            if e.time < workload_end {
                seconds.invoked(e.time);
            }
            open.insert(p, (e.f.clone(), e.time));
            continue;
        }
        let Some((f, invoked)) = open.remove(&p) else {
            continue;
        };
        let write = is_write(&f);
        let c = counts.entry(f).or_default();
        let rejected = e.kind == EventType::Fail && is_rejection(e.error.as_ref());
        let ok = e.kind == EventType::Ok || rejected;
        match e.kind {
            EventType::Ok => c.ok += 1,
            EventType::Fail if rejected => c.rejected += 1,
            EventType::Fail => c.fail += 1,
            _ => c.info += 1,
        }
        if invoked < workload_end {
            seconds.completed(invoked, e.time, ok, write);
        }
        // During a fault, an answer counts only if it came before the heal began: a write
        // that waits out a partition was not available during it. Run-wide, that is the
        // last heal of the faults the operation met.
        let mut last_heal = None;
        for (w, tallies) in windows.iter().zip(per_window.iter_mut()) {
            if w.in_force_at(invoked) {
                tallies.count(ok && e.time < w.heal_start, write);
                last_heal = last_heal.max(Some(w.heal_start));
            }
        }
        match last_heal {
            Some(heal) => in_faults.count(ok && e.time < heal, write),
            None => outside.count(ok, write),
        }
    }
    for (w, tallies) in windows.iter_mut().zip(&per_window) {
        w.availability = tallies.all.ratio();
        w.write_availability = tallies.writes.ratio();
    }
    for (f, invoked) in open.into_values() {
        if invoked < workload_end {
            seconds.pending(invoked, is_write(&f));
        }
        counts.entry(f).or_default().pending += 1;
    }
    let completed: usize = counts.values().map(OpCounts::completed).sum();
    let answered: usize = counts.values().map(OpCounts::answered).sum();
    let (overall_by_time, writes_overall_by_time) = seconds.fractions();
    let duration_ns = events.iter().map(|e| e.time).max().unwrap_or(0);
    let duration_s = duration_ns as f64 / 1e9;

    let failover_s = failover_times(&ops, &windows, events);
    let mut anomaly_counts: BTreeMap<String, usize> = BTreeMap::new();
    for a in &anomalies {
        *anomaly_counts.entry(a.kind.to_owned()).or_default() += 1;
    }
    let (verdict, unknown_reason) = match &check {
        Some(result) => (
            match result.verdict {
                CheckVerdict::Linearizable => Verdict::Valid,
                CheckVerdict::NotLinearizable => Verdict::Invalid,
                CheckVerdict::Unknown => Verdict::Unknown,
            },
            None,
        ),
        // Without a model (the set workload) the verdict is whether any acknowledged element
        // went missing from the final reads.
        None if anomaly_counts.contains_key("lost-write") => (Verdict::Invalid, None),
        // A run cut short (or whose controller died) before its final reads: nothing was read
        // back, so nothing can be said to be kept.
        None if final_reads_from(events).is_none() => (
            Verdict::Unknown,
            Some(
                "no final reads were recorded (the run ended before them), so whether an \
                 acknowledged element was lost cannot be told"
                    .to_owned(),
            ),
        ),
        None => (Verdict::Valid, None),
    };
    RunResults {
        verdict,
        linearizability: check,
        availability: Availability {
            during_faults: in_faults.all.ratio(),
            writes_during_faults: in_faults.writes.ratio(),
            outside_faults: outside.all.ratio(),
            writes_outside_faults: outside.writes.ratio(),
            overall: ratio(answered, completed),
            overall_by_time,
            writes_overall_by_time,
            by_f: counts
                .iter()
                .map(|(f, c)| (f.clone(), ratio(c.answered(), c.completed())))
                .collect(),
        },
        latency: latencies(&ops),
        ops: counts,
        throughput_ops_per_s: if duration_s > 0.0 {
            completed as f64 / duration_s
        } else {
            0.0
        },
        duration_s,
        faults: windows,
        anomaly_counts,
        anomalies: anomalies.into_iter().take(MAX_LISTED).collect(),
        history_torn,
        failover_s,
        interrupted: None,
        unknown_reason,
    }
}
