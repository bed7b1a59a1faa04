//! Fault windows: when each fault was active, from the nemesis's events in the history.
//!
//! The nemesis records `{"f":"start","value":{"fault":F,"targets":[..]}}` (invoke, then info when
//! injected) and `{"f":"stop",...}` when it heals (docs/history-format.md).

use faultline_checker::history::{Event, EventType, Process};
use serde::Serialize;
use serde_json::Value;

/// One fault, from its injection to its heal (or to the end of the history).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultWindow {
    pub fault: String,
    pub targets: Value,
    /// Whether the leader of the moment was among the targets.
    pub hit_leader: bool,
    /// Nanoseconds since the run started: injection begins (`start` invoke) and the heal ends
    /// (`stop` info), or the end of the history.
    pub start: u64,
    pub end: u64,
    /// When the heal began (`stop` invoke); `end` when it never did.
    pub heal_start: u64,
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
                targets: e.value.get("targets").cloned().unwrap_or(Value::Null),
                hit_leader: match (e.value.get("leader"), e.value.get("targets")) {
                    (Some(leader), Some(Value::Array(targets))) if !leader.is_null() => {
                        targets.contains(leader)
                    }
                    _ => false,
                },
                start: e.time,
                end: end_of_history,
                heal_start: end_of_history,
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

/// If an operation invoked at `time` met a fault in force (invoked from the moment injection
/// began until the heal began), when the last such fault began to heal. One invoked while a
/// heal is under way meets the healed cluster, so it is outside.
pub(crate) fn in_force_until(windows: &[FaultWindow], time: u64) -> Option<u64> {
    windows
        .iter()
        .filter(|w| w.start <= time && time < w.heal_start)
        .map(|w| w.heal_start)
        .max()
}
