//! Client routes: `POST /kv/get`, `/kv/put`, `/kv/cas`, `/kv/append`. Every request carries
//! `client_id` (string or integer) and `seq`; success is `{"ok": true, "value": ...}`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ApiJson};
use crate::raft::Node;
use crate::state_machine::{Op, Outcome, Scalar, Value, client_id_from_json};

#[derive(Debug, Deserialize)]
pub struct GetRequest {
    #[serde(deserialize_with = "client_id_from_json")]
    pub client_id: String,
    pub seq: u64,
    pub key: String,
}

#[derive(Debug, Deserialize)]
pub struct PutRequest {
    #[serde(deserialize_with = "client_id_from_json")]
    pub client_id: String,
    pub seq: u64,
    pub key: String,
    pub value: Scalar,
}

#[derive(Debug, Deserialize)]
pub struct CasRequest {
    #[serde(deserialize_with = "client_id_from_json")]
    pub client_id: String,
    pub seq: u64,
    pub key: String,
    pub from: Scalar,
    pub to: Scalar,
}

/// Same shape as a put; the value is appended to the key's list.
pub type AppendRequest = PutRequest;

/// A successful answer.
#[derive(Debug, Serialize)]
pub struct OkResponse {
    pub ok: bool,
    pub value: Option<Value>,
}

fn ok(value: Option<Value>) -> Json<OkResponse> {
    Json(OkResponse { ok: true, value })
}

pub async fn get(
    State(node): State<Arc<Node>>,
    ApiJson(req): ApiJson<GetRequest>,
) -> Result<Json<OkResponse>, ApiError> {
    let value = node
        .read(&req.key)
        .await
        .map_err(|e| ApiError::from_read(&node, e))?;
    Ok(ok(value))
}

pub async fn put(
    State(node): State<Arc<Node>>,
    ApiJson(req): ApiJson<PutRequest>,
) -> Result<Json<OkResponse>, ApiError> {
    let op = Op::Put {
        key: req.key,
        value: req.value,
    };
    write(&node, req.client_id, req.seq, op).await
}

pub async fn cas(
    State(node): State<Arc<Node>>,
    ApiJson(req): ApiJson<CasRequest>,
) -> Result<Json<OkResponse>, ApiError> {
    let op = Op::Cas {
        key: req.key,
        from: req.from,
        to: req.to,
    };
    write(&node, req.client_id, req.seq, op).await
}

pub async fn append(
    State(node): State<Arc<Node>>,
    ApiJson(req): ApiJson<AppendRequest>,
) -> Result<Json<OkResponse>, ApiError> {
    let op = Op::Append {
        key: req.key,
        value: req.value,
    };
    write(&node, req.client_id, req.seq, op).await
}

async fn write(
    node: &Arc<Node>,
    client_id: String,
    seq: u64,
    op: Op,
) -> Result<Json<OkResponse>, ApiError> {
    match node.write(client_id, seq, op).await {
        Ok(Outcome::Ok { value }) => Ok(ok(value)),
        Ok(Outcome::CasMismatch { current }) => Err(ApiError::CasMismatch { current }),
        Ok(Outcome::TypeMismatch { current }) => Err(ApiError::TypeMismatch { current }),
        Err(e) => Err(ApiError::from_write(node, e)),
    }
}
