//! Peer RPC routes: `POST /raft/vote`, `POST /raft/append`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use super::error::{ApiError, ApiJson};
use crate::raft::Node;
use crate::raft::rpc::{AppendRequest, AppendResponse, VoteRequest, VoteResponse};

pub async fn vote(
    State(node): State<Arc<Node>>,
    ApiJson(req): ApiJson<VoteRequest>,
) -> Result<Json<VoteResponse>, ApiError> {
    if node.is_isolated() {
        return Err(ApiError::Isolated);
    }
    Ok(Json(node.handle_vote(req).await))
}

pub async fn append(
    State(node): State<Arc<Node>>,
    ApiJson(req): ApiJson<AppendRequest>,
) -> Result<Json<AppendResponse>, ApiError> {
    if node.is_isolated() {
        return Err(ApiError::Isolated);
    }
    Ok(Json(node.handle_append(req).await))
}
