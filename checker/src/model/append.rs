//! `kv-append`: string values per key, each starting as the empty string; `get` returns the
//! current value, `put` replaces it, `append` concatenates. Checked key by key.
//!
//! States are interned strings: a state is a `u32`, so the search's memo hashes one word, and
//! `(state, append)` transitions are cached so each distinct concatenation is built once.

use std::cell::RefCell;
use std::sync::Arc;

use hashbrown::HashMap;
use serde_json::Value;

use super::{Model, ModelError, Partition, group_by_key, search_op};
use crate::history::Operation;

pub struct KvAppend {
    strings: RefCell<Strings>,
}

#[derive(Default)]
struct Strings {
    ids: HashMap<Arc<str>, u32>,
    texts: Vec<Arc<str>>,
    appended: HashMap<(u32, u32), u32>,
    bytes: usize,
}

impl Strings {
    fn intern(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = self.texts.len() as u32;
        let text: Arc<str> = Arc::from(text);
        self.bytes += 2 * text.len() + 64;
        self.texts.push(text.clone());
        self.ids.insert(text, id);
        id
    }

    fn append(&mut self, state: u32, suffix: u32) -> u32 {
        if let Some(&id) = self.appended.get(&(state, suffix)) {
            return id;
        }
        let joined = format!(
            "{}{}",
            self.texts[state as usize], self.texts[suffix as usize]
        );
        let id = self.intern(&joined);
        self.appended.insert((state, suffix), id);
        self.bytes += 24;
        id
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOp {
    Get(u32),
    Put(u32),
    Append(u32),
}

impl Model for KvAppend {
    type State = u32;
    type Op = AppendOp;

    fn init(&self) -> u32 {
        // The empty string is interned first, as id 0.
        0
    }

    fn step(&self, state: &u32, op: &AppendOp) -> Option<u32> {
        match *op {
            AppendOp::Get(v) => (v == *state).then_some(*state),
            AppendOp::Put(v) => Some(v),
            AppendOp::Append(v) => Some(self.strings.borrow_mut().append(*state, v)),
        }
    }

    fn extra_bytes(&self) -> usize {
        self.strings.borrow().bytes
    }

    fn describe_state(&self, state: &u32) -> Value {
        let strings = self.strings.borrow();
        Value::from(strings.texts.get(*state as usize).map_or("", |t| t))
    }
}

/// The text of a value: strings as they are, numbers as written, nil as the empty string.
fn text_of(op: &Operation, value: &Value) -> Result<String, ModelError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Null => Ok(String::new()),
        other => Err(ModelError::bad_op(
            op,
            format!("expected a string value for kv-append, found {other}"),
        )),
    }
}

impl KvAppend {
    pub(crate) fn prepare(ops: &[Operation]) -> Result<Vec<Partition<KvAppend>>, ModelError> {
        group_by_key(ops)
            .into_iter()
            .map(|(key, ops)| {
                let mut strings = Strings::default();
                strings.intern("");
                let mut prepared = Vec::with_capacity(ops.len());
                for op in ops {
                    let converted = match op.f.as_str() {
                        // A get without a completion constrains nothing.
                        "get" | "read" => match &op.output {
                            None => None,
                            Some(v) => Some(AppendOp::Get(strings.intern(&text_of(op, v)?))),
                        },
                        "put" | "write" => {
                            Some(AppendOp::Put(strings.intern(&text_of(op, &op.input)?)))
                        }
                        "append" => {
                            Some(AppendOp::Append(strings.intern(&text_of(op, &op.input)?)))
                        }
                        other => {
                            return Err(ModelError::bad_op(
                                op,
                                format!("expected f to be get, put or append, found \"{other}\""),
                            ));
                        }
                    };
                    if let Some(c) = converted {
                        prepared.push(search_op(op, c));
                    }
                }
                Ok(Partition {
                    key,
                    model: KvAppend {
                        strings: RefCell::new(strings),
                    },
                    ops: prepared,
                })
            })
            .collect()
    }
}
