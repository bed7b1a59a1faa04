//! The report's data, shaped for the page and the charts (no drawing, no HTML here).

use std::collections::HashMap;

use faultline_checker::history::{Event, EventType, Process};

use super::charts::{LatencyPoint, Outcome};
use super::time_chart::fault_colour;
use crate::figures::percent;
use crate::store::ClockSample;
use crate::summary::{RunResults, is_rejection};

/// At most this many ordinary operations on the latency chart (sampled evenly beyond it);
/// outliers, `info`s and unanswered operations come on top.
pub const MAX_POINTS: usize = 4000;

pub struct CountRow {
    pub f: String,
    pub ok: usize,
    pub rejected: usize,
    pub fail: usize,
    pub info: usize,
    pub pending: usize,
}

pub struct LatencyRow {
    pub f: String,
    pub count: usize,
    pub p50: String,
    pub p95: String,
    pub p99: String,
    pub max: String,
}

pub struct AnomalyRow {
    pub kind: String,
    pub key: String,
    pub read_index: u64,
    /// Seconds into the run the read was invoked.
    pub read_at: String,
    /// The node that answered it ("–" when the history does not say).
    pub node: String,
    pub read_value: String,
    pub missing_value: String,
    /// The write it missed: history index, when and by which node it was acknowledged.
    pub write: String,
    /// A lost write's mechanism as the history shows it: the faults in force while it was in
    /// flight and the fault that came next (empty for other anomalies).
    pub mechanism: Vec<String>,
    /// The faults in force while the read ran, in words ("none").
    pub faults: Vec<String>,
}

pub struct FaultRow {
    pub fault: String,
    /// The fault's family shade in the charts (CSS), for the row's swatch.
    pub colour: String,
    /// What the start event says of its shape: a partition's shape and grudge in words, a clock
    /// fault's change; "–" when it says nothing.
    pub shape: String,
    pub targets: String,
    pub hit_leader: bool,
    /// Nodes a partition separated from the leader ("–" for other faults, or when no leader
    /// was known at its start).
    pub cut_off: String,
    pub answered: String,
    pub writes_answered: String,
    pub start: String,
    pub end: String,
}

/// What the run's option values promise, from test.json's `option_explanations`:
/// (`replication=sync-strict`, its text), replication and reads first (as test names spell
/// options), then the others by name. Empty for a run whose definition explains nothing.
pub fn option_promises(spec: &serde_json::Value) -> Vec<(String, String)> {
    let Some(texts) = spec
        .get("option_explanations")
        .and_then(serde_json::Value::as_object)
    else {
        return Vec::new();
    };
    let mut promises: Vec<(usize, String, String)> = texts
        .iter()
        .filter_map(|(name, text)| {
            let text = text.as_str()?;
            let value = spec
                .get("options")
                .and_then(|o| o.get(name))
                .and_then(serde_json::Value::as_str)
                .unwrap_or("?");
            let rank = ["replication", "reads"]
                .iter()
                .position(|first| first == name)
                .unwrap_or(2);
            Some((rank, format!("{name}={value}"), text.to_owned()))
        })
        .collect();
    promises.sort();
    promises
        .into_iter()
        .map(|(_, option, text)| (option, text))
        .collect()
}

pub fn count_rows(r: &RunResults) -> Vec<CountRow> {
    r.ops
        .iter()
        .map(|(f, c)| CountRow {
            f: f.clone(),
            ok: c.ok,
            rejected: c.rejected,
            fail: c.fail,
            info: c.info,
            pending: c.pending,
        })
        .collect()
}

/// During faults first: what a mode costs is what it answers while something is broken.
pub fn availability_rows(r: &RunResults) -> Vec<(String, String)> {
    let a = &r.availability;
    let mut rows = vec![
        (
            "during faults (operations answered)".to_owned(),
            percent(a.during_faults),
        ),
        (
            "writes during faults".to_owned(),
            percent(a.writes_during_faults),
        ),
        ("outside faults".to_owned(), percent(a.outside_faults)),
        (
            "writes outside faults".to_owned(),
            percent(a.writes_outside_faults),
        ),
        (
            "overall (operations answered)".to_owned(),
            percent(a.overall),
        ),
        (
            "overall (seconds with an answer)".to_owned(),
            percent(a.overall_by_time),
        ),
        (
            "writes overall (seconds with a write answered)".to_owned(),
            percent(a.writes_overall_by_time),
        ),
    ];
    rows.extend(
        a.by_f
            .iter()
            .map(|(f, v)| (format!("{f} (overall)"), percent(*v))),
    );
    rows
}

pub fn latency_rows(r: &RunResults) -> Vec<LatencyRow> {
    let ms = |v: f64| format!("{v:.2}");
    r.latency
        .iter()
        .map(|(f, l)| LatencyRow {
            f: f.clone(),
            count: l.count,
            p50: ms(l.p50_ms),
            p95: ms(l.p95_ms),
            p99: ms(l.p99_ms),
            max: ms(l.max_ms),
        })
        .collect()
}

pub fn anomaly_rows(r: &RunResults) -> Vec<AnomalyRow> {
    let dash = || "–".to_owned();
    r.anomalies
        .iter()
        .take(20)
        .map(|a| AnomalyRow {
            kind: a.kind.to_owned(),
            key: a.key.clone().unwrap_or_default(),
            read_index: a.read_index,
            read_at: format!("{:.2} s", a.read_at_s),
            node: a.node.clone().unwrap_or_else(dash),
            read_value: a.read_value.to_string(),
            missing_value: a.missing_value.to_string(),
            write: match a.write_index {
                None => dash(),
                Some(index) => {
                    let mut w = format!("index {index}, acknowledged");
                    if let Some(node) = &a.write_node {
                        w.push_str(&format!(" by {node}"));
                    }
                    if let Some(at) = a.write_acknowledged_at_s {
                        w.push_str(&format!(" at {at:.2} s"));
                    }
                    w
                }
            },
            mechanism: lost_write_mechanism(a),
            faults: if a.faults.is_empty() {
                vec!["none".to_owned()]
            } else {
                a.faults.clone()
            },
        })
        .collect()
}

/// What the history says of how a lost write was lost: while it was in flight, which faults
/// were in force (each naming the leader the cluster reported when it began), and which fault
/// came next after its acknowledgement.
fn lost_write_mechanism(a: &crate::anomalies::Anomaly) -> Vec<String> {
    if a.kind != "lost-write" || a.write_index.is_none() {
        return Vec::new();
    }
    let mut lines = Vec::new();
    if a.write_faults.is_empty() {
        lines.push("in flight with no fault in force".to_owned());
    } else {
        lines.extend(
            a.write_faults
                .iter()
                .map(|f| format!("in flight during {f}")),
        );
    }
    match &a.next_fault {
        Some(next) => lines.push(format!("next fault: {next}")),
        None => lines.push("no fault after it".to_owned()),
    }
    lines
}

pub fn fault_rows(r: &RunResults) -> Vec<FaultRow> {
    let s = |ns: u64| format!("{:.2}", ns as f64 / 1e9);
    r.faults
        .iter()
        .map(|w| FaultRow {
            fault: w.fault.clone(),
            colour: fault_colour(&w.fault),
            shape: w.shape.clone().unwrap_or_else(|| "–".to_owned()),
            targets: w.targets.join(" "),
            hit_leader: w.hit_leader,
            cut_off: match &w.cut_off_from_leader {
                Some(nodes) if nodes.is_empty() => "none".to_owned(),
                Some(nodes) => nodes.join(" "),
                None => "–".to_owned(),
            },
            answered: percent(w.availability),
            writes_answered: percent(w.write_availability),
            start: s(w.start),
            end: s(w.end),
        })
        .collect()
}

/// Every client operation's latency point, with the names of their series (operation types).
///
/// An operation slower than the p99 of its type, an `info` and one never answered are always
/// there: they are what the chart is read for. Only the rest is sampled, evenly, down to
/// `MAX_POINTS`.
pub fn latency_points(events: &[Event]) -> (Vec<LatencyPoint>, Vec<String>) {
    let timed = timed_operations(events);
    let mut series: Vec<String> = Vec::new();
    for op in &timed {
        if !series.contains(&op.f) {
            series.push(op.f.clone());
        }
    }
    // The key lists them in one order whatever order the run met them in (their colours are
    // their names' own, `palette::operation`).
    series.sort_by_key(|f| (operation_rank(f), f.clone()));
    // Per type, over every answer (ok, fail, info), nearest rank as latency.rs.
    let p99: Vec<u64> = series
        .iter()
        .map(|f| {
            let mut ns: Vec<u64> = timed
                .iter()
                .filter(|op| op.f == *f && op.outcome != Outcome::Unanswered)
                .map(|op| op.latency)
                .collect();
            ns.sort_unstable();
            let rank = (0.99 * ns.len() as f64).ceil() as usize;
            ns.get(rank.saturating_sub(1)).copied().unwrap_or(u64::MAX)
        })
        .collect();
    let (mut rest, mut kept) = (Vec::new(), Vec::new());
    for op in &timed {
        let s = series.iter().position(|f| *f == op.f).unwrap_or(0);
        let point = LatencyPoint {
            at: op.call_time as f64 / 1e9,
            millis: op.latency as f64 / 1e6,
            series: s,
            outcome: op.outcome,
        };
        let always = match op.outcome {
            Outcome::Info | Outcome::Unanswered => true,
            Outcome::Ok | Outcome::Fail => op.latency > p99[s],
        };
        if always {
            kept.push(point);
        } else {
            rest.push(point);
        }
    }
    let step = rest.len().div_ceil(MAX_POINTS).max(1);
    // Sampled first, so that the outliers are drawn over them.
    let mut points: Vec<LatencyPoint> = rest.into_iter().step_by(step).collect();
    points.extend(kept);
    (points, series)
}

/// Where an operation type comes in a chart's key: reads, then writes, then the rest.
fn operation_rank(f: &str) -> usize {
    ["read", "write", "cas", "append", "add"]
        .iter()
        .position(|known| *known == f)
        .unwrap_or(usize::MAX)
}

/// A client operation with its latency, whatever its outcome (pairing operations for the
/// checker drops `fail`s and leaves `info`s pending; the chart wants both).
struct TimedOp {
    f: String,
    call_time: u64,
    /// Nanoseconds to the completion; to the end of the history when there is none.
    latency: u64,
    outcome: Outcome,
}

/// Each invocation with the next completion of its process (docs/history-format.md: a process
/// has one operation in flight, and a new invocation leaves the previous one unanswered).
fn timed_operations(events: &[Event]) -> Vec<TimedOp> {
    let end = events.iter().map(|e| e.time).max().unwrap_or(0);
    let mut open: HashMap<u64, usize> = HashMap::new();
    let mut ops: Vec<TimedOp> = Vec::new();
    for e in events {
        let Process::Client(process) = e.process else {
            continue;
        };
        let outcome = match e.kind {
            EventType::Invoke => {
                open.insert(process, ops.len());
                ops.push(TimedOp {
                    f: e.f.clone(),
                    call_time: e.time,
                    latency: end.saturating_sub(e.time),
                    outcome: Outcome::Unanswered,
                });
                continue;
            }
            EventType::Ok => Outcome::Ok,
            EventType::Fail => Outcome::Fail,
            EventType::Info => Outcome::Info,
        };
        if let Some(op) = open.remove(&process).and_then(|i| ops.get_mut(i)) {
            op.latency = e.time.saturating_sub(op.call_time);
            op.outcome = outcome;
        }
    }
    ops
}

/// Client completions per second, by outcome: ok, rejected (a cas that found another value),
/// fail, info.
pub fn throughput_buckets(events: &[Event], duration_s: f64) -> Vec<(f64, [u64; 4])> {
    let n = duration_s.ceil().max(1.0) as usize;
    let mut buckets = vec![[0u64; 4]; n + 1];
    for e in events {
        if !matches!(e.process, Process::Client(_)) {
            continue;
        }
        let slot = match e.kind {
            EventType::Ok => 0,
            EventType::Fail if is_rejection(e.error.as_ref()) => 1,
            EventType::Fail => 2,
            EventType::Info => 3,
            EventType::Invoke => continue,
        };
        let second = ((e.time / 1_000_000_000) as usize).min(n);
        buckets[second][slot] += 1;
    }
    buckets
        .into_iter()
        .enumerate()
        .map(|(s, c)| (s as f64 + 0.5, c))
        .collect()
}

/// Clock samples as one (seconds, offset ms) line per node.
pub fn clock_series(samples: &[ClockSample]) -> Vec<(u32, Vec<(f64, f64)>)> {
    let mut series: Vec<(u32, Vec<(f64, f64)>)> = Vec::new();
    for s in samples {
        let point = (s.time as f64 / 1e9, s.offset_ms);
        match series.iter_mut().find(|(node, _)| *node == s.node) {
            Some((_, points)) => points.push(point),
            None => series.push((s.node, vec![point])),
        }
    }
    series.sort_by_key(|(node, _)| *node);
    series
}
