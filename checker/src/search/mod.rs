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
//! Equal pending operations are interchangeable (neither has a return to meet, and a model's
//! step depends on the op alone), so each is linearized only after the previous equal one: any
//! linearization can be rearranged to respect that order (the earlier call fits wherever the
//! later one was placed), and the search no longer explores every order and subset of them —
//! with Jepsen's small value ranges and timed-out writes, the bulk of the etcd histories' work.
//!
//! An operation that never changes the state (a read: `Model::read_only`) is linearized as soon
//! as it can be, and its alternatives are not tried: from configuration C with such an op r
//! enabled, any successful continuation can move r to the front (the states along it do not
//! change, and r's real-time constraints only get easier), so C succeeds exactly when C + r
//! does. When C + r fails (or the memo already knows it failed), so has C. With 50 clients'
//! reads in flight this is most of the kv histories' search.
//!
//! No I/O here; the budget is checked every few thousand steps.

pub(crate) mod budget;
mod memo;

use std::hash::BuildHasher;

use budget::{Exhausted, SharedBudget};
use memo::{LinearizedSet, Memo};

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

    /// The ops below `top` that are not linearized, other than `except` (about to be), in op
    /// order. They are the first call entries of the list: an op can only have been linearized
    /// once every op whose return precedes its call was, so no return entry comes first.
    fn holes_below(&self, top: u32, except: u32, holes: &mut Vec<u32>) {
        holes.clear();
        let mut at = self.entries[HEAD as usize].next;
        while at != NONE {
            let e = self.entries[at as usize];
            if e.is_call {
                if e.op >= top {
                    break;
                }
                if e.op != except {
                    holes.push(e.op);
                }
            }
            at = e.next;
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

/// How far back (in pending ops) to look for an equal pending op. Linking only nearby ones keeps
/// preparation linear; a link missed costs search time, never a wrong answer.
const TWIN_WINDOW: usize = 64;

/// For each op, the nearest earlier pending op equal to it when it is pending itself (`NONE`
/// otherwise): it may be linearized only once that one is. Links form chains in call order.
fn pending_twins<O: PartialEq>(ops: &[crate::model::SearchOp<O>]) -> Vec<u32> {
    let mut twins = vec![NONE; ops.len()];
    let mut recent: Vec<u32> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        if op.ret.is_some() {
            continue;
        }
        let window = &recent[recent.len().saturating_sub(TWIN_WINDOW)..];
        if let Some(&j) = window.iter().rev().find(|&&j| ops[j as usize].op == op.op) {
            twins[i] = j;
        }
        recent.push(i as u32);
    }
    twins
}

/// Memo entries to make room for per operation up front: the corpus's searches record up to
/// ~100 configurations per operation (kv's 50-client histories), and growing the memo step by
/// step (rehashing, copying, faulting fresh pages in) was a quarter of their time.
const PRESIZE_ENTRIES_PER_OP: usize = 128;
/// At most this many entries up front (~10 MB): beyond, growth is cheap next to the search.
const PRESIZE_MAX_ENTRIES: usize = 1 << 17;
/// Hole words per entry up front: a few operations in flight at the frontier.
const PRESIZE_HOLES_PER_ENTRY: usize = 8;

/// A memo expecting the size of a partition of `ops` operations (memo.rs), if that costs at
/// most a sixteenth of the memory limit (partitions searched in parallel share it).
fn presized_memo<S: Clone + Eq>(ops: usize, budget: &SharedBudget) -> Memo<S> {
    let entries = (ops * PRESIZE_ENTRIES_PER_OP).min(PRESIZE_MAX_ENTRIES);
    let holes = entries * PRESIZE_HOLES_PER_ENTRY;
    let bytes = entries * (size_of::<S>() + 32) + holes * size_of::<u32>();
    if budget
        .memory_limit()
        .is_some_and(|limit| bytes > limit / 16)
    {
        return Memo::new();
    }
    Memo::expecting(entries, holes)
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
    debug_assert!(
        ops.windows(2).all(|w| w[0].call <= w[1].call),
        "ops in call order"
    );
    let zobrist = zobrist_keys(ops.len());
    let twins = pending_twins(ops);
    let mut linearized = vec![false; ops.len()];
    let hasher = hashbrown::DefaultHashBuilder::default();
    let mut memo: Memo<M::State> = presized_memo(ops.len(), budget);
    // The linearized set: its Zobrist hash, its highest op (`top`, NONE when empty) and, built
    // for each candidate, the ops below the top that are not linearized (see memo.rs).
    let mut set_hash = 0u64;
    let mut top = NONE;
    let mut holes: Vec<u32> = Vec::new();
    let mut state = model.init();
    // (call entry, state before it, top before it, read-only: no alternative to try after it)
    let mut stack: Vec<(u32, M::State, u32, bool)> = Vec::new();
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
            if let Some(exhausted) = budget.out_of_time(memo.configurations()) {
                break Outcome::Unknown(exhausted);
            }
        }
        let e = if entry == NONE {
            None
        } else {
            Some(list.entries[entry as usize])
        };
        // Whether this path is dead because a read-only op's configuration already failed.
        let mut forced_dead = false;
        if let Some(e) = e.filter(|e| e.is_call) {
            let op = e.op as usize;
            let twin = twins[op];
            let in_turn = twin == NONE || linearized[twin as usize];
            if let Some(next) = in_turn.then(|| model.step(&state, &ops[op].op)).flatten() {
                let new_top = if top == NONE { e.op } else { top.max(e.op) };
                list.holes_below(new_top, e.op, &mut holes);
                let hash = (set_hash ^ zobrist[op]) ^ hasher.hash_one(&next).rotate_left(17);
                let heap = model.state_heap_bytes(&next);
                let set = LinearizedSet {
                    hash,
                    top: new_top,
                    holes: &holes,
                };
                let inserted = memo.insert(set, &next, (heap, model.extra_bytes()), budget);
                match inserted {
                    Err(exhausted) => break Outcome::Unknown(exhausted),
                    Ok(true) => {
                        set_hash ^= zobrist[op];
                        linearized[op] = true;
                        let forced = model.read_only(&ops[op].op);
                        stack.push((entry, std::mem::replace(&mut state, next), top, forced));
                        top = new_top;
                        list.lift(entry);
                        if e.ret != NONE {
                            remaining -= 1;
                            if remaining == 0 {
                                break Outcome::Linearizable {
                                    configurations: memo.configurations(),
                                };
                            }
                        }
                        entry = list.entries[HEAD as usize].next;
                        continue;
                    }
                    Ok(false) => forced_dead = model.read_only(&ops[op].op),
                }
            }
            if !forced_dead {
                entry = e.next;
                continue;
            }
        }
        // A return entry whose operation is not linearized (or, defensively, the end of the
        // list): this path is dead. Remember how far it got, then backtrack.
        if let Some(e) = e.filter(|_| !forced_dead) {
            let at = (ops[e.op as usize].ret.unwrap_or(u64::MAX), stack.len());
            if best.is_none_or(|b| at > b) {
                best = Some(at);
                best_blocked = e.op as usize;
                best_prefix.clear();
                best_prefix.extend(
                    stack
                        .iter()
                        .map(|(c, _, _, _)| list.entries[*c as usize].op as usize),
                );
                best_state = state.clone();
            }
        }
        // Undo linearizations until one has an alternative left to try: a read-only op has none.
        let mut exhausted_all = true;
        while let Some((call, previous, previous_top, forced)) = stack.pop() {
            state = previous;
            top = previous_top;
            let c = list.entries[call as usize];
            set_hash ^= zobrist[c.op as usize];
            linearized[c.op as usize] = false;
            list.unlift(call);
            if c.ret != NONE {
                remaining += 1;
            }
            if !forced {
                entry = c.next;
                exhausted_all = false;
                break;
            }
        }
        if exhausted_all {
            budget.cancel();
            break Outcome::NotLinearizable {
                blocked: best_blocked,
                prefix: std::mem::take(&mut best_prefix),
                state: best_state.clone(),
                configurations: memo.configurations(),
            };
        }
    };
    memo.release(budget);
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SearchOp;

    fn op(call: u64, ret: Option<u64>) -> SearchOp<()> {
        SearchOp {
            id: call as usize,
            call,
            ret,
            op: (),
        }
    }

    #[test]
    fn holes_are_the_unlinearized_ops_below_the_top() {
        // Ops 0..5 all concurrent (returns after every call), op 2 pending.
        let ops = vec![
            op(0, Some(10)),
            op(1, Some(11)),
            op(2, None),
            op(3, Some(12)),
            op(4, Some(13)),
        ];
        let mut list = EntryList::new(&ops);
        let call_of = |list: &EntryList, op: u32| {
            (1..list.entries.len() as u32)
                .find(|&i| list.entries[i as usize].is_call && list.entries[i as usize].op == op)
                .expect("call entry")
        };
        let mut holes = Vec::new();
        // Linearize op 3, then consider op 1: the set {1, 3} has top 3 and holes {0, 2}.
        let c3 = call_of(&list, 3);
        list.lift(c3);
        list.holes_below(3, 1, &mut holes);
        assert_eq!(holes, [0, 2]);
        // Considering op 4 instead: top 4, holes {0, 1, 2}.
        list.holes_below(4, 4, &mut holes);
        assert_eq!(holes, [0, 1, 2]);
        // After lifting op 0 too, {0, 3} + op 1: holes {2}.
        let c0 = call_of(&list, 0);
        list.lift(c0);
        list.holes_below(3, 1, &mut holes);
        assert_eq!(holes, [2]);
        // Undoing restores the list: {3} + op 1 again has holes {0, 2}.
        list.unlift(c0);
        list.holes_below(3, 1, &mut holes);
        assert_eq!(holes, [0, 2]);
    }
}
