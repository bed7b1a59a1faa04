//! Operations: an invocation paired with its completion, the unit the models and search see.

use std::collections::HashMap;

use serde_json::Value;

use super::name::Names;
use super::{Event, EventType, Name, OpValue, Process};

/// One client operation of a history.
///
/// `fail` operations never appear: they certainly did not happen, so they constrain nothing.
/// An operation whose invocation has no completion, or whose completion is `info`, is *pending*:
/// it may have taken effect at any point after its invocation, or never.
///
/// Held compactly (a long run's history is millions of them): `f` and `key` are interned and
/// values are [`OpValue`]s, not JSON trees.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Position among the operations handed to the checker, from 0.
    pub id: usize,
    pub process: u64,
    pub f: Name,
    pub key: Option<Name>,
    /// The invocation's value (the argument).
    pub input: OpValue,
    /// The `ok` completion's value, or `None` when the operation is pending.
    pub output: Option<OpValue>,
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
    let mut pairing = Pairing::default();
    for event in events {
        pairing.push(event.into());
    }
    pairing.finish()
}

/// One event's fields as pairing needs them, borrowed or owned (the streaming reader hands over
/// the value it parsed rather than a copy).
pub(crate) struct EventFields<'a> {
    pub index: u64,
    pub time: u64,
    pub process: Process,
    pub kind: EventType,
    pub f: &'a str,
    pub key: Option<&'a str>,
    pub value: ValueIn<'a>,
}

pub(crate) enum ValueIn<'a> {
    Borrowed(&'a Value),
    Owned(Value),
}

impl ValueIn<'_> {
    fn compact(self) -> OpValue {
        match self {
            ValueIn::Borrowed(v) => OpValue::from(v),
            ValueIn::Owned(v) => OpValue::from(v),
        }
    }
}

impl<'a> From<&'a Event> for EventFields<'a> {
    fn from(event: &'a Event) -> Self {
        EventFields {
            index: event.index,
            time: event.time,
            process: event.process,
            kind: event.kind,
            f: &event.f,
            key: event.key.as_deref(),
            value: ValueIn::Borrowed(&event.value),
        }
    }
}

/// Marks an operation whose completion was `fail` until [`Pairing::finish`] drops it.
const FAILED: usize = usize::MAX;

/// Pairing as events arrive, one at a time: what both [`pair_operations`] and the streaming
/// reader use, so they pair identically. Holds the operations so far (compact) and each
/// process's open invocation, never the events.
#[derive(Default)]
pub(crate) struct Pairing {
    /// Position in `ops` of each process's open invocation.
    open: HashMap<u64, usize>,
    /// One per invocation, in invocation order; `id` is `FAILED` once it turned out to have
    /// failed.
    ops: Vec<Operation>,
    failed: usize,
    names: Names,
}

impl Pairing {
    pub(crate) fn push(&mut self, event: EventFields<'_>) {
        let Process::Client(process) = event.process else {
            return;
        };
        match event.kind {
            EventType::Invoke => {
                self.open.insert(process, self.ops.len());
                self.ops.push(Operation {
                    id: 0,
                    process,
                    f: self.names.intern(event.f),
                    key: event.key.map(|k| self.names.intern(k)),
                    input: event.value.compact(),
                    output: None,
                    call_index: event.index,
                    call_time: event.time,
                    return_index: None,
                    return_time: None,
                });
            }
            EventType::Ok | EventType::Fail | EventType::Info => {
                let Some(slot) = self.open.remove(&process) else {
                    return;
                };
                let op = &mut self.ops[slot];
                match event.kind {
                    EventType::Fail => {
                        op.id = FAILED;
                        self.failed += 1;
                    }
                    EventType::Ok => {
                        op.output = Some(event.value.compact());
                        op.return_index = Some(event.index);
                        op.return_time = Some(event.time);
                    }
                    _ => {}
                }
            }
        }
    }

    /// The operations, failed ones dropped, numbered from 0 in invocation order.
    pub(crate) fn finish(mut self) -> Vec<Operation> {
        if self.failed > 0 {
            self.ops.retain(|op| op.id != FAILED);
        }
        for (id, op) in self.ops.iter_mut().enumerate() {
            op.id = id;
        }
        self.ops.shrink_to_fit();
        self.ops
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A long run's history is millions of operations: every byte here is megabytes there
    /// (docs/benchmarks.md, "Memory per operation").
    #[test]
    fn an_operation_stays_small() {
        assert!(
            std::mem::size_of::<Operation>() <= 112,
            "{}",
            std::mem::size_of::<Operation>()
        );
    }
}
