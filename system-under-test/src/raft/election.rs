//! Elections: the failure detector (election timer), candidacy, vote requests and answers,
//! and the leader's check that a majority still hears it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::time::MissedTickBehavior;
use tracing::{debug, warn};

use super::rpc::{VoteRequest, VoteResponse};
use super::{Core, Node, Role};
use crate::config::ReadMode;

/// How often timers are checked.
const TICK: Duration = Duration::from_millis(10);

impl Node {
    /// Checks the election timer (followers, candidates) and quorum contact (leader) forever.
    pub(crate) async fn run_ticker(self: Arc<Self>) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            self.tick();
        }
    }

    fn tick(self: &Arc<Self>) {
        let mut core = self.core();
        let now = Instant::now();
        match core.role {
            Role::Leader if self.cfg.check_quorum => {
                let limit = Duration::from_millis(self.cfg.election_timeout_ms.max);
                if let Some(contact) = self.majority_contact(&core)
                    && now.duration_since(contact) > limit
                    && !self.keeps_office_on_its_lease(&core)
                {
                    warn!(
                        node = self.cfg.id,
                        term = core.term,
                        "no contact with a majority for {limit:?}"
                    );
                    let term = core.term;
                    core.leader_id = None;
                    self.become_follower(&mut core, term, "lost contact with a majority");
                }
            }
            Role::Leader => {}
            Role::Follower | Role::Candidate => {
                if now >= core.election_deadline {
                    self.start_election(&mut core);
                }
            }
        }
    }

    /// Leader serving lease reads: whether its lease still holds by its own wall clock, in
    /// which case it stays in office without hearing a majority. The lease is the majority's
    /// promise not to elect anyone else before it runs out, and a leader that trusts it for
    /// reads has no reason to doubt it for leadership. With honest clocks the lease ends long
    /// before the quorum check would fire, so this changes nothing; with the leader's clock
    /// set back it keeps leading (and serving stale lease reads) for as long as the skew, which
    /// is the clock dependence lease reads carry in real systems.
    fn keeps_office_on_its_lease(&self, core: &Core) -> bool {
        self.cfg.reads == ReadMode::Lease && self.lease_holds(core, self.clock.now_ms())
    }

    /// Leader: the time by which a majority (itself included) had last been heard from;
    /// `None` in a single-node cluster.
    fn majority_contact(&self, core: &Core) -> Option<Instant> {
        let needed = self.cfg.majority() - 1;
        if needed == 0 {
            return None;
        }
        let mut times: Vec<Instant> = core.progress.values().map(|p| p.acked_at).collect();
        times.sort_unstable_by(|a, b| b.cmp(a));
        times.get(needed - 1).copied()
    }

    fn start_election(self: &Arc<Self>, core: &mut Core) {
        if core.role == Role::Follower
            && let Some(leader) = core.leader_id
        {
            core.suspected = Some((leader, core.term));
        }
        let was = core.role;
        core.term += 1;
        core.voted_for = Some(self.cfg.id);
        core.role = Role::Candidate;
        core.leader_id = None;
        core.votes.clear();
        core.votes.insert(self.cfg.id);
        core.waiters.clear();
        core.stats.elections_started += 1;
        core.election_deadline = Instant::now() + self.cfg.random_election_timeout();
        if was != Role::Candidate {
            self.log_role_change(core, "election timeout");
        } else {
            debug!(
                node = self.cfg.id,
                term = core.term,
                "election timed out, trying again"
            );
        }
        self.persist_hard_state(core);
        let synced = self.storage.sync();
        if core.votes.len() >= self.cfg.majority() {
            self.become_leader(core);
            return;
        }
        let req = VoteRequest {
            term: core.term,
            candidate_id: self.cfg.id,
            last_log_index: core.log.last_index(),
            last_log_term: core.log.last_term(),
        };
        let node = self.clone();
        tokio::spawn(async move {
            // The vote for ourselves is durable before anyone else is asked.
            if synced.await.is_err() {
                return;
            }
            for peer in &node.peers {
                tokio::spawn(node.clone().request_vote(peer.id, peer.addr, req.clone()));
            }
        });
    }

    async fn request_vote(
        self: Arc<Self>,
        peer_id: u64,
        addr: std::net::SocketAddr,
        req: VoteRequest,
    ) {
        if self.is_isolated() {
            return;
        }
        let resp = match self.client.vote(addr, &req).await {
            Ok(resp) => resp,
            Err(e) => {
                debug!(
                    node = self.cfg.id,
                    peer = peer_id,
                    "vote request failed: {e}"
                );
                return;
            }
        };
        let mut core = self.core();
        if let Some(term) = resp.leader_term
            && core.suspected == Some((peer_id, term))
        {
            core.stats.false_suspicions += 1;
            core.suspected = None;
        }
        if resp.term > core.term {
            self.become_follower(&mut core, resp.term, "saw a higher term in a vote answer");
            return;
        }
        if core.role == Role::Candidate && core.term == req.term && resp.granted {
            core.votes.insert(peer_id);
            if core.votes.len() >= self.cfg.majority() {
                self.become_leader(&mut core);
            }
        }
    }

    /// Answers a vote request (after the vote is durable).
    pub async fn handle_vote(self: &Arc<Self>, req: VoteRequest) -> VoteResponse {
        let (resp, synced) = {
            let mut core = self.core();
            let leader_term = (core.role == Role::Leader).then_some(core.term);
            let now = Instant::now();
            let min_timeout = Duration::from_millis(self.cfg.election_timeout_ms.min);
            // A node that hears from a live leader ignores candidates (Raft thesis 4.2.3), so
            // a node that was cut off cannot depose a healthy leader.
            let leader_alive = match core.role {
                Role::Leader => self
                    .majority_contact(&core)
                    .is_some_and(|t| now.duration_since(t) < min_timeout),
                Role::Follower => {
                    core.leader_id.is_some()
                        && core
                            .last_leader_contact
                            .is_some_and(|t| now.duration_since(t) < min_timeout)
                }
                Role::Candidate => false,
            };
            if req.term < core.term || (req.term > core.term && leader_alive) {
                let resp = VoteResponse {
                    term: core.term,
                    granted: false,
                    leader_term,
                };
                return resp;
            }
            if req.term > core.term {
                self.become_follower(&mut core, req.term, "saw a higher term in a vote request");
            }
            let up_to_date = (req.last_log_term, req.last_log_index)
                >= (core.log.last_term(), core.log.last_index());
            let free = core.voted_for.is_none_or(|v| v == req.candidate_id);
            let granted = up_to_date && free;
            if granted {
                if core.voted_for != Some(req.candidate_id) {
                    core.voted_for = Some(req.candidate_id);
                    self.persist_hard_state(&core);
                }
                core.election_deadline = now + self.cfg.random_election_timeout();
            }
            let resp = VoteResponse {
                term: core.term,
                granted,
                leader_term,
            };
            (resp, self.storage.sync())
        };
        let _ = synced.await;
        resp
    }
}
