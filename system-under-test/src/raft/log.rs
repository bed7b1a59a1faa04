//! The in-memory replicated log: entries with (term, index), index 1 first.

use serde::{Deserialize, Serialize};

use crate::state_machine::Command;

/// One log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub term: u64,
    pub index: u64,
    pub command: Command,
}

/// Entries `1..=last_index()`; `entries[i].index == i + 1`.
#[derive(Debug, Default)]
pub struct Log {
    entries: Vec<Entry>,
}

impl Log {
    pub fn last_index(&self) -> u64 {
        self.entries.len() as u64
    }

    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(0, |e| e.term)
    }

    /// The term at `index`; index 0 (before the log) has term 0.
    pub fn term_at(&self, index: u64) -> Option<u64> {
        if index == 0 {
            return Some(0);
        }
        self.get(index).map(|e| e.term)
    }

    pub fn get(&self, index: u64) -> Option<&Entry> {
        let i = usize::try_from(index.checked_sub(1)?).ok()?;
        self.entries.get(i)
    }

    /// Up to `max` entries starting at `from`.
    pub fn slice(&self, from: u64, max: usize) -> Vec<Entry> {
        let start = (from.max(1) - 1) as usize;
        self.entries.iter().skip(start).take(max).cloned().collect()
    }

    /// Appends an entry whose index must be `last_index() + 1`.
    pub fn push(&mut self, entry: Entry) {
        debug_assert_eq!(entry.index, self.last_index() + 1);
        self.entries.push(entry);
    }

    /// Drops entries `index..`.
    pub fn truncate_from(&mut self, index: u64) {
        self.entries.truncate(index.saturating_sub(1) as usize);
    }

    /// The first index of the run of entries with `term` that ends at `index`.
    pub fn first_index_of_term_run(&self, index: u64) -> u64 {
        let Some(term) = self.term_at(index) else {
            return index;
        };
        let mut i = index;
        while i > 1 && self.term_at(i - 1) == Some(term) {
            i -= 1;
        }
        i
    }
}
