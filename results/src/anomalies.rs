//! Anomalies named in plain words, next to the checker's verdict: reads that returned a value
//! already overwritten by an acknowledged write (stale reads), acknowledged writes that the
//! final reads do not see (lost writes), and the checker's own non-linearizable read.
//!
//! These rely on unique write values, which faultline's generators guarantee: a value read names
//! the one write that wrote it. They are evidence for a person, not the verdict: the checker
//! decides linearizability; these say what went wrong in words, with where and when: the node
//! that answered the read, the faults in force, the write it missed and the node that
//! acknowledged that write.

use std::collections::{BTreeMap, HashMap, HashSet};

use faultline_checker::Explanation;
use faultline_checker::history::{Event, OpValue, Operation};
use serde::Serialize;
use serde_json::Value;

use crate::faults::FaultWindow;
use crate::nodes::name_recorded;
use crate::summary::final_reads_from;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    /// `stale-read`, `lost-write`, or `non-linearizable-read` (the read the checker could not
    /// linearize).
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// History index of the read that shows it.
    pub read_index: u64,
    /// Seconds into the run the read was invoked.
    pub read_at_s: f64,
    /// The node that answered the read (`nN`), when the history records it.
    pub node: Option<String>,
    /// What the read returned.
    pub read_value: Value,
    /// What it should have seen: the value of the latest acknowledged write that completed
    /// before the read was invoked (for a lost write, the missing element); `null` when no
    /// write had completed.
    pub missing_value: Value,
    /// History index of that write's invocation.
    pub write_index: Option<u64>,
    /// Seconds into the run the write was acknowledged.
    pub write_acknowledged_at_s: Option<f64>,
    /// The node that acknowledged it.
    pub write_node: Option<String>,
    /// The faults in force at some moment while the read ran, in words
    /// (`FaultWindow::describe`: `partition n1 | n2 n3 (leader n1)`).
    pub faults: Vec<String>,
    /// A lost write's mechanism as far as the history shows it: the faults in force while the
    /// write was in flight (invoked to acknowledged). The leader a fault names is the one the
    /// cluster reported when it began: faultline records no leader timeline between faults.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub write_faults: Vec<String>,
    /// For a lost write: the first fault that began after it was acknowledged, and how long
    /// after (`kill n1 (leader n1), 0.12 s later`): a write the leader acknowledged just before
    /// it was killed or cut off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_fault: Option<String>,
}

/// `stale-read of key "r0": n2 answered 4 at 0.43 s, should have seen 10 (acknowledged by n1 at
/// 0.43 s); faults in force: none`.
impl std::fmt::Display for Anomaly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(key) = &self.key {
            write!(f, " of key {key:?}")?;
        }
        let node = self.node.as_deref().unwrap_or("a node");
        write!(
            f,
            ": {node} answered {} at {:.2} s, should have seen {}",
            self.read_value, self.read_at_s, self.missing_value
        )?;
        if self.write_index.is_some() {
            write!(f, " (acknowledged")?;
            if let Some(by) = &self.write_node {
                write!(f, " by {by}")?;
            }
            if let Some(at) = self.write_acknowledged_at_s {
                write!(f, " at {at:.2} s")?;
            }
            write!(f, ")")?;
        }
        match self.faults.as_slice() {
            [] => write!(f, "; faults in force: none")?,
            faults => write!(f, "; faults in force: {}", faults.join(", "))?,
        }
        // A lost write: how it was lost, as far as the history shows.
        if !self.write_faults.is_empty() {
            write!(
                f,
                "; the write was in flight during {}",
                self.write_faults.join(", ")
            )?;
        }
        if let Some(next) = &self.next_fault {
            write!(f, "; next fault: {next}")?;
        }
        Ok(())
    }
}

/// An anomaly before it is placed in the run: the read, the write it missed.
struct Finding<'a> {
    kind: &'static str,
    read: &'a Operation,
    read_value: Value,
    missing_value: Value,
    write: Option<&'a Operation>,
}

/// Finds the run's anomalies, in read order, the checker's non-linearizable read (when
/// `explanation` names one no other anomaly covers) first.
pub fn find_anomalies(
    events: &[Event],
    ops: &[Operation],
    faults: &[FaultWindow],
    explanation: Option<&Explanation>,
) -> Vec<Anomaly> {
    // A read invoked after the final reads began that misses an acknowledged write shows a
    // lost write.
    let final_from = final_reads_from(events);
    let is_final = |op: &Operation| final_from.is_some_and(|t| op.call_time >= t);
    let mut found = register_anomalies(ops, &is_final);
    found.extend(element_anomalies(ops, &is_final));
    found.sort_by_key(|f| f.read.call_index);
    if let Some(f) = explanation.and_then(|e| non_linearizable_read(e, ops))
        && !found.iter().any(|a| a.read.call_index == f.read.call_index)
    {
        found.insert(0, f);
    }
    let nodes = answered_by(events, &found);
    found
        .into_iter()
        .map(|f| {
            let node = |op: &Operation| op.return_index.and_then(|i| nodes.get(&i).cloned());
            let read_done = f.read.return_time.unwrap_or(u64::MAX);
            Anomaly {
                kind: f.kind,
                key: f.read.key.as_ref().map(|k| k.to_string()),
                read_index: f.read.call_index,
                read_at_s: seconds(f.read.call_time),
                node: node(f.read),
                read_value: f.read_value,
                missing_value: f.missing_value,
                write_index: f.write.map(|w| w.call_index),
                write_acknowledged_at_s: f.write.and_then(|w| w.return_time).map(seconds),
                write_node: f.write.and_then(node),
                faults: faults
                    .iter()
                    .filter(|w| w.in_force_during(f.read.call_time, read_done))
                    .map(FaultWindow::describe)
                    .collect(),
                write_faults: match f.write {
                    Some(w) if f.kind == "lost-write" => {
                        let acked = w.return_time.unwrap_or(u64::MAX);
                        faults
                            .iter()
                            .filter(|fw| fw.in_force_during(w.call_time, acked))
                            .map(FaultWindow::describe)
                            .collect()
                    }
                    _ => Vec::new(),
                },
                next_fault: f
                    .write
                    .filter(|_| f.kind == "lost-write")
                    .and_then(|w| w.return_time)
                    .and_then(|acked| {
                        let next = faults.iter().find(|fw| fw.start > acked)?;
                        Some(format!(
                            "{}, {:.2} s later",
                            next.describe(),
                            seconds(next.start - acked)
                        ))
                    }),
            }
        })
        .collect()
}

fn seconds(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// The node that answered each completion the findings mention, by history index, named.
fn answered_by(events: &[Event], found: &[Finding<'_>]) -> HashMap<u64, String> {
    let wanted: HashSet<u64> = found
        .iter()
        .flat_map(|f| [Some(f.read), f.write])
        .flatten()
        .filter_map(|op| op.return_index)
        .collect();
    events
        .iter()
        .filter(|e| wanted.contains(&e.index))
        .filter_map(|e| Some((e.index, name_recorded(e.node.as_deref()?))))
        .collect()
}

/// The checker's finding in the same words: the read no linearization explains, and the write
/// it should have seen — the last one, in the longest linearization found, that completed
/// before the read was invoked. (That linearization may go on past the read's invocation with
/// writes concurrent with it; those the read could not have missed.)
fn non_linearizable_read<'a>(e: &Explanation, ops: &'a [Operation]) -> Option<Finding<'a>> {
    if e.op.f != "read" {
        return None;
    }
    let by_index: HashMap<u64, &Operation> = ops.iter().map(|op| (op.call_index, op)).collect();
    let read = *by_index.get(&e.op.invoke_index)?;
    let key = read.key.as_deref();
    let completed_before = |op: &Operation| {
        op.key.as_deref() == key && op.return_time.is_some_and(|t| t < read.call_time)
    };
    let in_prefix = e.prefix.iter().rev().find_map(|p| {
        let op = *by_index.get(&p.invoke_index)?;
        (completed_before(op) && written(op).is_some()).then_some(op)
    });
    // Without a prefix to go by, the write acknowledged last.
    let write = in_prefix.or_else(|| {
        ops.iter()
            .filter(|op| completed_before(op) && written(op).is_some())
            .max_by_key(|op| op.return_time)
    });
    Some(Finding {
        kind: "non-linearizable-read",
        read,
        read_value: read
            .output
            .as_ref()
            .map(OpValue::to_json)
            .unwrap_or_default(),
        missing_value: write
            .and_then(written)
            .map(|v| v.to_json())
            .unwrap_or_default(),
        write,
    })
}

/// The value an acknowledged register operation leaves behind: a write's value, a cas's `to`.
fn written(op: &Operation) -> Option<OpValue> {
    match op.f.as_str() {
        "write" => Some(op.input.clone()),
        "cas" => op.input.as_pair().map(|(_, to)| to),
        _ => None,
    }
}

fn register_anomalies<'a>(
    ops: &'a [Operation],
    is_final: &dyn Fn(&Operation) -> bool,
) -> Vec<Finding<'a>> {
    // Per key: acknowledged writes sorted by completion, with the latest invocation among the
    // writes completed so far (a write invoked after W completed is ordered after W).
    let mut writes: HashMap<Option<&str>, Vec<&Operation>> = HashMap::new();
    let mut writer_of: HashMap<(Option<&str>, String), &Operation> = HashMap::new();
    for op in ops.iter().filter(|op| op.return_time.is_some()) {
        if let Some(v) = written(op) {
            writes.entry(op.key.as_deref()).or_default().push(op);
            writer_of.insert((op.key.as_deref(), v.to_string()), op);
        }
    }
    let mut latest_call: HashMap<Option<&str>, Vec<(u64, u64, usize)>> = HashMap::new();
    for (key, list) in &mut writes {
        list.sort_by_key(|w| w.return_time);
        let mut best: Option<(u64, usize)> = None;
        let prefix = list
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if best.is_none_or(|(t, _)| w.call_time > t) {
                    best = Some((w.call_time, i));
                }
                let (t, at) = best.unwrap_or((w.call_time, i));
                (w.return_time.unwrap_or(u64::MAX), t, at)
            })
            .collect();
        latest_call.insert(*key, prefix);
    }
    let mut found = Vec::new();
    for read in ops.iter().filter(|op| op.f == "read") {
        let Some(value) = &read.output else { continue };
        if value.is_array() {
            continue;
        }
        let key = read.key.as_deref();
        let Some(prefix) = latest_call.get(&key) else {
            continue;
        };
        // Writes completed before the read was invoked.
        let n = prefix.partition_point(|(done, _, _)| *done < read.call_time);
        if n == 0 {
            continue;
        }
        let (_, newest_call, at) = prefix[n - 1];
        let seen_done = match writer_of.get(&(key, value.to_string())) {
            Some(w) => w.return_time.unwrap_or(u64::MAX),
            None if value.is_null() => 0,
            None => continue,
        };
        if newest_call > seen_done {
            let newer = writes[&key][at];
            found.push(Finding {
                kind: if is_final(read) {
                    "lost-write"
                } else {
                    "stale-read"
                },
                read,
                read_value: value.to_json(),
                missing_value: written(newer).map_or(Value::Null, |v| v.to_json()),
                write: Some(newer),
            });
        }
    }
    found
}

/// Appends and set adds: a final read must hold every element acknowledged before it began.
fn element_anomalies<'a>(
    ops: &'a [Operation],
    is_final: &dyn Fn(&Operation) -> bool,
) -> Vec<Finding<'a>> {
    let mut added: BTreeMap<Option<&str>, Vec<&Operation>> = BTreeMap::new();
    for op in ops.iter().filter(|op| op.return_time.is_some()) {
        if op.f == "append" || op.f == "add" {
            added.entry(op.key.as_deref()).or_default().push(op);
        }
    }
    let mut found = Vec::new();
    for read in ops.iter().filter(|op| op.f == "read" && is_final(op)) {
        // An absent key reads as nil: an empty list.
        let output = read.output.as_ref().map(OpValue::to_json);
        let seen: &[Value] = match &output {
            Some(Value::Array(seen)) => seen,
            Some(Value::Null) => &[],
            _ => continue,
        };
        for add in added.get(&read.key.as_deref()).into_iter().flatten() {
            if add.return_time.is_some_and(|t| t < read.call_time)
                && !seen.contains(&add.input.to_json())
            {
                found.push(Finding {
                    kind: "lost-write",
                    read,
                    read_value: Value::from(format!("{} elements", seen.len())),
                    missing_value: add.input.to_json(),
                    write: Some(add),
                });
            }
        }
    }
    found
}
