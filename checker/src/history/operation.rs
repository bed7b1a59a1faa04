//! Operations: an invocation paired with its completion, the unit the models and search see.

use serde_json::Value;

use super::{Event, EventType, Process};

/// One client operation of a history.
///
/// `fail` operations never appear: they certainly did not happen, so they constrain nothing.
/// An operation whose invocation has no completion, or whose completion is `info`, is *pending*:
/// it may have taken effect at any point after its invocation, or never.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Position among the operations handed to the checker, from 0.
    pub id: usize,
    pub process: u64,
    pub f: String,
    pub key: Option<String>,
    /// The invocation's value (the argument).
    pub input: Value,
    /// The `ok` completion's value, or `None` when the operation is pending.
    pub output: Option<Value>,
    /// History index and time of the invocation.
    pub call_index: u64,
    pub call_time: u64,
    /// History index and time of the `ok` completion; `None` when pending (returns "at infinity").
    pub return_index: Option<u64>,
    pub return_time: Option<u64>,
}

impl Operation {
    pub fn is_pending(&self) -> bool {
        self.output.is_none()
    }
}

/// Pairs each client invocation with the next completion of the same process, in history order.
///
/// Nemesis events are skipped; `fail` operations are dropped; completions without an invocation
/// are ignored (Jepsen histories cut at the start can hold them); an invocation followed by
/// another invocation of the same process is left pending.
pub fn pair_operations(events: &[Event]) -> Vec<Operation> {
    use std::collections::HashMap;
    // Slot in `slots` of each process's open invocation.
    let mut open: HashMap<u64, usize> = HashMap::new();
    // One slot per invocation, in invocation order; None once it turned out to have failed.
    let mut slots: Vec<Option<Operation>> = Vec::new();
    for event in events {
        let Process::Client(process) = event.process else {
            continue;
        };
        match event.kind {
            EventType::Invoke => {
                open.insert(process, slots.len());
                slots.push(Some(Operation {
                    id: 0,
                    process,
                    f: event.f.clone(),
                    key: event.key.clone(),
                    input: event.value.clone(),
                    output: None,
                    call_index: event.index,
                    call_time: event.time,
                    return_index: None,
                    return_time: None,
                }));
            }
            EventType::Ok | EventType::Fail | EventType::Info => {
                let Some(slot) = open.remove(&process) else {
                    continue;
                };
                match event.kind {
                    EventType::Fail => slots[slot] = None,
                    EventType::Ok => {
                        if let Some(op) = slots[slot].as_mut() {
                            op.output = Some(event.value.clone());
                            op.return_index = Some(event.index);
                            op.return_time = Some(event.time);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let mut ops: Vec<Operation> = slots.into_iter().flatten().collect();
    for (id, op) in ops.iter_mut().enumerate() {
        op.id = id;
    }
    ops
}
