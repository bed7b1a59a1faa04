//! The HTTP API: client key-value routes, peer RPC routes, status and admin routes, and the
//! JSON errors every route answers with.

pub mod admin;
pub mod error;
pub mod kv;
pub mod peer;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::raft::Node;
use crate::raft::replication::MAX_BATCH;
use error::ApiError;

/// All routes of a node.
pub fn router(node: Arc<Node>) -> Router {
    let limit = node.cfg.max_body_bytes;
    let client = Router::new()
        .route("/kv/get", post(kv::get))
        .route("/kv/put", post(kv::put))
        .route("/kv/cas", post(kv::cas))
        .route("/kv/append", post(kv::append))
        .route("/status", get(admin::status))
        .route("/admin/clock", post(admin::set_clock).get(admin::get_clock))
        .route("/admin/kv", get(admin::dump))
        .route("/admin/replication", post(admin::hold_replication))
        .route("/admin/isolate", post(admin::isolate))
        .layer(DefaultBodyLimit::max(limit));
    // A batch of entries carries up to MAX_BATCH client bodies.
    let peer_limit = limit.saturating_mul(MAX_BATCH + 1);
    let peer = Router::new()
        .route("/raft/vote", post(peer::vote))
        .route("/raft/append", post(peer::append))
        .layer(DefaultBodyLimit::max(peer_limit));
    client
        .merge(peer)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(node)
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
