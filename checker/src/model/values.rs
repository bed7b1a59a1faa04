//! Interning JSON values as small integers, so that model states hash and compare in one word.

use std::collections::HashMap;

use serde_json::Value;

/// Maps distinct JSON values to ids. Id 0 is reserved for "absent" (JSON null).
#[derive(Debug, Default, Clone)]
pub struct ValueTable {
    ids: HashMap<String, u32>,
    values: Vec<Value>,
}

pub const ABSENT: u32 = 0;

impl ValueTable {
    pub fn new() -> Self {
        ValueTable {
            ids: HashMap::new(),
            values: vec![Value::Null],
        }
    }

    /// The id of `value`; null is `ABSENT`. Equal JSON values (same canonical text) share an id.
    pub fn intern(&mut self, value: &Value) -> u32 {
        if value.is_null() {
            return ABSENT;
        }
        let text = value.to_string();
        if let Some(&id) = self.ids.get(&text) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(value.clone());
        self.ids.insert(text, id);
        id
    }

    pub fn value(&self, id: u32) -> Value {
        self.values.get(id as usize).cloned().unwrap_or(Value::Null)
    }
}
