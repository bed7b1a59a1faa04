//! `multi-register`: transactions (`f` = `txn`) whose values are lists of `[read k v]` and
//! `[write k v]` micro-operations, applied atomically to a set of registers. A read micro-op
//! whose value is nil constrains nothing. The whole history is one partition: a transaction may
//! span keys.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::values::{ABSENT, ValueTable};
use super::{Model, ModelError, Partition, search_op};
use crate::history::Operation;

pub struct MultiRegister {
    keys: Vec<String>,
    values: ValueTable,
    init: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Micro {
    Read { key: usize, value: u32 },
    Write { key: usize, value: u32 },
}

impl Model for MultiRegister {
    /// The value id of each key, by key index.
    type State = Box<[u32]>;
    type Op = Box<[Micro]>;

    fn init(&self) -> Box<[u32]> {
        self.init.clone().into_boxed_slice()
    }

    fn step(&self, state: &Box<[u32]>, txn: &Box<[Micro]>) -> Option<Box<[u32]>> {
        let mut next = state.clone();
        for micro in txn.iter() {
            match *micro {
                Micro::Read { key, value } => {
                    if next[key] != value {
                        return None;
                    }
                }
                Micro::Write { key, value } => next[key] = value,
            }
        }
        Some(next)
    }

    fn state_heap_bytes(&self, state: &Box<[u32]>) -> usize {
        state.len() * std::mem::size_of::<u32>()
    }

    fn describe_state(&self, state: &Box<[u32]>) -> Value {
        let map: Map<String, Value> = self
            .keys
            .iter()
            .zip(state.iter())
            .map(|(k, v)| (k.clone(), self.values.value(*v)))
            .collect();
        Value::Object(map)
    }
}

fn key_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

struct Builder {
    key_ids: HashMap<String, usize>,
    keys: Vec<String>,
    values: ValueTable,
}

impl Builder {
    fn key(&mut self, key: String) -> usize {
        let next = self.keys.len();
        *self.key_ids.entry(key.clone()).or_insert_with(|| {
            self.keys.push(key);
            next
        })
    }

    fn txn(&mut self, op: &Operation, value: &Value) -> Result<Box<[Micro]>, ModelError> {
        let expected = || {
            ModelError::bad_op(
                op,
                format!("expected a txn value [[read|write key value] ...], found {value}"),
            )
        };
        let micros = value.as_array().ok_or_else(expected)?;
        let mut out = Vec::with_capacity(micros.len());
        for micro in micros {
            let parts = micro
                .as_array()
                .filter(|p| p.len() == 3)
                .ok_or_else(expected)?;
            let key = key_text(&parts[1]).ok_or_else(expected)?;
            let key = self.key(key);
            match parts[0].as_str() {
                Some("read" | "r") => {
                    if !parts[2].is_null() {
                        let value = self.values.intern_json(&parts[2]);
                        out.push(Micro::Read { key, value });
                    }
                }
                Some("write" | "w") => {
                    let value = self.values.intern_json(&parts[2]);
                    out.push(Micro::Write { key, value });
                }
                _ => return Err(expected()),
            }
        }
        Ok(out.into_boxed_slice())
    }
}

impl MultiRegister {
    pub(crate) fn prepare(
        ops: &[Operation],
        init: Option<&Value>,
    ) -> Result<Vec<Partition<MultiRegister>>, ModelError> {
        let mut b = Builder {
            key_ids: HashMap::new(),
            keys: Vec::new(),
            values: ValueTable::new(),
        };
        let mut init_values: Vec<(usize, u32)> = Vec::new();
        match init {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (k, v) in map {
                    let key = b.key(k.clone());
                    let value = b.values.intern_json(v);
                    init_values.push((key, value));
                }
            }
            Some(other) => {
                return Err(ModelError::BadInit(format!(
                    "expected a JSON object of key to value for multi-register, found {other}"
                )));
            }
        }
        let mut prepared = Vec::with_capacity(ops.len());
        for op in ops {
            if op.f != "txn" {
                return Err(ModelError::bad_op(
                    op,
                    format!("expected f to be txn, found \"{}\"", op.f),
                ));
            }
            // A completed transaction's value carries what its reads saw; a pending one's
            // carries only its writes (its reads are nil and constrain nothing).
            let value = op.output.as_ref().unwrap_or(&op.input).to_json();
            let txn = b.txn(op, &value)?;
            if txn.iter().any(|m| matches!(m, Micro::Write { .. })) || !op.is_pending() {
                prepared.push(search_op(op, txn));
            }
        }
        let mut init = vec![ABSENT; b.keys.len()];
        for (key, value) in init_values {
            init[key] = value;
        }
        Ok(vec![Partition {
            key: None,
            model: MultiRegister {
                keys: b.keys,
                values: b.values,
                init,
            },
            ops: prepared,
        }])
    }
}
