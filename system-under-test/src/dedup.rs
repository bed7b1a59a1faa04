//! The dedup table: the first answer to every `(client_id, seq)` that was applied. It is part of
//! the replicated state (rebuilt by applying the log), so a retry after a failover is still
//! answered from it rather than applied twice.

use std::collections::{BTreeMap, HashMap};

use crate::state_machine::Outcome;

/// First answers by client and sequence number. Unbounded: kvnode's runs are short.
#[derive(Debug, Default)]
pub struct DedupTable {
    by_client: HashMap<String, BTreeMap<u64, Outcome>>,
}

impl DedupTable {
    pub fn get(&self, client_id: &str, seq: u64) -> Option<&Outcome> {
        self.by_client.get(client_id)?.get(&seq)
    }

    /// Remembers the first answer; a later one for the same pair is ignored.
    pub fn record(&mut self, client_id: &str, seq: u64, outcome: Outcome) {
        self.by_client
            .entry(client_id.to_string())
            .or_default()
            .entry(seq)
            .or_insert(outcome);
    }

    /// Number of remembered answers.
    pub fn len(&self) -> usize {
        self.by_client.values().map(BTreeMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
