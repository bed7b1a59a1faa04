//! Status and admin routes: `GET /status`, `GET|POST /admin/clock`, `GET /admin/kv`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ApiJson};
use crate::raft::{Dump, Node, Status};

pub async fn status(State(node): State<Arc<Node>>) -> Json<Status> {
    Json(node.status())
}

/// Body of `POST /admin/clock`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockSetting {
    /// Milliseconds added to real time from now on.
    pub offset_ms: i64,
    /// Speed of the clock relative to real time (1.0 = real speed); default 1.0.
    #[serde(default = "one")]
    pub rate: f64,
}

fn one() -> f64 {
    1.0
}

/// Answer of the clock routes.
#[derive(Debug, Serialize)]
pub struct ClockState {
    pub ok: bool,
    pub offset_ms: i64,
    pub rate: f64,
    pub wall_clock_ms: i64,
}

fn clock_state(node: &Node) -> ClockState {
    let (offset_ms, rate) = node.clock.settings();
    ClockState {
        ok: true,
        offset_ms,
        rate,
        wall_clock_ms: node.clock.now_ms(),
    }
}

pub async fn set_clock(
    State(node): State<Arc<Node>>,
    ApiJson(setting): ApiJson<ClockSetting>,
) -> Result<Json<ClockState>, ApiError> {
    node.clock
        .set(setting.offset_ms, setting.rate)
        .map_err(|e| ApiError::Invalid(e.to_string()))?;
    tracing::info!(
        node = node.cfg.id,
        offset_ms = setting.offset_ms,
        rate = setting.rate,
        "clock set"
    );
    Ok(Json(clock_state(&node)))
}

pub async fn get_clock(State(node): State<Arc<Node>>) -> Json<ClockState> {
    Json(clock_state(&node))
}

pub async fn dump(State(node): State<Arc<Node>>) -> Json<Dump> {
    Json(node.dump())
}

/// Body of `POST /admin/replication`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicationHold {
    /// true: the leader holds entries back (heartbeats continue); false: normal replication.
    pub hold: bool,
}

pub async fn hold_replication(
    State(node): State<Arc<Node>>,
    ApiJson(req): ApiJson<ReplicationHold>,
) -> Json<serde_json::Value> {
    node.hold_entries(req.hold);
    Json(serde_json::json!({"ok": true, "hold": req.hold}))
}

/// Body of `POST /admin/isolate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Isolation {
    /// true: no peer RPC leaves this node or is accepted by it; false: links restored.
    pub isolated: bool,
}

pub async fn isolate(
    State(node): State<Arc<Node>>,
    ApiJson(req): ApiJson<Isolation>,
) -> Json<serde_json::Value> {
    node.isolate(req.isolated);
    Json(serde_json::json!({"ok": true, "isolated": req.isolated}))
}
