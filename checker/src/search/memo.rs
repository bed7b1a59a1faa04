//! The memo of configurations already explored: (set of linearized operations, model state).
//!
//! A set of linearized operations is stored as its highest operation `top` and the operations
//! below `top` that are *not* linearized (the "holes"). The search linearizes roughly in history
//! order, so the holes are the few operations in flight at the frontier (and pending ones never
//! placed): an entry costs a few words however long the history is, where a bitset would cost
//! one bit per operation of the whole history.
//!
//! Holes live in one arena and states in another, so an entry costs its holes, its state and a
//! few words of table, and every growth is claimed from the budget *before* it is allocated:
//! running out of budget is an answer ("unknown"), never an out-of-memory abort.

use std::mem::size_of;

use hashbrown::HashTable;

use super::budget::{Exhausted, SharedBudget};

/// A set of linearized operations as the memo keys it (the hash covers the state too).
pub(crate) struct LinearizedSet<'a> {
    pub hash: u64,
    pub top: u32,
    pub holes: &'a [u32],
}

pub(crate) struct Memo<S> {
    table: HashTable<(u64, u32)>,
    /// All entries' holes, back to back.
    holes: Vec<u32>,
    /// Per entry: (top, start of its holes in `holes`, number of holes).
    keys: Vec<(u32, u32, u32)>,
    states: Vec<S>,
    /// Bytes claimed from the shared budget so far.
    claimed: usize,
    /// Heap bytes held by stored states, as the model reports them.
    state_heap: usize,
}

impl<S: Clone + Eq> Memo<S> {
    pub fn new() -> Self {
        Memo {
            table: HashTable::new(),
            holes: Vec::new(),
            keys: Vec::new(),
            states: Vec::new(),
            claimed: 0,
            state_heap: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Records `(set, state)` unless it is already there; `Ok(true)` when it was new.
    /// `state_heap` and `model_bytes` are what the model reports, for the budget.
    pub fn insert(
        &mut self,
        set: LinearizedSet<'_>,
        state: &S,
        (state_heap, model_bytes): (usize, usize),
        budget: &SharedBudget,
    ) -> Result<bool, Exhausted> {
        let LinearizedSet { hash, top, holes } = set;
        let (arena, keys, states) = (&self.holes, &self.keys, &self.states);
        let seen = self.table.find(hash, |&(h, i)| {
            let i = i as usize;
            let (t, start, len) = keys[i];
            h == hash
                && t == top
                && len as usize == holes.len()
                && states[i] == *state
                && arena[start as usize..(start + len) as usize] == *holes
        });
        if seen.is_some() {
            return Ok(false);
        }
        self.make_room(holes.len(), state_heap, model_bytes, budget)?;
        let index = self.states.len() as u32;
        self.keys
            .push((top, self.holes.len() as u32, holes.len() as u32));
        self.holes.extend_from_slice(holes);
        self.states.push(state.clone());
        self.state_heap += state_heap;
        self.table.insert_unique(hash, (hash, index), |&(h, _)| h);
        Ok(true)
    }

    /// Grows the arenas and table for one more entry, claiming the bytes first.
    fn make_room(
        &mut self,
        holes: usize,
        state_heap: usize,
        model_bytes: usize,
        budget: &SharedBudget,
    ) -> Result<(), Exhausted> {
        let configurations = self.states.len() as u64;
        let holes_cap = grown(self.holes.capacity(), self.holes.len() + holes, 256);
        let states_cap = grown(self.states.capacity(), self.states.len() + 1, 64);
        let buckets = if self.table.len() < self.table.capacity() {
            self.table.num_buckets()
        } else {
            (self.table.num_buckets() * 2).max(64)
        };
        let table_bytes = |buckets: usize| buckets * (size_of::<(u64, u32)>() + 1);
        let needed = holes_cap * size_of::<u32>()
            + states_cap * (size_of::<S>() + size_of::<(u32, u32, u32)>())
            + table_bytes(buckets)
            + self.state_heap
            + state_heap
            + model_bytes;
        // While a buffer grows, the old copy and the new one are both alive: claim the old ones
        // too for that moment, so the peak stays within the budget, not just the steady state.
        let mut transient = 0;
        if holes_cap > self.holes.capacity() {
            transient += self.holes.capacity() * size_of::<u32>();
        }
        if states_cap > self.states.capacity() {
            transient += self.states.capacity() * (size_of::<S>() + size_of::<(u32, u32, u32)>());
        }
        if buckets > self.table.num_buckets() {
            transient += table_bytes(self.table.num_buckets());
        }
        if needed + transient > self.claimed {
            budget.claim(needed + transient - self.claimed, configurations)?;
            self.claimed = needed + transient;
        }
        let failed = |_| Exhausted::Memory {
            limit: usize::MAX,
            configurations,
        };
        self.holes
            .try_reserve_exact(holes_cap - self.holes.len())
            .map_err(failed)?;
        self.states
            .try_reserve_exact(states_cap - self.states.len())
            .map_err(failed)?;
        self.keys
            .try_reserve_exact(states_cap - self.keys.len())
            .map_err(|_| Exhausted::Memory {
                limit: usize::MAX,
                configurations,
            })?;
        if self.table.len() == self.table.capacity() {
            self.table
                .try_reserve(self.table.len().max(56), |&(h, _)| h)
                .map_err(|_| Exhausted::Memory {
                    limit: usize::MAX,
                    configurations,
                })?;
        }
        if transient > 0 {
            budget.release(transient);
            self.claimed -= transient;
        }
        Ok(())
    }

    /// Gives the claimed bytes back to the budget (the memo is being dropped).
    pub fn release(&mut self, budget: &SharedBudget) {
        budget.release(self.claimed);
        self.claimed = 0;
    }
}

/// The capacity to hold `needed`, doubling from `capacity` (at least `minimum`).
fn grown(capacity: usize, needed: usize, minimum: usize) -> usize {
    if needed <= capacity {
        capacity
    } else {
        needed.max(capacity * 2).max(minimum)
    }
}
