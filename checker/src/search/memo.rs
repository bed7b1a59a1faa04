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
//!
//! The memo is a cache: forgetting an entry can cost time (a configuration explored again),
//! never a wrong answer. So when the budget is reached, entries far behind the frontier — which
//! only a very deep backtrack could meet again — are evicted to make room, and only a memo full
//! of entries near the frontier ends the search with "unknown".

use std::mem::size_of;

use hashbrown::HashTable;

use super::budget::{Exhausted, SharedBudget};

/// Entries whose top is this many operations behind the newest one may be evicted.
const EVICTION_DISTANCE: u32 = 4096;

/// A set of linearized operations as the memo keys it (the hash covers the state too).
pub(crate) struct LinearizedSet<'a> {
    pub hash: u64,
    pub top: u32,
    pub holes: &'a [u32],
}

/// One entry's key: its hash, its top and where its holes are in the arena.
#[derive(Clone, Copy)]
struct Key {
    hash: u64,
    top: u32,
    start: u32,
    len: u32,
}

pub(crate) struct Memo<S> {
    /// Indices into `keys` and `states`, hashed by `Key::hash`.
    table: HashTable<u32>,
    /// All entries' holes, back to back.
    holes: Vec<u32>,
    keys: Vec<Key>,
    states: Vec<S>,
    /// Entries ever inserted (evictions do not lower it).
    inserted: u64,
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
            inserted: 0,
            claimed: 0,
            state_heap: 0,
        }
    }

    /// Configurations recorded so far.
    pub fn configurations(&self) -> u64 {
        self.inserted
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
        let seen = self.table.find(hash, |&i| {
            let i = i as usize;
            let k = keys[i];
            k.hash == hash
                && k.top == top
                && k.len as usize == holes.len()
                && states[i] == *state
                && arena[k.start as usize..(k.start + k.len) as usize] == *holes
        });
        if seen.is_some() {
            return Ok(false);
        }
        if let Err(exhausted) = self.make_room(holes.len(), state_heap, model_bytes, budget) {
            let evicted = self.evict_behind(top.saturating_sub(EVICTION_DISTANCE));
            if !(evicted && self.has_room(holes.len())) {
                return Err(exhausted);
            }
        }
        let index = self.states.len() as u32;
        self.keys.push(Key {
            hash,
            top,
            start: self.holes.len() as u32,
            len: holes.len() as u32,
        });
        self.holes.extend_from_slice(holes);
        self.states.push(state.clone());
        self.state_heap += state_heap;
        self.inserted += 1;
        let keys = &self.keys;
        self.table
            .insert_unique(hash, index, |&i| keys[i as usize].hash);
        Ok(true)
    }

    /// Whether one more entry fits in the buffers as they are, without allocating.
    fn has_room(&self, holes: usize) -> bool {
        self.holes.len() + holes <= self.holes.capacity()
            && self.states.len() < self.states.capacity()
            && self.keys.len() < self.keys.capacity()
            && self.table.len() < self.table.capacity()
    }

    /// Forgets every entry whose top is below `min_top`, compacting the buffers in place (their
    /// allocations, and so the bytes claimed, stay for the entries to come). True when anything
    /// was forgotten.
    fn evict_behind(&mut self, min_top: u32) -> bool {
        let n = self.keys.len();
        let (mut kept, mut hole_end) = (0usize, 0usize);
        for i in 0..n {
            let k = self.keys[i];
            if k.top < min_top {
                continue;
            }
            let (start, len) = (k.start as usize, k.len as usize);
            self.holes.copy_within(start..start + len, hole_end);
            self.keys[kept] = Key {
                start: hole_end as u32,
                ..k
            };
            self.states.swap(kept, i);
            hole_end += len;
            kept += 1;
        }
        if kept == n {
            return false;
        }
        self.keys.truncate(kept);
        self.holes.truncate(hole_end);
        self.states.truncate(kept);
        self.table.clear();
        let keys = &self.keys;
        for (i, k) in keys.iter().enumerate() {
            self.table
                .insert_unique(k.hash, i as u32, |&j| keys[j as usize].hash);
        }
        true
    }

    /// Grows the arenas and table for one more entry, claiming the bytes first.
    fn make_room(
        &mut self,
        holes: usize,
        state_heap: usize,
        model_bytes: usize,
        budget: &SharedBudget,
    ) -> Result<(), Exhausted> {
        let configurations = self.inserted;
        let holes_cap = grown(self.holes.capacity(), self.holes.len() + holes, 256);
        let states_cap = grown(self.states.capacity(), self.states.len() + 1, 64);
        let buckets = if self.table.len() < self.table.capacity() {
            self.table.num_buckets()
        } else {
            (self.table.num_buckets() * 2).max(64)
        };
        let entry_bytes = size_of::<S>() + size_of::<Key>();
        let table_bytes = |buckets: usize| buckets * (size_of::<u32>() + 1);
        let needed = holes_cap * size_of::<u32>()
            + states_cap * entry_bytes
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
            transient += self.states.capacity() * entry_bytes;
        }
        if buckets > self.table.num_buckets() {
            transient += table_bytes(self.table.num_buckets());
        }
        if needed + transient > self.claimed {
            budget.claim(needed + transient - self.claimed, configurations)?;
            self.claimed = needed + transient;
        }
        let failed = || Exhausted::Memory {
            limit: usize::MAX,
            configurations,
        };
        self.holes
            .try_reserve_exact(holes_cap - self.holes.len())
            .map_err(|_| failed())?;
        self.states
            .try_reserve_exact(states_cap - self.states.len())
            .map_err(|_| failed())?;
        self.keys
            .try_reserve_exact(states_cap - self.keys.len())
            .map_err(|_| failed())?;
        if self.table.len() == self.table.capacity() {
            let keys = &self.keys;
            self.table
                .try_reserve(self.table.len().max(56), |&i| keys[i as usize].hash)
                .map_err(|_| failed())?;
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
