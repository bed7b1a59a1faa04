//! Peer RPC routes: `POST /raft/vote`, `POST /raft/append`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use super::error::ApiJson;
use crate::raft::Node;
use crate::raft::rpc::{AppendRequest, AppendResponse, VoteRequest, VoteResponse};

pub async fn vote(
    State(node): State<Arc<Node>>,
    ApiJson(req): ApiJson<VoteRequest>,
) -> Json<VoteResponse> {
    Json(node.handle_vote(req).await)
}

pub async fn append(
    State(node): State<Arc<Node>>,
    ApiJson(req): ApiJson<AppendRequest>,
) -> Json<AppendResponse> {
    Json(node.handle_append(req).await)
}
