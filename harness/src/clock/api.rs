//! The `api` clock backend: kvnode's `POST /admin/clock`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use faultline_nemeses::{ClockError, Clocks, NodeId};
use serde_json::json;

/// Each node's admin address and one HTTP client for all of them.
pub struct ApiClocks {
    http: reqwest::Client,
    nodes: BTreeMap<NodeId, SocketAddr>,
}

impl ApiClocks {
    pub fn new(nodes: &[(NodeId, SocketAddr)]) -> Result<ApiClocks, reqwest::Error> {
        let http = reqwest::Client::builder()
            // Node traffic stays on 127.0.0.0/8, never through a proxy from the environment.
            .no_proxy()
            .timeout(Duration::from_secs(1))
            .build()?;
        Ok(ApiClocks {
            http,
            nodes: nodes.iter().copied().collect(),
        })
    }
}

impl Clocks for ApiClocks {
    async fn set_offset(&self, node: NodeId, offset_ms: i64) -> Result<(), ClockError> {
        let error = |message: String| ClockError { node, message };
        let addr = self
            .nodes
            .get(&node)
            .ok_or_else(|| error("no such node".into()))?;
        let response = self
            .http
            .post(format!("http://{addr}/admin/clock"))
            .json(&json!({ "offset_ms": offset_ms, "rate": 1.0 }))
            .send()
            .await
            .map_err(|e| error(format!("POST /admin/clock: {e}")))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(error(format!("POST /admin/clock: {}", response.status())))
        }
    }
}
