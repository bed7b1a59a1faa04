//! The Raft-style core: roles, terms and votes, the log, commit and apply. One `Node` per
//! process; its mutable state lives in `Core` behind one mutex that is never held across an
//! await. Election, replication and reads are in the submodules.

pub mod election;
pub mod log;
pub mod reads;
pub mod replication;
pub mod rpc;
pub mod storage;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use serde::Serialize;
use tokio::sync::{Notify, oneshot, watch};
use tracing::{info, warn};

use crate::clock::Clock;
use crate::config::{Config, ReadMode, Replication};
use crate::peer_client::{PeerClient, PeerError};
use crate::state_machine::{Command, Outcome, StateMachine, Value};
use log::{Entry, Log};
use storage::{Record, Restored, Storage};

/// A node's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Follower,
    Candidate,
    Leader,
}

/// Another member of the cluster, with the signal that wakes its replicator.
#[derive(Debug)]
pub struct Peer {
    pub id: u64,
    pub addr: SocketAddr,
    wake: Notify,
}

/// What the leader knows about one follower.
#[derive(Debug, Clone)]
struct PeerProgress {
    next_index: u64,
    match_index: u64,
    /// Highest heartbeat round the peer acknowledged in this term (read-index).
    acked_round: u64,
    /// Wall-clock time (node clock) at which the newest acknowledged request was sent (lease).
    acked_wall_ms: i64,
    /// Monotonic time at which the newest acknowledged request was sent (check-quorum).
    acked_at: Instant,
}

/// A client write waiting for its entry to be applied.
#[derive(Debug)]
struct Waiter {
    term: u64,
    tx: oneshot::Sender<Outcome>,
}

/// Counters reported in /status.
#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    elections_started: u64,
    leadership_changes: u64,
    false_suspicions: u64,
}

/// Everything mutable about a node.
#[derive(Debug)]
struct Core {
    role: Role,
    term: u64,
    voted_for: Option<u64>,
    leader_id: Option<u64>,
    log: Log,
    commit_index: u64,
    last_applied: u64,
    sm: StateMachine,
    election_deadline: Instant,
    last_leader_contact: Option<Instant>,
    votes: BTreeSet<u64>,
    progress: BTreeMap<u64, PeerProgress>,
    /// Leader only: the highest own log index known to be durable.
    durable_index: u64,
    /// Leader only: heartbeat round counter (read-index).
    round: u64,
    /// Leader only: the node-clock time until which the lease holds.
    lease_until_ms: i64,
    waiters: BTreeMap<u64, Waiter>,
    /// The (leader, term) this node last stopped believing in because of missed heartbeats.
    suspected: Option<(u64, u64)>,
    stats: Stats,
}

/// Why a write was not answered with an outcome.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WriteError {
    /// Not applied: this node is not the leader.
    #[error("this node is not the leader")]
    NotLeader { leader: Option<u64> },
    /// May or may not be applied: the node stopped being leader before the entry committed.
    #[error("leadership was lost before the write committed; it may still be applied")]
    LeadershipLost,
    /// May or may not be applied: replication did not finish in time.
    #[error("the write did not commit in time; it may still be applied")]
    Timeout,
}

/// Why a read was refused (a read never changes state, so it is safe to retry).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadError {
    #[error("this node is not the leader")]
    NotLeader { leader: Option<u64> },
    #[error("could not confirm leadership in time")]
    Timeout,
}

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

/// One kvnode.
#[derive(Debug)]
pub struct Node {
    pub cfg: Config,
    pub clock: Clock,
    peers: Vec<Peer>,
    core: Mutex<Core>,
    storage: Storage,
    client: PeerClient,
    progress: watch::Sender<u64>,
    /// Fault injection: while set, the leader sends heartbeats but holds entries back.
    hold_entries: AtomicBool,
    /// Fault injection: while set, no peer RPC leaves or is accepted (a node-level partition).
    isolated: AtomicBool,
}

impl Node {
    /// A node in the follower role, with the state restored from its WAL.
    pub fn new(cfg: Config, storage: Storage, restored: Restored) -> Result<Arc<Node>, PeerError> {
        let client = PeerClient::new(cfg.listen.ip(), cfg.peer_rpc_timeout())?;
        let peers = cfg
            .peers
            .iter()
            .map(|p| Peer {
                id: p.id,
                addr: p.addr,
                wake: Notify::new(),
            })
            .collect();
        let core = Core {
            role: Role::Follower,
            term: restored.term,
            voted_for: restored.voted_for,
            leader_id: None,
            log: restored.log,
            commit_index: 0,
            last_applied: 0,
            sm: StateMachine::default(),
            election_deadline: Instant::now() + cfg.random_election_timeout(),
            last_leader_contact: None,
            votes: BTreeSet::new(),
            progress: BTreeMap::new(),
            durable_index: 0,
            round: 0,
            lease_until_ms: 0,
            waiters: BTreeMap::new(),
            suspected: None,
            stats: Stats::default(),
        };
        let (progress, _) = watch::channel(0);
        Ok(Arc::new(Node {
            clock: Clock::new(),
            peers,
            core: Mutex::new(core),
            storage,
            client,
            progress,
            hold_entries: AtomicBool::new(false),
            isolated: AtomicBool::new(false),
            cfg,
        }))
    }

    /// Starts the election timer and one replicator per peer.
    pub fn start(self: &Arc<Self>) {
        tokio::spawn(self.clone().run_ticker());
        for i in 0..self.peers.len() {
            tokio::spawn(self.clone().run_replicator(i));
        }
    }

    fn core(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes waiters on commit, apply and acknowledgement progress.
    fn bump_progress(&self) {
        self.progress.send_modify(|v| *v = v.wrapping_add(1));
    }

    fn wake_replicators(&self) {
        for peer in &self.peers {
            peer.wake.notify_one();
        }
    }

    fn persist_hard_state(&self, core: &Core) {
        self.storage.write(&Record::HardState {
            term: core.term,
            voted_for: core.voted_for,
        });
    }

    fn log_role_change(&self, core: &Core, why: &str) {
        info!(
            node = self.cfg.id,
            role = ?core.role,
            term = core.term,
            leader = ?core.leader_id,
            "role change: {why}"
        );
    }

    /// Moves to `term` (if newer, forgetting the vote) and to the follower role.
    fn become_follower(&self, core: &mut Core, term: u64, why: &str) {
        if term > core.term {
            core.term = term;
            core.voted_for = None;
            core.leader_id = None;
            self.persist_hard_state(core);
        }
        if core.role != Role::Follower {
            core.role = Role::Follower;
            core.lease_until_ms = 0;
            core.progress.clear();
            // Dropping the senders answers pending writes with "leadership lost" (unknown).
            core.waiters.clear();
            self.log_role_change(core, why);
            self.bump_progress();
        }
    }

    fn become_leader(self: &Arc<Self>, core: &mut Core) {
        core.role = Role::Leader;
        core.leader_id = Some(self.cfg.id);
        core.stats.leadership_changes += 1;
        core.suspected = None;
        let now = Instant::now();
        let next = core.log.last_index() + 1;
        core.progress = self
            .peers
            .iter()
            .map(|p| {
                let progress = PeerProgress {
                    next_index: next,
                    match_index: 0,
                    acked_round: 0,
                    acked_wall_ms: 0,
                    acked_at: now,
                };
                (p.id, progress)
            })
            .collect();
        core.durable_index = 0;
        core.round = 0;
        core.lease_until_ms = 0;
        self.log_role_change(core, "won the election");
        // A no-op of the new term lets entries of earlier terms commit.
        let (index, synced) = self.append_local(core, Command::noop());
        tokio::spawn(self.clone().track_durable(index, core.term, synced));
        self.wake_replicators();
        self.bump_progress();
    }

    /// Leader: appends a command of the current term to the log and the WAL.
    fn append_local(&self, core: &mut Core, command: Command) -> (u64, oneshot::Receiver<()>) {
        let entry = Entry {
            term: core.term,
            index: core.log.last_index() + 1,
            command,
        };
        let index = entry.index;
        self.storage.write(&Record::Entry {
            entry: entry.clone(),
        });
        core.log.push(entry);
        (index, self.storage.sync())
    }

    /// Leader: once `index` is durable locally, counts it towards commit.
    async fn track_durable(self: Arc<Self>, index: u64, term: u64, synced: oneshot::Receiver<()>) {
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
    fn advance_commit(&self, core: &mut Core) {
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
    fn apply_committed(&self, core: &mut Core) {
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
    fn truncate_from(&self, core: &mut Core, index: u64) {
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
    fn update_lease(&self, core: &mut Core) {
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

    /// Holds entries back on the leader (heartbeats go on) while `hold` is set: a
    /// replication link so slow that nothing arrives. Widens async mode's loss window.
    pub fn hold_entries(&self, hold: bool) {
        self.hold_entries.store(hold, Ordering::SeqCst);
        info!(node = self.cfg.id, hold, "replication of entries held");
        if !hold {
            self.wake_replicators();
        }
    }

    fn entries_held(&self) -> bool {
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

    /// Whether this node is leader with a lease that holds at node-clock time `now_ms`. A
    /// single-node cluster needs no one's promise: its leader always holds the lease.
    fn lease_holds(&self, core: &Core, now_ms: i64) -> bool {
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
