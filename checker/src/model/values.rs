//! Interning operation values as small integers, so that model states hash and compare in one
//! word.

use std::collections::HashMap;

use serde_json::Value;

use crate::history::OpValue;

/// Maps distinct values to ids. Id 0 is reserved for "absent" (JSON null). Holds each distinct
/// value once, compactly (an integer or a pair is 16 bytes, no text).
#[derive(Debug, Default, Clone)]
pub struct ValueTable {
    ids: HashMap<OpValue, u32>,
    values: Vec<OpValue>,
}

pub const ABSENT: u32 = 0;

impl ValueTable {
    pub fn new() -> Self {
        ValueTable {
            ids: HashMap::new(),
            values: vec![OpValue::Null],
        }
    }

    /// The id of `value`; null is `ABSENT`. Equal JSON values share an id.
    pub fn intern(&mut self, value: &OpValue) -> u32 {
        if value.is_null() {
            return ABSENT;
        }
        if let Some(&id) = self.ids.get(value) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(value.clone());
        self.ids.insert(value.clone(), id);
        id
    }

    /// [`ValueTable::intern`] for a JSON tree (a start value, a transaction's micro-op).
    pub fn intern_json(&mut self, value: &Value) -> u32 {
        self.intern(&OpValue::from(value))
    }

    pub fn value(&self, id: u32) -> Value {
        self.values
            .get(id as usize)
            .map_or(Value::Null, OpValue::to_json)
    }
}
