//! Registers: `register` (read, write), `cas-register` (plus compare-and-set) and `kv` (one
//! cas-register per key). Every variant is checked key by key.

use serde_json::Value;

use super::values::{ABSENT, ValueTable};
use super::{Model, ModelError, Partition, group_by_key, search_op};
use crate::history::{OpValue, Operation};

/// One register; values interned, `ABSENT` meaning the register holds nothing yet.
#[derive(Debug, Clone)]
pub struct Register {
    values: ValueTable,
    init: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterOp {
    Read(u32),
    Write(u32),
    Cas { from: u32, to: u32 },
}

impl Model for Register {
    type State = u32;
    type Op = RegisterOp;

    fn init(&self) -> u32 {
        self.init
    }

    fn step(&self, state: &u32, op: &RegisterOp) -> Option<u32> {
        match *op {
            RegisterOp::Read(v) => (v == *state).then_some(*state),
            RegisterOp::Write(v) => Some(v),
            RegisterOp::Cas { from, to } => (from == *state).then_some(to),
        }
    }

    fn read_only(&self, op: &RegisterOp) -> bool {
        matches!(op, RegisterOp::Read(_))
    }

    fn describe_state(&self, state: &u32) -> Value {
        self.values.value(*state)
    }
}

impl Register {
    /// Prepares one partition per key. `init` is the start value of every key (absent when
    /// `None`); with a start value the register is never absent, so a read of nil constrains
    /// nothing (as in Knossos).
    ///
    /// A pending write (or cas) whose value no read and no cas ever observes is dropped: placing
    /// it can only force the next observation to be of a later write, so it never makes a
    /// history linearizable that is not without it. With Jepsen's unique write values this
    /// removes most timed-out writes, which otherwise stay open to the end and multiply the
    /// search space by two each.
    pub(crate) fn prepare(
        ops: &[Operation],
        init: Option<&Value>,
        allow_cas: bool,
    ) -> Result<Vec<Partition<Register>>, ModelError> {
        group_by_key(ops)
            .into_iter()
            .map(|(key, ops)| {
                let mut values = ValueTable::new();
                let init = init.map_or(ABSENT, |v| values.intern_json(v));
                let mut prepared = Vec::with_capacity(ops.len());
                let mut observed = std::collections::HashSet::new();
                for op in &ops {
                    let converted = match op.f.as_str() {
                        "read" => match &op.output {
                            // A read without a completion observed nothing.
                            None => None,
                            Some(OpValue::Null) if init != ABSENT => None,
                            Some(v) => Some(RegisterOp::Read(values.intern(v))),
                        },
                        "write" => Some(RegisterOp::Write(values.intern(&op.input))),
                        "cas" if allow_cas => {
                            let (from, to) = op.input.as_pair().ok_or_else(|| {
                                ModelError::bad_op(
                                    op,
                                    format!("expected cas value [from to], found {}", op.input),
                                )
                            })?;
                            Some(RegisterOp::Cas {
                                from: values.intern(&from),
                                to: values.intern(&to),
                            })
                        }
                        other => {
                            let expected = if allow_cas {
                                "read, write or cas"
                            } else {
                                "read or write (use cas-register for cas)"
                            };
                            return Err(ModelError::bad_op(
                                op,
                                format!("expected f to be {expected}, found \"{other}\""),
                            ));
                        }
                    };
                    match converted {
                        Some(RegisterOp::Read(v)) => {
                            observed.insert(v);
                        }
                        Some(RegisterOp::Cas { from, .. }) => {
                            observed.insert(from);
                        }
                        _ => {}
                    }
                    if let Some(c) = converted {
                        prepared.push(search_op(op, c));
                    }
                }
                prepared.retain(|op| {
                    let written = match op.op {
                        RegisterOp::Write(v) | RegisterOp::Cas { to: v, .. } => v,
                        RegisterOp::Read(_) => return true,
                    };
                    op.ret.is_some() || observed.contains(&written)
                });
                Ok(Partition {
                    key,
                    model: Register { values, init },
                    ops: prepared,
                })
            })
            .collect()
    }
}
