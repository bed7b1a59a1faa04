//! Fault injection built into the node: holding entries back on the leader and isolating the
//! node from its peers (`POST /admin/replication`, `POST /admin/isolate`).

use std::sync::atomic::Ordering;

use tracing::info;

use super::Node;

impl Node {
    /// Holds entries back on the leader (heartbeats go on) while `hold` is set: a
    /// replication link so slow that nothing arrives. Widens async mode's loss window.
    pub fn hold_entries(&self, hold: bool) {
        self.hold_entries.store(hold, Ordering::SeqCst);
        info!(node = self.cfg.id, hold, "replication of entries held");
        if !hold {
            self.wake_replicators();
        }
    }

    pub(super) fn entries_held(&self) -> bool {
        self.hold_entries.load(Ordering::SeqCst)
    }

    /// Cuts (or restores) every link between this node and its peers, in both directions.
    pub fn isolate(&self, isolated: bool) {
        self.isolated.store(isolated, Ordering::SeqCst);
        info!(node = self.cfg.id, isolated, "isolation from peers set");
        if !isolated {
            self.wake_replicators();
        }
    }

    pub fn is_isolated(&self) -> bool {
        self.isolated.load(Ordering::SeqCst)
    }
}
