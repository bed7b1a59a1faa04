//! Anomalies named in plain words, next to the checker's verdict: reads that returned a value
//! already overwritten by an acknowledged write (stale reads), and acknowledged writes that the
//! final reads do not see (lost writes).
//!
//! These rely on unique write values, which faultline's generators guarantee: a value read names
//! the one write that wrote it. They are evidence for a person, not the verdict: the checker
//! decides linearizability; these say what went wrong in words.

use std::collections::{BTreeMap, HashMap};

use faultline_checker::history::Operation;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    /// `stale-read`, `lost-write`, or `non-linearizable-read` (the checker's counterexample:
    /// `missing_value` is then the value the longest linearization found leaves, and
    /// `write_index` the last operation of that linearization).
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// History index of the read that shows it.
    pub read_index: u64,
    /// What the read returned.
    pub read_value: Value,
    /// The acknowledged write it should have seen (or the missing element), and its index.
    pub missing_value: Value,
    pub write_index: u64,
}

/// Finds stale reads and lost writes. `final_from` is the time (ns) the final reads began: a
/// read invoked after it that misses an acknowledged write shows a lost write.
pub fn find_anomalies(ops: &[Operation], final_from: Option<u64>) -> Vec<Anomaly> {
    let is_final = |op: &Operation| final_from.is_some_and(|t| op.call_time >= t);
    let mut found = register_anomalies(ops, &is_final);
    found.extend(element_anomalies(ops, &is_final));
    found.sort_by_key(|a| a.read_index);
    found
}

/// The value an acknowledged register operation leaves behind: a write's value, a cas's `to`.
fn written(op: &Operation) -> Option<&Value> {
    match op.f.as_str() {
        "write" => Some(&op.input),
        "cas" => op.input.get(1),
        _ => None,
    }
}

fn register_anomalies(ops: &[Operation], is_final: &dyn Fn(&Operation) -> bool) -> Vec<Anomaly> {
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
            found.push(Anomaly {
                kind: if is_final(read) {
                    "lost-write"
                } else {
                    "stale-read"
                },
                key: read.key.clone(),
                read_index: read.call_index,
                read_value: value.clone(),
                missing_value: written(newer).cloned().unwrap_or(Value::Null),
                write_index: newer.call_index,
            });
        }
    }
    found
}

/// Appends and set adds: a final read must hold every element acknowledged before it began.
fn element_anomalies(ops: &[Operation], is_final: &dyn Fn(&Operation) -> bool) -> Vec<Anomaly> {
    let mut added: BTreeMap<Option<&str>, Vec<&Operation>> = BTreeMap::new();
    for op in ops.iter().filter(|op| op.return_time.is_some()) {
        if op.f == "append" || op.f == "add" {
            added.entry(op.key.as_deref()).or_default().push(op);
        }
    }
    let mut found = Vec::new();
    for read in ops.iter().filter(|op| op.f == "read" && is_final(op)) {
        // An absent key reads as nil: an empty list.
        let seen: &[Value] = match &read.output {
            Some(Value::Array(seen)) => seen,
            Some(Value::Null) => &[],
            _ => continue,
        };
        for add in added.get(&read.key.as_deref()).into_iter().flatten() {
            if add.return_time.is_some_and(|t| t < read.call_time) && !seen.contains(&add.input) {
                found.push(Anomaly {
                    kind: "lost-write",
                    key: read.key.clone(),
                    read_index: read.call_index,
                    read_value: Value::from(format!("{} elements", seen.len())),
                    missing_value: add.input.clone(),
                    write_index: add.call_index,
                });
            }
        }
    }
    found
}
