//! The memo of configurations already explored: (set of linearized operations, model state).
//!
//! A set of linearized operations is stored as its highest operation `top` and the operations
//! below `top` that are *not* linearized (the "holes"). The search linearizes roughly in history
//! order, so the holes are the few operations in flight at the frontier (and pending ones never
//! placed): an entry costs a few words however long the history is, where a bitset would cost
//! one bit per operation of the whole history.
//!
//! Holes live in one arena and entries (key and state side by side, so a probe that finds its
//! entry reads one cache line for both) in another, so an entry costs its holes, its state and a
//! few words of table, and every growth is claimed from the budget *before* it is allocated:
//! running out of budget is an answer ("unknown"), never an out-of-memory abort.
//!
//! The memo is a cache: forgetting an entry can cost time (a configuration explored again),
//! never a wrong answer. So when the budget is reached, entries far behind the frontier — which
//! only a very deep backtrack could meet again — are evicted to make room, and only a memo full
//! of entries near the frontier ends the search with "unknown".

use std::mem::size_of;

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use super::budget::{Exhausted, SharedBudget};

/// Entries whose top is this many operations behind the newest one may be evicted.
const EVICTION_DISTANCE: u32 = 4096;

/// Entries past which a growing memo makes room for all it expects at once.
const JUMP_AT: usize = 4096;

/// A set of linearized operations as the memo keys it (the hash covers the state too).
pub(crate) struct LinearizedSet<'a> {
    pub hash: u64,
    pub top: u32,
    pub holes: &'a [u32],
}

/// One entry: its hash, its top, where its holes are in the arena, and its state.
struct Key<S> {
    hash: u64,
    top: u32,
    start: u32,
    len: u32,
    state: S,
}

pub(crate) struct Memo<S> {
    /// Indices into `keys`, hashed by `Key::hash`.
    table: HashTable<u32>,
    /// All entries' holes, back to back.
    holes: Vec<u32>,
    keys: Vec<Key<S>>,
    /// Entries ever inserted (evictions do not lower it).
    inserted: u64,
    /// Bytes claimed from the shared budget so far.
    claimed: usize,
    /// Heap bytes held by stored states, as the model reports them.
    state_heap: usize,
    /// (entries, hole words) to make room for at once when the memo outgrows `JUMP_AT`.
    expected: (usize, usize),
}

impl<S: Clone + Eq> Memo<S> {
    /// Bytes of one entry in `keys`.
    const ENTRY_BYTES: usize = size_of::<Key<S>>();

    /// Bytes of a table of `buckets` buckets: an index and a control byte each.
    fn table_bytes(buckets: usize) -> usize {
        buckets * (size_of::<u32>() + 1)
    }

    pub fn new() -> Self {
        Memo {
            table: HashTable::new(),
            holes: Vec::new(),
            keys: Vec::new(),
            inserted: 0,
            claimed: 0,
            state_heap: 0,
            expected: (0, 0),
        }
    }

    /// A memo that, once its searches prove more than small, makes room for `entries` entries
    /// and `hole_words` holes at once, rather than doubling its way there: growing step by step
    /// (rehashing, copying, faulting fresh pages in) was a quarter of a 50-client kv check. Small
    /// searches (most of the corpus) never pay for the room.
    pub fn expecting(entries: usize, hole_words: usize) -> Self {
        Memo {
            expected: (entries, hole_words),
            ..Memo::new()
        }
    }

    /// Bytes the buffers hold as allocated.
    fn buffer_bytes(&self) -> usize {
        self.holes.capacity() * size_of::<u32>()
            + self.keys.capacity() * Self::ENTRY_BYTES
            + Self::table_bytes(self.table.num_buckets())
    }

    /// Makes room for `entries` entries and `hole_words` holes in all, claiming the new buffers
    /// from the budget before allocating them (the old ones, already claimed, are alive beside
    /// them while entries move), then giving back what was claimed beyond what is held. False,
    /// with nothing claimed, when the budget cannot afford it.
    fn reserve_to(&mut self, entries: usize, hole_words: usize, budget: &SharedBudget) -> bool {
        let grow_table = entries > self.table.capacity();
        // hashbrown keeps a table at most 7/8 full, in a power of two of buckets: this bounds
        // the buckets its `reserve` allocates from above.
        let buckets_bound = (entries * 8 / 7 + 1).next_power_of_two().max(32);
        let bound = hole_words * size_of::<u32>()
            + entries * Self::ENTRY_BYTES
            + if grow_table {
                Self::table_bytes(buckets_bound)
            } else {
                0
            };
        if budget.claim(bound, self.inserted).is_err() {
            return false;
        }
        let old = self.buffer_bytes();
        let mut reserved = self
            .holes
            .try_reserve_exact(hole_words.saturating_sub(self.holes.len()))
            .is_ok()
            && self
                .keys
                .try_reserve_exact(entries.saturating_sub(self.keys.len()))
                .is_ok();
        if reserved && grow_table {
            let keys = &self.keys;
            reserved = self
                .table
                .try_reserve(entries - self.table.len(), |&i| keys[i as usize].hash)
                .is_ok();
            debug_assert!(!reserved || self.table.num_buckets() <= buckets_bound);
        }
        // Claimed: the old buffers (before) and `bound`; held: the buffers as they are now.
        let held = self.buffer_bytes();
        let excess = (old + bound).saturating_sub(held);
        self.claimed = self.claimed + bound - excess;
        budget.release(excess);
        reserved
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
        let index = self.keys.len() as u32;
        let (arena, keys) = (&self.holes, &self.keys);
        let same = |&i: &u32| {
            let i = i as usize;
            let k = &keys[i];
            k.hash == hash
                && k.top == top
                && k.len as usize == holes.len()
                && k.state == *state
                && arena[k.start as usize..(k.start + k.len) as usize] == *holes
        };
        if self.has_room(holes.len()) {
            // One probe finds the entry or the slot for it. With room in the table the entry
            // API never grows it, so nothing is allocated here without a claim.
            match self.table.entry(hash, same, |&i| keys[i as usize].hash) {
                Entry::Occupied(_) => return Ok(false),
                Entry::Vacant(slot) => {
                    slot.insert(index);
                }
            }
            self.push(hash, top, holes, state, state_heap);
            return Ok(true);
        }
        if self.table.find(hash, same).is_some() {
            return Ok(false);
        }
        let (entries, hole_words) = self.expected;
        if self.keys.len() >= JUMP_AT && entries > self.keys.capacity() {
            // Tried once: if the budget cannot afford it, growth goes on step by step.
            self.expected = (0, 0);
            self.reserve_to(
                entries,
                hole_words.max(self.holes.len() + holes.len()),
                budget,
            );
        }
        if let Err(exhausted) = self.make_room(holes.len(), state_heap, model_bytes, budget) {
            let evicted = self.evict_behind(top.saturating_sub(EVICTION_DISTANCE));
            if !(evicted && self.has_room(holes.len())) {
                return Err(exhausted);
            }
        }
        let index = self.keys.len() as u32;
        self.push(hash, top, holes, state, state_heap);
        let keys = &self.keys;
        self.table
            .insert_unique(hash, index, |&i| keys[i as usize].hash);
        Ok(true)
    }

    /// Appends an entry's key, holes and state (the table entry is the caller's); the buffers
    /// have room for it.
    fn push(&mut self, hash: u64, top: u32, holes: &[u32], state: &S, state_heap: usize) {
        self.keys.push(Key {
            hash,
            top,
            start: self.holes.len() as u32,
            len: holes.len() as u32,
            state: state.clone(),
        });
        self.holes.extend_from_slice(holes);
        self.state_heap += state_heap;
        self.inserted += 1;
    }

    /// Whether one more entry fits in the buffers as they are, without allocating.
    fn has_room(&self, holes: usize) -> bool {
        self.holes.len() + holes <= self.holes.capacity()
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
            let k = &self.keys[i];
            if k.top < min_top {
                continue;
            }
            let (start, len) = (k.start as usize, k.len as usize);
            self.holes.copy_within(start..start + len, hole_end);
            self.keys.swap(kept, i);
            self.keys[kept].start = hole_end as u32;
            hole_end += len;
            kept += 1;
        }
        if kept == n {
            return false;
        }
        self.keys.truncate(kept);
        self.holes.truncate(hole_end);
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
        let states_cap = grown(self.keys.capacity(), self.keys.len() + 1, 64);
        let buckets = if self.table.len() < self.table.capacity() {
            self.table.num_buckets()
        } else {
            (self.table.num_buckets() * 2).max(64)
        };
        let entry_bytes = Self::ENTRY_BYTES;
        let table_bytes = Self::table_bytes;
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
        if states_cap > self.keys.capacity() {
            transient += self.keys.capacity() * entry_bytes;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::budget::Budget;

    fn budget(limit: usize) -> SharedBudget {
        SharedBudget::new(Budget {
            timeout: None,
            memory_limit: Some(limit),
        })
    }

    fn insert(memo: &mut Memo<u32>, top: u32, budget: &SharedBudget) -> Result<bool, Exhausted> {
        let set = LinearizedSet {
            hash: u64::from(top).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            top,
            holes: &[0, 1],
        };
        memo.insert(set, &7, (0, 0), budget)
    }

    #[test]
    fn a_memo_past_the_jump_makes_room_for_all_it_expects_and_claims_what_it_holds() {
        let b = budget(64 << 20);
        let mut memo: Memo<u32> = Memo::expecting(20_000, 80_000);
        for top in 0..JUMP_AT as u32 {
            assert_eq!(insert(&mut memo, top, &b), Ok(true));
        }
        assert!(
            memo.keys.capacity() < 20_000,
            "small searches never pay for the room"
        );
        assert_eq!(insert(&mut memo, JUMP_AT as u32, &b), Ok(true));
        assert!(memo.table.capacity() >= 20_000 && memo.keys.capacity() >= 20_000);
        assert!(memo.holes.capacity() >= 80_000);
        let held = memo.buffer_bytes();
        assert!(
            memo.claimed >= held,
            "claimed {} < held {held}",
            memo.claimed
        );
        assert!(b.peak() >= held);
        // Filling the room it made allocates nothing more, so claims nothing more.
        let claimed = memo.claimed;
        for top in JUMP_AT as u32 + 1..20_000 {
            assert_eq!(insert(&mut memo, top, &b), Ok(true));
        }
        assert_eq!(insert(&mut memo, 5, &b), Ok(false), "seen before");
        assert_eq!((memo.claimed, memo.buffer_bytes()), (claimed, held));
        memo.release(&b);
        // Everything was given back: the whole limit can be claimed again.
        assert_eq!(b.claim(64 << 20, 0), Ok(()));
    }

    #[test]
    fn a_jump_the_budget_cannot_afford_is_skipped_and_growth_goes_on() {
        let b = budget(1 << 20);
        let mut memo: Memo<u32> = Memo::expecting(1_000_000, 8_000_000);
        for top in 0..2 * JUMP_AT as u32 {
            assert_eq!(insert(&mut memo, top, &b), Ok(true));
        }
        assert!(memo.keys.capacity() < 1_000_000);
        assert!(memo.claimed >= memo.buffer_bytes() && memo.claimed <= 1 << 20);
    }
}
