//! The memo of configurations already explored: (set of linearized operations, model state).
//!
//! Bitsets live in one arena and states in another, so an entry costs its bits, its state and
//! twelve bytes of table, and every growth is claimed from the budget *before* it is allocated:
//! running out of budget is an answer ("unknown"), never an out-of-memory abort.

use std::mem::size_of;

use hashbrown::HashTable;

use super::budget::{Exhausted, SharedBudget};

pub(crate) struct Memo<S> {
    table: HashTable<(u64, u32)>,
    bits: Vec<u64>,
    states: Vec<S>,
    words: usize,
    /// Bytes claimed from the shared budget so far.
    claimed: usize,
    /// Heap bytes held by stored states, as the model reports them.
    state_heap: usize,
}

impl<S: Clone + Eq> Memo<S> {
    pub fn new(words: usize) -> Self {
        Memo {
            table: HashTable::new(),
            bits: Vec::new(),
            states: Vec::new(),
            words,
            claimed: 0,
            state_heap: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Records `(bits, state)` unless it is already there; `Ok(true)` when it was new.
    pub fn insert(
        &mut self,
        hash: u64,
        bits: &[u64],
        state: &S,
        state_heap: usize,
        model_bytes: usize,
        budget: &SharedBudget,
    ) -> Result<bool, Exhausted> {
        let words = self.words;
        let (arena, states) = (&self.bits, &self.states);
        let seen = self.table.find(hash, |&(h, i)| {
            let i = i as usize;
            h == hash && states[i] == *state && arena[i * words..(i + 1) * words] == *bits
        });
        if seen.is_some() {
            return Ok(false);
        }
        self.make_room(state_heap, model_bytes, budget)?;
        let index = self.states.len() as u32;
        self.bits.extend_from_slice(bits);
        self.states.push(state.clone());
        self.state_heap += state_heap;
        self.table.insert_unique(hash, (hash, index), |&(h, _)| h);
        Ok(true)
    }

    /// Grows the arenas and table for one more entry, claiming the bytes first.
    fn make_room(
        &mut self,
        state_heap: usize,
        model_bytes: usize,
        budget: &SharedBudget,
    ) -> Result<(), Exhausted> {
        let configurations = self.states.len() as u64;
        let bits_cap = grown(
            self.bits.capacity(),
            self.bits.len() + self.words,
            64 * self.words,
        );
        let states_cap = grown(self.states.capacity(), self.states.len() + 1, 64);
        let buckets = if self.table.len() < self.table.capacity() {
            self.table.num_buckets()
        } else {
            (self.table.num_buckets() * 2).max(64)
        };
        let table_bytes = |buckets: usize| buckets * (size_of::<(u64, u32)>() + 1);
        let needed = bits_cap * size_of::<u64>()
            + states_cap * size_of::<S>()
            + table_bytes(buckets)
            + self.state_heap
            + state_heap
            + model_bytes;
        // While a buffer grows, the old copy and the new one are both alive: claim the old ones
        // too for that moment, so the peak stays within the budget, not just the steady state.
        let mut transient = 0;
        if bits_cap > self.bits.capacity() {
            transient += self.bits.capacity() * size_of::<u64>();
        }
        if states_cap > self.states.capacity() {
            transient += self.states.capacity() * size_of::<S>();
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
        self.bits
            .try_reserve_exact(bits_cap - self.bits.len())
            .map_err(failed)?;
        self.states
            .try_reserve_exact(states_cap - self.states.len())
            .map_err(failed)?;
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
