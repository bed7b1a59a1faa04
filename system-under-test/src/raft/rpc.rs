//! Peer RPC messages (JSON over HTTP: `POST /raft/vote`, `POST /raft/append`).

use serde::{Deserialize, Serialize};

use super::log::Entry;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VoteRequest {
    pub term: u64,
    pub candidate_id: u64,
    pub last_log_index: u64,
    pub last_log_term: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VoteResponse {
    pub term: u64,
    pub granted: bool,
    /// The term in which the responder was leader when it got the request, if it was: a
    /// candidate that suspected it learns its suspicion was false.
    pub leader_term: Option<u64>,
}

/// Entries (empty for a heartbeat) with Raft's consistency check.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppendRequest {
    pub term: u64,
    pub leader_id: u64,
    pub prev_log_index: u64,
    pub prev_log_term: u64,
    pub entries: Vec<Entry>,
    pub leader_commit: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppendResponse {
    pub term: u64,
    pub success: bool,
    /// On success: the last index known to match the leader's log.
    pub match_index: u64,
    /// On failure: where the leader should retry from.
    pub conflict_index: u64,
}
