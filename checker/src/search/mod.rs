//! The linearizability search for one partition: Wing & Gong's backtracking search with Lowe's
//! just-in-time linearization and a memo of (linearized set, model state) — the algorithm
//! Porcupine and Knossos's `wgl` use.
//!
//! The history is a doubly linked list of call and return entries in history order. Walking from
//! the head, a call entry may be linearized when the model accepts it in the current state and
//! the resulting configuration is new; it is then lifted out of the list (with its return). A
//! return entry reached before its operation was linearized means the choices so far are wrong:
//! backtrack. Pending operations have no return entry, so they may be linearized anywhere after
//! their call, or never. The search succeeds when no return entry is left.
//!
//! No I/O here; the budget is checked every few thousand steps.

pub(crate) mod budget;
mod memo;

use std::hash::BuildHasher;

use budget::{Exhausted, SharedBudget};
use memo::Memo;

use crate::model::{Model, Partition};

const NONE: u32 = u32::MAX;
const HEAD: u32 = 0;
/// Steps between budget checks: a clock read costs about as much as a few hundred steps.
const CHECK_EVERY: u64 = 4096;

/// What the search found for one partition. Indices are positions in `Partition::ops`.
pub(crate) enum Outcome<S> {
    Linearizable {
        configurations: u64,
    },
    NotLinearizable {
        /// The operation whose return was reached, furthest into the history, with no way to
        /// linearize it.
        blocked: usize,
        /// The longest linearization found that reaches that point, in linearization order.
        prefix: Vec<usize>,
        /// The model state after `prefix`.
        state: S,
        configurations: u64,
    },
    Unknown(Exhausted),
    Cancelled,
}

#[derive(Clone, Copy)]
struct Entry {
    /// Position of the operation in the partition.
    op: u32,
    /// For a call entry, its return entry (`NONE` when the operation is pending).
    ret: u32,
    is_call: bool,
    prev: u32,
    next: u32,
}

/// The call/return entries as a linked list that supports lifting an operation out and putting
/// it back in reverse order (dancing links).
struct EntryList {
    entries: Vec<Entry>,
}

impl EntryList {
    fn new<O>(ops: &[crate::model::SearchOp<O>]) -> Self {
        // (history position, is return, op); calls sort before returns at the same position.
        let mut order: Vec<(u64, bool, u32)> = Vec::with_capacity(ops.len() * 2);
        for (i, op) in ops.iter().enumerate() {
            order.push((op.call, false, i as u32));
            if let Some(ret) = op.ret {
                order.push((ret.max(op.call), true, i as u32));
            }
        }
        order.sort_unstable();
        let sentinel = Entry {
            op: NONE,
            ret: NONE,
            is_call: false,
            prev: NONE,
            next: NONE,
        };
        let mut entries = vec![sentinel; order.len() + 1];
        let mut call_entry = vec![NONE; ops.len()];
        for (slot, &(_, is_return, op)) in order.iter().enumerate() {
            let at = slot as u32 + 1;
            entries[at as usize] = Entry {
                op,
                ret: NONE,
                is_call: !is_return,
                prev: at - 1,
                next: if slot + 1 < order.len() { at + 1 } else { NONE },
            };
            if is_return {
                entries[call_entry[op as usize] as usize].ret = at;
            } else {
                call_entry[op as usize] = at;
            }
        }
        entries[HEAD as usize].next = if order.is_empty() { NONE } else { 1 };
        EntryList { entries }
    }

    fn unlink(&mut self, i: u32) {
        let Entry { prev, next, .. } = self.entries[i as usize];
        self.entries[prev as usize].next = next;
        if next != NONE {
            self.entries[next as usize].prev = prev;
        }
    }

    fn relink(&mut self, i: u32) {
        let Entry { prev, next, .. } = self.entries[i as usize];
        self.entries[prev as usize].next = i;
        if next != NONE {
            self.entries[next as usize].prev = i;
        }
    }

    fn lift(&mut self, call: u32) {
        self.unlink(call);
        let ret = self.entries[call as usize].ret;
        if ret != NONE {
            self.unlink(ret);
        }
    }

    fn unlift(&mut self, call: u32) {
        let ret = self.entries[call as usize].ret;
        if ret != NONE {
            self.relink(ret);
        }
        self.relink(call);
    }
}

/// Zobrist keys: the hash of a set of operations is the xor of its members' keys, updated in O(1)
/// as operations are linearized and undone.
fn zobrist_keys(n: usize) -> Vec<u64> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            // splitmix64
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
        .collect()
}

/// Checks one partition within the shared budget.
pub(crate) fn check_partition<M: Model>(
    partition: &Partition<M>,
    budget: &SharedBudget,
) -> Outcome<M::State> {
    let model = &partition.model;
    let ops = &partition.ops;
    let mut list = EntryList::new(ops);
    let mut remaining = ops.iter().filter(|op| op.ret.is_some()).count();
    if remaining == 0 {
        return Outcome::Linearizable { configurations: 0 };
    }
    let words = ops.len().div_ceil(64);
    let zobrist = zobrist_keys(ops.len());
    let hasher = hashbrown::DefaultHashBuilder::default();
    let mut memo: Memo<M::State> = Memo::new(words);
    let mut bits = vec![0u64; words];
    let mut bits_hash = 0u64;
    let mut state = model.init();
    let mut stack: Vec<(u32, M::State)> = Vec::new();
    // The furthest point of the history reached: (return position, ops linearized) and its
    // blocked op, prefix and state, kept for the explanation.
    let mut best: Option<(u64, usize)> = None;
    let mut best_blocked = 0usize;
    let mut best_prefix: Vec<usize> = Vec::new();
    let mut best_state = state.clone();
    let mut steps: u64 = 0;
    let mut entry = list.entries[HEAD as usize].next;

    let outcome = loop {
        steps += 1;
        if steps.is_multiple_of(CHECK_EVERY) {
            if budget.is_cancelled() {
                break Outcome::Cancelled;
            }
            if let Some(exhausted) = budget.out_of_time(memo.len() as u64) {
                break Outcome::Unknown(exhausted);
            }
        }
        let e = if entry == NONE {
            None
        } else {
            Some(list.entries[entry as usize])
        };
        if let Some(e) = e.filter(|e| e.is_call) {
            let op = e.op as usize;
            if let Some(next) = model.step(&state, &ops[op].op) {
                let (word, bit) = (op / 64, 1u64 << (op % 64));
                bits[word] |= bit;
                bits_hash ^= zobrist[op];
                let hash = bits_hash ^ hasher.hash_one(&next).rotate_left(17);
                let heap = model.state_heap_bytes(&next);
                match memo.insert(hash, &bits, &next, heap, model.extra_bytes(), budget) {
                    Err(exhausted) => break Outcome::Unknown(exhausted),
                    Ok(true) => {
                        stack.push((entry, std::mem::replace(&mut state, next)));
                        list.lift(entry);
                        if e.ret != NONE {
                            remaining -= 1;
                            if remaining == 0 {
                                break Outcome::Linearizable {
                                    configurations: memo.len() as u64,
                                };
                            }
                        }
                        entry = list.entries[HEAD as usize].next;
                        continue;
                    }
                    Ok(false) => {
                        bits[word] &= !bit;
                        bits_hash ^= zobrist[op];
                    }
                }
            }
            entry = e.next;
            continue;
        }
        // A return entry whose operation is not linearized (or, defensively, the end of the
        // list): this path is dead. Remember how far it got, then backtrack.
        if let Some(e) = e {
            let at = (ops[e.op as usize].ret.unwrap_or(u64::MAX), stack.len());
            if best.is_none_or(|b| at > b) {
                best = Some(at);
                best_blocked = e.op as usize;
                best_prefix.clear();
                best_prefix.extend(
                    stack
                        .iter()
                        .map(|&(c, _)| list.entries[c as usize].op as usize),
                );
                best_state = state.clone();
            }
        }
        let Some((call, previous)) = stack.pop() else {
            budget.cancel();
            break Outcome::NotLinearizable {
                blocked: best_blocked,
                prefix: std::mem::take(&mut best_prefix),
                state: best_state.clone(),
                configurations: memo.len() as u64,
            };
        };
        state = previous;
        let c = list.entries[call as usize];
        let op = c.op as usize;
        bits[op / 64] &= !(1u64 << (op % 64));
        bits_hash ^= zobrist[op];
        list.unlift(call);
        if c.ret != NONE {
            remaining += 1;
        }
        entry = c.next;
    };
    memo.release(budget);
    outcome
}
