//! Commit and apply: the leader's commit rule per replication mode, applying committed
//! entries and answering the writes that wait for them, truncating a conflicting suffix,
//! and the leader's lease.

use std::sync::Arc;

use tokio::sync::oneshot;
use tracing::warn;

use super::storage::Record;
use super::{Core, Node, Role};
use crate::config::Replication;
use crate::state_machine::StateMachine;

impl Node {
    /// Leader: once `index` is durable locally, counts it towards commit.
    pub(super) async fn track_durable(
        self: Arc<Self>,
        index: u64,
        term: u64,
        synced: oneshot::Receiver<()>,
    ) {
        if synced.await.is_err() {
            return;
        }
        let mut core = self.core();
        if core.role == Role::Leader && core.term == term && index > core.durable_index {
            core.durable_index = index;
            self.advance_commit(&mut core);
        }
    }

    /// Leader: moves the commit index as far as the replication mode allows, and applies.
    pub(super) fn advance_commit(&self, core: &mut Core) {
        if core.role != Role::Leader {
            return;
        }
        let mut acked: Vec<u64> = core.progress.values().map(|p| p.match_index).collect();
        acked.push(core.durable_index);
        acked.sort_unstable_by(|a, b| b.cmp(a));
        let candidate = match self.cfg.replication {
            Replication::Async => core.durable_index,
            Replication::Quorum => acked.get(self.cfg.majority() - 1).copied().unwrap_or(0),
            Replication::Sync => acked.last().copied().unwrap_or(0),
        };
        let current_term_rule = self.cfg.replication == Replication::Async
            || core.log.term_at(candidate) == Some(core.term);
        if candidate > core.commit_index && current_term_rule {
            core.commit_index = candidate;
            self.apply_committed(core);
        }
    }

    /// Applies committed entries in order, answering the writes that wait for them.
    pub(super) fn apply_committed(&self, core: &mut Core) {
        let mut applied = false;
        while core.last_applied < core.commit_index {
            let index = core.last_applied + 1;
            let Some(entry) = core.log.get(index) else {
                break;
            };
            let term = entry.term;
            let outcome = core.sm.apply(&entry.command);
            core.last_applied = index;
            applied = true;
            if let Some(waiter) = core.waiters.remove(&index)
                && waiter.term == term
            {
                let _ = waiter.tx.send(outcome);
            }
        }
        if applied {
            self.bump_progress();
        }
    }

    /// Removes entries `index..` (a conflicting suffix). If applied entries go, the state
    /// machine is rebuilt from the remaining log (only possible in async mode).
    pub(super) fn truncate_from(&self, core: &mut Core, index: u64) {
        self.storage.write(&Record::TruncateFrom { index });
        core.log.truncate_from(index);
        core.waiters.retain(|&i, _| i < index);
        if core.commit_index >= index {
            warn!(
                node = self.cfg.id,
                from = index,
                commit_index = core.commit_index,
                "truncating entries this node had taken as committed"
            );
            core.commit_index = index - 1;
        }
        if core.last_applied >= index {
            core.sm = StateMachine::default();
            core.last_applied = 0;
            self.apply_committed(core);
        }
    }

    /// Node clock time until which a majority (counting acknowledgements sent after a time)
    /// keeps this leader's lease, from the acknowledgements seen so far.
    pub(super) fn update_lease(&self, core: &mut Core) {
        let needed = self.cfg.majority() - 1;
        let until = if needed == 0 {
            self.clock.now_ms() + self.cfg.lease_ms() as i64
        } else {
            let mut walls: Vec<i64> = core.progress.values().map(|p| p.acked_wall_ms).collect();
            walls.sort_unstable_by(|a, b| b.cmp(a));
            match walls.get(needed - 1) {
                Some(&w) if w > 0 => w + self.cfg.lease_ms() as i64,
                _ => 0,
            }
        };
        core.lease_until_ms = core.lease_until_ms.max(until);
    }
}
