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

mod order;

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use hashbrown::HashMap;
use serde_json::Value;

use super::{Model, ModelError, Partition, SearchOp, group_by_key, search_op};
use crate::history::{OpValue, Operation};

pub struct KvAppend {
    texts: Texts,
    trie: RefCell<Trie>,
    /// Whether values are lists (kvnode) rather than strings (Porcupine).
    lists: bool,
    /// Per appended text, the text the state must end with before it (`order.rs`): what the
    /// reads reveal when written texts are distinct. Empty when nothing is known, and until the
    /// search takes the partition (`prepare_search`): the fast path does not need it.
    after: Vec<u32>,
    /// Whether `step` enforces `after` (off for the search that explains a failure).
    ordered: Cell<bool>,
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
    /// Each text by (length, hash), so a new trie node finds the one text it may spell.
    by_hash: HashMap<(usize, u64), u32>,
    /// Whether two distinct texts share a (length, hash): `by_hash` then names only one of
    /// them, and reads fall back to comparing per (state, text).
    collided: bool,
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
        match self.by_hash.entry((text.len(), hash)) {
            hashbrown::hash_map::Entry::Occupied(_) => self.collided = true,
            hashbrown::hash_map::Entry::Vacant(slot) => {
                slot.insert(id);
            }
        }
        let text: Arc<str> = Arc::from(text);
        self.texts.push(text.clone());
        self.hashes.push(hash);
        self.shifts.push(shift);
        self.bytes += 2 * text.len() + 88;
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
    /// The text this node's string equals (`NO_TEXT` when none): texts are interned, so there
    /// is at most one. Found once when the node is made, so a read is one comparison.
    equal: u32,
}

/// Trie nodes to make room for per operation up front.
const TRIE_NODES_PER_OP: usize = 16;

/// No text: a node whose string was never read, put or appended as a whole.
const NO_TEXT: u32 = u32::MAX;

struct Trie {
    nodes: Vec<Node>,
    appended: HashMap<(u32, u32), u32>,
    put: HashMap<u32, u32>,
    /// (state, text) pairs whose hashes matched, with whether the strings really are equal.
    confirmed: HashMap<(u32, u32), bool>,
}

impl Trie {
    /// A trie with room for the states `ops` operations are expected to reach: a few per
    /// append, as the search tries it after each state in flight (growing the map as the search
    /// went was a tenth of a 50-client check).
    fn new(ops: usize) -> Self {
        let expected = ops * TRIE_NODES_PER_OP;
        let empty = Node {
            parent: NO_PARENT,
            text: EMPTY,
            len: 0,
            hash: 0,
            equal: EMPTY,
        };
        Trie {
            nodes: {
                let mut nodes = Vec::with_capacity(expected + 1);
                nodes.push(empty);
                nodes
            },
            appended: HashMap::with_capacity(expected),
            put: HashMap::new(),
            confirmed: HashMap::new(),
        }
    }

    /// Adds `node` (its `equal` still to find): the text with its length and hash, if its
    /// strings really match — compared once here, so reads never compare strings.
    fn add(&mut self, texts: &Texts, node: Node) -> u32 {
        let at = self.nodes.len() as u32;
        self.nodes.push(node);
        if let Some(&text) = texts.by_hash.get(&(node.len, node.hash))
            && self.spells(texts, at, text)
        {
            self.nodes[at as usize].equal = text;
        }
        at
    }

    /// Whether the string along `state`'s path is exactly `text`, comparing segments from the
    /// end of the string backwards.
    fn spells(&self, texts: &Texts, state: u32, text: u32) -> bool {
        let target = texts.texts[text as usize].as_bytes();
        let mut end = target.len();
        let mut cur = state;
        while cur != NO_PARENT {
            let n = self.nodes[cur as usize];
            let seg = texts.texts[n.text as usize].as_bytes();
            if !target[..end].ends_with(seg) {
                return false;
            }
            end -= seg.len();
            cur = n.parent;
        }
        end == 0
    }

    fn append(&mut self, texts: &Texts, state: u32, text: u32) -> u32 {
        if let Some(&next) = self.appended.get(&(state, text)) {
            return next;
        }
        let at = self.nodes[state as usize];
        let t = text as usize;
        let next = self.add(
            texts,
            Node {
                parent: state,
                text,
                len: at.len + texts.texts[t].len(),
                hash: at
                    .hash
                    .wrapping_mul(texts.shifts[t])
                    .wrapping_add(texts.hashes[t]),
                equal: NO_TEXT,
            },
        );
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
        let node = self.add(
            texts,
            Node {
                parent: NO_PARENT,
                text,
                len: texts.texts[t].len(),
                hash: texts.hashes[t],
                equal: NO_TEXT,
            },
        );
        self.put.insert(text, node);
        node
    }

    fn equals(&mut self, texts: &Texts, state: u32, text: u32) -> bool {
        let node = self.nodes[state as usize];
        if !texts.collided {
            return node.equal == text;
        }
        let t = text as usize;
        if node.len != texts.texts[t].len() || node.hash != texts.hashes[t] {
            return false;
        }
        if let Some(&same) = self.confirmed.get(&(state, text)) {
            return same;
        }
        let same = self.spells(texts, state, text);
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
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + (self.appended.capacity() + self.put.len() + self.confirmed.len()) * 24
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
            AppendOp::Append(v) => {
                let need = self.after.get(v as usize).copied().unwrap_or(NO_TEXT);
                if need != NO_TEXT && self.ordered.get() && trie.nodes[*state as usize].text != need
                {
                    return None;
                }
                Some(trie.append(&self.texts, *state, v))
            }
        }
    }

    fn read_only(&self, op: &AppendOp) -> bool {
        matches!(op, AppendOp::Get(_))
    }

    fn extra_bytes(&self) -> usize {
        self.texts.bytes() + self.trie.borrow().bytes() + self.after.capacity() * 4
    }

    fn prepare_search(&mut self, ops: &[SearchOp<AppendOp>]) {
        self.after = order::required_predecessors(&self.texts, ops);
        self.ordered.set(self.after.iter().any(|&t| t != NO_TEXT));
    }

    fn prunes_by_reads(&self) -> bool {
        self.ordered.get()
    }

    fn stop_read_pruning(&self) {
        self.ordered.set(false);
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
                        trie: RefCell::new(Trie::new(prepared.len())),
                        lists,
                        after: Vec::new(),
                        ordered: Cell::new(false),
                    },
                    ops: prepared,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model over `texts`, with the (length, hash) index trusted or, as after a collision,
    /// every read compared string by string.
    fn model(texts: &[&str], collided: bool) -> KvAppend {
        let mut interned = Texts::default();
        for t in texts {
            interned.intern(t);
        }
        interned.collided |= collided;
        KvAppend {
            texts: interned,
            trie: RefCell::new(Trie::new(0)),
            lists: false,
            after: Vec::new(),
            ordered: Cell::new(false),
        }
    }

    #[test]
    fn a_read_matches_exactly_the_string_its_state_spells() {
        let texts = ["", "a", "b", "ab", "ba", "abb", "bab"];
        for collided in [false, true] {
            let m = model(&texts, collided);
            let id = |t: &str| m.texts.ids[t];
            let reads = |state: u32| -> Vec<&str> {
                texts
                    .iter()
                    .copied()
                    .filter(|t| m.step(&state, &AppendOp::Get(id(t))) == Some(state))
                    .collect()
            };
            let empty = m.init();
            assert_eq!(reads(empty), [""], "collided: {collided}");
            let a = m.step(&empty, &AppendOp::Append(id("a"))).expect("append");
            let ab = m.step(&a, &AppendOp::Append(id("b"))).expect("append");
            assert_eq!(reads(a), ["a"]);
            assert_eq!(reads(ab), ["ab"]);
            let abb = m.step(&ab, &AppendOp::Append(id("b"))).expect("append");
            assert_eq!(reads(abb), ["abb"]);
            // Another path to a string that was read: "b" + "ab".
            let b = m.step(&abb, &AppendOp::Put(id("b"))).expect("put");
            let bab = m.step(&b, &AppendOp::Append(id("ab"))).expect("append");
            assert_eq!(reads(bab), ["bab"]);
            // A string no text spells: "ab" + "ab".
            let abab = m.step(&ab, &AppendOp::Append(id("ab"))).expect("append");
            assert!(reads(abab).is_empty());
        }
    }
}
