//! What a node reports about itself: `GET /status` and `GET /admin/kv`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Core, Node, Role};
use crate::config::{ReadMode, Replication};
use crate::state_machine::Value;

/// What `GET /status` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub id: u64,
    pub role: Role,
    pub term: u64,
    pub leader: Option<u64>,
    pub leader_addr: Option<String>,
    pub voted_for: Option<u64>,
    pub commit_index: u64,
    pub last_applied: u64,
    pub last_log_index: u64,
    pub last_log_term: u64,
    pub elections_started: u64,
    pub leadership_changes: u64,
    pub false_suspicions: u64,
    pub wall_clock_ms: i64,
    pub clock_offset_ms: i64,
    pub clock_rate: f64,
    pub lease_valid: bool,
    pub entries_held: bool,
    pub isolated: bool,
    pub replication: Replication,
    pub reads: ReadMode,
}

/// A snapshot of the applied state (GET /admin/kv).
#[derive(Debug, Clone, Serialize)]
pub struct Dump {
    pub id: u64,
    pub commit_index: u64,
    pub last_applied: u64,
    pub data: BTreeMap<String, Value>,
}

impl Node {
    /// Whether this node is leader with a lease that holds at node-clock time `now_ms`. A
    /// single-node cluster needs no one's promise: its leader always holds the lease.
    pub(super) fn lease_holds(&self, core: &Core, now_ms: i64) -> bool {
        core.role == Role::Leader && (self.cfg.majority() == 1 || now_ms < core.lease_until_ms)
    }

    /// The current status.
    pub fn status(&self) -> Status {
        let core = self.core();
        let (clock_offset_ms, clock_rate) = self.clock.settings();
        let wall_clock_ms = self.clock.now_ms();
        Status {
            id: self.cfg.id,
            role: core.role,
            term: core.term,
            leader: core.leader_id,
            leader_addr: core
                .leader_id
                .and_then(|id| self.cfg.peer_addr(id))
                .map(|a| a.to_string()),
            voted_for: core.voted_for,
            commit_index: core.commit_index,
            last_applied: core.last_applied,
            last_log_index: core.log.last_index(),
            last_log_term: core.log.last_term(),
            elections_started: core.stats.elections_started,
            leadership_changes: core.stats.leadership_changes,
            false_suspicions: core.stats.false_suspicions,
            wall_clock_ms,
            clock_offset_ms,
            clock_rate,
            lease_valid: self.lease_holds(&core, wall_clock_ms),
            entries_held: self.entries_held(),
            isolated: self.is_isolated(),
            replication: self.cfg.replication,
            reads: self.cfg.reads,
        }
    }

    /// The applied key-value state.
    pub fn dump(&self) -> Dump {
        let core = self.core();
        Dump {
            id: self.cfg.id,
            commit_index: core.commit_index,
            last_applied: core.last_applied,
            data: core.sm.data().clone(),
        }
    }
}
