//! Log replication: the leader's per-peer replicator (entries and heartbeats), the follower's
//! side of AppendEntries, and client writes.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::oneshot;
use tracing::{debug, info};

use super::log::Entry;
use super::rpc::{AppendRequest, AppendResponse};
use super::storage::Record;
use super::{Node, Role, Waiter, WriteError};
use crate::state_machine::{Command, Op, Outcome};

/// Most entries sent in one AppendEntries request.
pub const MAX_BATCH: usize = 256;

/// One request as the replicator sent it.
struct Sent {
    req: AppendRequest,
    round: u64,
    wall_ms: i64,
    at: Instant,
}

impl Node {
    /// Leader side, one task per peer: sends entries when there are some, heartbeats otherwise.
    pub(crate) async fn run_replicator(self: Arc<Self>, peer_index: usize) {
        let Some(peer) = self.peers.get(peer_index) else {
            return;
        };
        let heartbeat = self.cfg.heartbeat();
        loop {
            if self.is_isolated() {
                tokio::time::sleep(heartbeat).await;
                continue;
            }
            let Some(sent) = self.build_append(peer.id) else {
                let _ = tokio::time::timeout(heartbeat, peer.wake.notified()).await;
                continue;
            };
            match self.client.append(peer.addr, &sent.req).await {
                Ok(resp) => self.handle_append_response(peer.id, &sent, &resp),
                Err(e) => {
                    debug!(node = self.cfg.id, peer = peer.id, "append failed: {e}");
                    tokio::time::sleep(heartbeat).await;
                    continue;
                }
            }
            if !self.has_more_for(peer.id) {
                let _ = tokio::time::timeout(heartbeat, peer.wake.notified()).await;
            }
        }
    }

    fn build_append(&self, peer_id: u64) -> Option<Sent> {
        let core = self.core();
        if core.role != Role::Leader {
            return None;
        }
        let progress = core.progress.get(&peer_id)?;
        let next = progress.next_index.clamp(1, core.log.last_index() + 1);
        let prev_log_index = next - 1;
        let prev_log_term = core.log.term_at(prev_log_index)?;
        let req = AppendRequest {
            term: core.term,
            leader_id: self.cfg.id,
            prev_log_index,
            prev_log_term,
            entries: if self.entries_held() {
                Vec::new()
            } else {
                core.log.slice(next, MAX_BATCH)
            },
            leader_commit: core.commit_index,
        };
        Some(Sent {
            req,
            round: core.round,
            wall_ms: self.clock.now_ms(),
            at: Instant::now(),
        })
    }

    fn has_more_for(&self, peer_id: u64) -> bool {
        let core = self.core();
        core.role == Role::Leader
            && !self.entries_held()
            && core
                .progress
                .get(&peer_id)
                .is_some_and(|p| p.next_index <= core.log.last_index())
    }

    fn handle_append_response(&self, peer_id: u64, sent: &Sent, resp: &AppendResponse) {
        let mut core = self.core();
        if resp.term > core.term {
            self.become_follower(
                &mut core,
                resp.term,
                "saw a higher term in an append answer",
            );
            return;
        }
        if core.role != Role::Leader || core.term != sent.req.term {
            return;
        }
        let Some(p) = core.progress.get_mut(&peer_id) else {
            return;
        };
        p.acked_round = p.acked_round.max(sent.round);
        p.acked_wall_ms = p.acked_wall_ms.max(sent.wall_ms);
        p.acked_at = p.acked_at.max(sent.at);
        if resp.success {
            p.match_index = p.match_index.max(resp.match_index);
            p.next_index = p.next_index.max(p.match_index + 1);
        } else {
            let upper = sent.req.prev_log_index.max(1);
            p.next_index = resp.conflict_index.clamp(1, upper);
        }
        self.update_lease(&mut core);
        self.advance_commit(&mut core);
        self.bump_progress();
    }

    /// Follower side of AppendEntries: consistency check, conflicting-suffix truncation,
    /// duplicates acknowledged without being stored; answers once the entries are durable.
    pub async fn handle_append(self: &Arc<Self>, req: AppendRequest) -> AppendResponse {
        let (resp, synced) = {
            let mut core = self.core();
            if core.suspected == Some((req.leader_id, req.term)) {
                core.stats.false_suspicions += 1;
                core.suspected = None;
            }
            let reject = |term, conflict_index| AppendResponse {
                term,
                success: false,
                match_index: 0,
                conflict_index,
            };
            if req.term < core.term {
                return reject(core.term, 0);
            }
            if req.term > core.term || core.role != Role::Follower {
                self.become_follower(&mut core, req.term, "heard from the leader");
            }
            let now = Instant::now();
            if core.leader_id != Some(req.leader_id) {
                core.leader_id = Some(req.leader_id);
                core.stats.leadership_changes += 1;
                info!(
                    node = self.cfg.id,
                    term = core.term,
                    leader = req.leader_id,
                    "following a new leader"
                );
            }
            core.last_leader_contact = Some(now);
            core.election_deadline = now + self.cfg.random_election_timeout();

            if req.prev_log_index > core.log.last_index() {
                return reject(core.term, core.log.last_index() + 1);
            }
            if core.log.term_at(req.prev_log_index) != Some(req.prev_log_term) {
                let conflict = core.log.first_index_of_term_run(req.prev_log_index);
                return reject(core.term, conflict);
            }
            let mut last_matching = req.prev_log_index;
            let has_entries = !req.entries.is_empty();
            for entry in req.entries {
                if entry.index <= core.log.last_index() {
                    if core.log.term_at(entry.index) == Some(entry.term) {
                        // Already held: acknowledged, not stored again.
                        last_matching = entry.index;
                        continue;
                    }
                    self.truncate_from(&mut core, entry.index);
                }
                if entry.index != core.log.last_index() + 1 {
                    break;
                }
                last_matching = entry.index;
                self.store_entry(&mut core, entry);
            }
            let new_commit = req.leader_commit.min(last_matching);
            if new_commit > core.commit_index {
                core.commit_index = new_commit;
                self.apply_committed(&mut core);
            }
            let resp = AppendResponse {
                term: core.term,
                success: true,
                match_index: last_matching,
                conflict_index: 0,
            };
            (resp, has_entries.then(|| self.storage.sync()))
        };
        if let Some(synced) = synced {
            let _ = synced.await;
        }
        resp
    }

    fn store_entry(&self, core: &mut super::Core, entry: Entry) {
        self.storage.write(&Record::Entry {
            entry: entry.clone(),
        });
        core.log.push(entry);
    }

    /// A client write: appended by the leader, answered per the replication mode. A retry of
    /// an applied `(client_id, seq)` gets the first answer without a new entry.
    pub async fn write(
        self: &Arc<Self>,
        client_id: String,
        seq: u64,
        op: Op,
    ) -> Result<Outcome, WriteError> {
        let (rx, index, term, synced) = {
            let mut core = self.core();
            if core.role != Role::Leader {
                return Err(WriteError::NotLeader {
                    leader: core.leader_id,
                });
            }
            if let Some(first) = core.sm.answered(&client_id, seq) {
                return Ok(first.clone());
            }
            let command = Command { client_id, seq, op };
            let (index, synced) = self.append_local(&mut core, command);
            let (tx, rx) = oneshot::channel();
            let term = core.term;
            core.waiters.insert(index, Waiter { term, tx });
            (rx, index, term, synced)
        };
        self.wake_replicators();
        tokio::spawn(self.clone().track_durable(index, term, synced));
        match tokio::time::timeout(self.cfg.request_timeout(), rx).await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(_)) => Err(WriteError::LeadershipLost),
            Err(_) => Err(WriteError::Timeout),
        }
    }
}
