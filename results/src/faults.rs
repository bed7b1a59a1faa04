//! Fault windows: when each fault was active, from the nemesis's events in the history.
//!
//! The nemesis records `{"f":"start","value":{"fault":F,"targets":[..]}}` (invoke, then info when
//! injected) and `{"f":"stop",...}` when it heals (docs/history-format.md). Nodes are named
//! `nN` here (`nodes.rs`), as everywhere people read them.

use faultline_checker::history::{Event, EventType, Process};
use serde::Serialize;
use serde_json::Value;

use crate::grudge;
use crate::nodes::{joined, name_of_id};

/// One fault, from its injection to its heal (or to the end of the history).
///
/// An operation invoked at `t` met it when `start <= t < heal_start` (see `in_force_at`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultWindow {
    pub fault: String,
    pub targets: Vec<String>,
    /// The leader when the fault was chosen, as the cluster reported it.
    pub leader: Option<String>,
    /// Whether the leader of the moment was among the targets.
    pub hit_leader: bool,
    /// What the fault did beyond its targets: a partition's shape and grudge in words
    /// (`halves: n1 | n2 n3`, see `grudge.rs`), a clock change (`bump -3120 ms`, `strobe +800 ms every 200 ms`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shape: Option<String>,
    /// Nanoseconds since the run started: injection begins (`start` invoke) and the heal ends
    /// (`stop` info), or the end of the history.
    pub start: u64,
    pub end: u64,
    /// When the heal began (`stop` invoke); `end` when it never did.
    pub heal_start: u64,
    /// For a partition: the nodes that could not exchange messages with the leader of the
    /// moment (a link dropped in either direction; Raft needs both). Sync replication cannot
    /// write while this is not empty. Absent for other faults or when no leader was known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cut_off_from_leader: Option<Vec<String>>,
    /// Of the client operations invoked while this fault was in force, the fraction answered
    /// before its heal began (the rule of `Availability::during_faults`, for this fault alone).
    pub availability: Option<f64>,
    /// The same for writes alone.
    pub write_availability: Option<f64>,
}

/// The fault windows of a history, in start order.
pub fn fault_windows(events: &[Event]) -> Vec<FaultWindow> {
    let end_of_history = events.iter().map(|e| e.time).max().unwrap_or(0);
    let mut open: Vec<FaultWindow> = Vec::new();
    let mut done = Vec::new();
    for e in events.iter().filter(|e| e.process == Process::Nemesis) {
        let fault = e.value.get("fault").and_then(Value::as_str).unwrap_or("");
        match (e.f.as_str(), e.kind) {
            ("start", EventType::Invoke) => open.push(FaultWindow {
                fault: fault.to_owned(),
                targets: e
                    .value
                    .get("targets")
                    .and_then(Value::as_array)
                    .map(|ids| ids.iter().filter_map(name_of_id).collect())
                    .unwrap_or_default(),
                leader: e.value.get("leader").and_then(name_of_id),
                hit_leader: match (e.value.get("leader"), e.value.get("targets")) {
                    (Some(leader), Some(Value::Array(targets))) if !leader.is_null() => {
                        targets.contains(leader)
                    }
                    _ => false,
                },
                shape: shape(&e.value),
                start: e.time,
                end: end_of_history,
                heal_start: end_of_history,
                cut_off_from_leader: cut_off_from_leader(&e.value),
                availability: None,
                write_availability: None,
            }),
            ("stop", EventType::Invoke) => {
                if let Some(w) = open.iter_mut().find(|w| w.fault == fault) {
                    w.heal_start = e.time;
                }
            }
            ("stop", EventType::Info) => {
                if let Some(i) = open.iter().position(|w| w.fault == fault) {
                    let mut w = open.remove(i);
                    w.end = e.time;
                    done.push(w);
                }
            }
            _ => {}
        }
    }
    done.extend(open);
    done.sort_by_key(|w| w.start);
    done
}

impl FaultWindow {
    /// Whether an operation invoked at `time` met this fault in force: from the moment
    /// injection began until the heal began. One invoked while a heal is under way meets the
    /// healed cluster.
    pub fn in_force_at(&self, time: u64) -> bool {
        self.start <= time && time < self.heal_start
    }

    /// Whether it was in force at some moment of `[from, to]` (an operation's interval).
    pub fn in_force_during(&self, from: u64, to: u64) -> bool {
        self.start <= to && from < self.heal_start
    }

    /// The fault in a few words for an anomaly row or a log: `partition n1 | n2 n3 (leader
    /// n1)`, `clock n1 bump -3120 ms (leader n1)`, `kill n3 (leader n1)`.
    pub fn describe(&self) -> String {
        let mut words = self.fault.clone();
        // A partition's shape names its nodes; other faults name their targets.
        if self.fault != "partition" || self.shape.is_none() {
            words.push(' ');
            words.push_str(&joined(&self.targets));
        }
        if let Some(shape) = &self.shape {
            words.push(' ');
            words.push_str(shape);
        }
        if let Some(leader) = &self.leader {
            words.push_str(&format!(" (leader {leader})"));
        }
        words
    }
}

/// A partition's grudge or a clock change in words.
fn shape(value: &Value) -> Option<String> {
    let leader = value.get("leader").and_then(Value::as_u64);
    if let Some(g) = value.get("grudge").filter(|g| !g.is_null()) {
        let words = grudge::in_words(g, leader)?;
        // The shape it was drawn in, when the history names it (three nodes cut in halves and
        // with one isolated look alike).
        return Some(match value.get("shape").and_then(Value::as_str) {
            Some(shape) => format!("{shape}: {words}"),
            None => words,
        });
    }
    let clock = value.get("clock")?;
    let offset = clock.get("offset_ms")?.as_i64()?;
    let mode = clock.get("mode")?.as_str()?;
    Some(match clock.get("period_ms").and_then(Value::as_u64) {
        Some(period) => format!("{mode} {offset:+} ms every {period} ms"),
        None => format!("{mode} {offset:+} ms"),
    })
}

/// Who a partition's grudge separates from the leader named in its start event: node `n` when
/// `n` cannot hear the leader or the leader cannot hear `n`.
fn cut_off_from_leader(value: &Value) -> Option<Vec<String>> {
    let leader = value.get("leader")?.as_u64()?;
    let grudge = value.get("grudge")?.as_object()?;
    let cannot_hear = |node: u64, from: u64| {
        grudge
            .get(&node.to_string())
            .and_then(Value::as_array)
            .is_some_and(|deaf_to| deaf_to.iter().any(|d| d.as_u64() == Some(from)))
    };
    let mut nodes: Vec<u64> = grudge
        .keys()
        .filter_map(|k| k.parse().ok())
        .chain(
            grudge
                .values()
                .filter_map(Value::as_array)
                .flatten()
                .filter_map(Value::as_u64),
        )
        .filter(|&n| n != leader && (cannot_hear(n, leader) || cannot_hear(leader, n)))
        .collect();
    nodes.sort_unstable();
    nodes.dedup();
    Some(nodes.into_iter().map(crate::nodes::node_name).collect())
}
