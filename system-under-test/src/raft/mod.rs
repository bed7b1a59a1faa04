//! The Raft-style core: roles, terms and votes, the log, commit and apply. One `Node` per
//! process; its mutable state lives in `Core` behind one mutex that is never held across an
//! await. This file holds the state and the role transitions; election, replication, commit
//! and apply, reads, durable storage, status and the fault-injection knobs are submodules.

pub mod commit;
pub mod election;
pub mod faults;
pub mod log;
pub mod reads;
pub mod replication;
pub mod rpc;
pub mod status;
pub mod storage;

pub use status::{Dump, Status};

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use serde::Serialize;
use tokio::sync::{Notify, oneshot, watch};
use tracing::info;

use crate::clock::Clock;
use crate::config::Config;
use crate::peer_client::{PeerClient, PeerError};
use crate::state_machine::{Command, Outcome, StateMachine};
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
}
