//! `kv-append`: string values per key, each starting as the empty string; `get` returns the
//! current value, `put` replaces it, `append` concatenates. Checked key by key. Values may also
//! be lists (an append adds one element, a read returns the list), as kvnode's append is.
//!
//! A state is a node of a trie of appends: the empty string, or a `put` value, followed by the
//! appended values along the path from the root. States are `u32`s, so the search's memo hashes
//! one word, and an append is one table lookup — no string is ever built while searching. Each
//! node carries its length and a polynomial hash, so a `get` rejects a wrong state in O(1); a
//! hash match is confirmed by comparing the path's segments with the value read (exact), once
//! per (state, value).
//!
//! Two paths can spell the same string ("ab"+"c", "a"+"bc"): they are then two states, which
//! costs the memo some sharing but never changes an answer.

use std::cell::RefCell;
use std::sync::Arc;

use hashbrown::HashMap;
use serde_json::Value;

use super::{Model, ModelError, Partition, group_by_key, search_op};
use crate::history::{OpValue, Operation};

pub struct KvAppend {
    texts: Texts,
    trie: RefCell<Trie>,
    /// Whether values are lists (kvnode) rather than strings (Porcupine).
    lists: bool,
}

const BASE: u64 = 0x100_0000_01B3;
const NO_PARENT: u32 = u32::MAX;

/// The distinct strings of a history (values read, put and appended), interned.
#[derive(Default)]
struct Texts {
    ids: HashMap<Arc<str>, u32>,
    texts: Vec<Arc<str>>,
    /// Polynomial hash of each text, and `BASE^len` to shift a hash past it.
    hashes: Vec<u64>,
    shifts: Vec<u64>,
    /// What `bytes` reports, kept as texts are interned: the search asks on every new
    /// configuration, and summing the texts each time was a fifth of a kv check.
    bytes: usize,
}

impl Texts {
    fn intern(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = self.texts.len() as u32;
        let (mut hash, mut shift) = (0u64, 1u64);
        for b in text.bytes() {
            hash = hash.wrapping_mul(BASE).wrapping_add(u64::from(b));
            shift = shift.wrapping_mul(BASE);
        }
        let text: Arc<str> = Arc::from(text);
        self.texts.push(text.clone());
        self.hashes.push(hash);
        self.shifts.push(shift);
        self.bytes += 2 * text.len() + 64;
        self.ids.insert(text, id);
        id
    }

    fn bytes(&self) -> usize {
        self.bytes
    }
}

#[derive(Clone, Copy)]
struct Node {
    parent: u32,
    /// The text this node adds after its parent's string.
    text: u32,
    len: usize,
    hash: u64,
}

struct Trie {
    nodes: Vec<Node>,
    appended: HashMap<(u32, u32), u32>,
    put: HashMap<u32, u32>,
    /// (state, text) pairs whose hashes matched, with whether the strings really are equal.
    confirmed: HashMap<(u32, u32), bool>,
}

impl Trie {
    fn new() -> Self {
        let empty = Node {
            parent: NO_PARENT,
            text: EMPTY,
            len: 0,
            hash: 0,
        };
        Trie {
            nodes: vec![empty],
            appended: HashMap::new(),
            put: HashMap::new(),
            confirmed: HashMap::new(),
        }
    }

    fn add(&mut self, node: Node) -> u32 {
        self.nodes.push(node);
        (self.nodes.len() - 1) as u32
    }

    fn append(&mut self, texts: &Texts, state: u32, text: u32) -> u32 {
        if let Some(&next) = self.appended.get(&(state, text)) {
            return next;
        }
        let at = self.nodes[state as usize];
        let t = text as usize;
        let next = self.add(Node {
            parent: state,
            text,
            len: at.len + texts.texts[t].len(),
            hash: at
                .hash
                .wrapping_mul(texts.shifts[t])
                .wrapping_add(texts.hashes[t]),
        });
        self.appended.insert((state, text), next);
        next
    }

    fn put(&mut self, texts: &Texts, text: u32) -> u32 {
        if text == EMPTY {
            return 0;
        }
        if let Some(&node) = self.put.get(&text) {
            return node;
        }
        let t = text as usize;
        let node = self.add(Node {
            parent: NO_PARENT,
            text,
            len: texts.texts[t].len(),
            hash: texts.hashes[t],
        });
        self.put.insert(text, node);
        node
    }

    fn equals(&mut self, texts: &Texts, state: u32, text: u32) -> bool {
        let node = self.nodes[state as usize];
        let t = text as usize;
        if node.len != texts.texts[t].len() || node.hash != texts.hashes[t] {
            return false;
        }
        if let Some(&same) = self.confirmed.get(&(state, text)) {
            return same;
        }
        // Compare segments from the end of the string backwards.
        let target = texts.texts[t].as_bytes();
        let mut end = target.len();
        let mut cur = state;
        let mut same = true;
        while cur != NO_PARENT {
            let n = self.nodes[cur as usize];
            let seg = texts.texts[n.text as usize].as_bytes();
            if !target[..end].ends_with(seg) {
                same = false;
                break;
            }
            end -= seg.len();
            cur = n.parent;
        }
        let same = same && end == 0;
        self.confirmed.insert((state, text), same);
        same
    }

    fn text_of(&self, texts: &Texts, state: u32) -> String {
        let mut segments = Vec::new();
        let mut cur = state;
        while let Some(n) = self.nodes.get(cur as usize) {
            segments.push(&*texts.texts[n.text as usize]);
            cur = n.parent;
        }
        segments.reverse();
        segments.concat()
    }

    fn bytes(&self) -> usize {
        self.nodes.len() * std::mem::size_of::<Node>()
            + (self.appended.len() + self.put.len() + self.confirmed.len()) * 24
    }
}

/// The empty string's text id: interned first.
const EMPTY: u32 = 0;

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
        // The trie's root: the empty string.
        0
    }

    fn step(&self, state: &u32, op: &AppendOp) -> Option<u32> {
        let mut trie = self.trie.borrow_mut();
        match *op {
            AppendOp::Get(v) => trie.equals(&self.texts, *state, v).then_some(*state),
            AppendOp::Put(v) => Some(trie.put(&self.texts, v)),
            AppendOp::Append(v) => Some(trie.append(&self.texts, *state, v)),
        }
    }

    fn read_only(&self, op: &AppendOp) -> bool {
        matches!(op, AppendOp::Get(_))
    }

    fn extra_bytes(&self) -> usize {
        self.texts.bytes() + self.trie.borrow().bytes()
    }

    fn describe_state(&self, state: &u32) -> Value {
        let text = self.trie.borrow().text_of(&self.texts, *state);
        if !self.lists {
            return Value::from(text);
        }
        Value::Array(
            text.split_terminator(END_OF_ELEMENT)
                .map(|e| serde_json::from_str(e).unwrap_or_else(|_| Value::from(e)))
                .collect(),
        )
    }
}

/// Ends each element's JSON text when values are lists; JSON text never holds it unescaped.
const END_OF_ELEMENT: char = '\u{1e}';

/// The text a value stands for. Strings (Porcupine's histories): as they are, numbers as
/// written, nil as the empty string. Lists (kvnode's append returns the list): each element's
/// JSON text followed by a separator, so that appending an element appends its text.
fn text_of(op: &Operation, value: &Value, lists: bool) -> Result<String, ModelError> {
    match (value, lists) {
        (Value::Null, _) => Ok(String::new()),
        (Value::Array(items), true) => Ok(items
            .iter()
            .map(|item| format!("{item}{END_OF_ELEMENT}"))
            .collect()),
        (item, true) => Ok(format!("{item}{END_OF_ELEMENT}")),
        (Value::String(s), false) => Ok(s.clone()),
        (Value::Number(n), false) => Ok(n.to_string()),
        (other, false) => Err(ModelError::bad_op(
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
                let lists = ops.iter().any(|op| {
                    op.input.is_array() || op.output.as_ref().is_some_and(OpValue::is_array)
                });
                let mut texts = Texts::default();
                texts.intern("");
                let mut prepared = Vec::with_capacity(ops.len());
                for op in ops {
                    let converted = match op.f.as_str() {
                        // A get without a completion constrains nothing.
                        "get" | "read" => match &op.output {
                            None => None,
                            Some(v) => Some(AppendOp::Get(texts.intern(&text_of(
                                op,
                                &v.to_json(),
                                lists,
                            )?))),
                        },
                        "put" | "write" => Some(AppendOp::Put(texts.intern(&text_of(
                            op,
                            &op.input.to_json(),
                            lists,
                        )?))),
                        "append" => Some(AppendOp::Append(texts.intern(&text_of(
                            op,
                            &op.input.to_json(),
                            lists,
                        )?))),
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
                        texts,
                        trie: RefCell::new(Trie::new()),
                        lists,
                    },
                    ops: prepared,
                })
            })
            .collect()
    }
}
