//! HTTP client for peer RPCs. Outgoing connections bind to this node's listen IP, so a
//! firewall rule on source and destination address can cut exactly one link.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::raft::rpc::{AppendRequest, AppendResponse, VoteRequest, VoteResponse};

#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("peer HTTP: {0}")]
    Http(#[from] reqwest::Error),
}

/// A pooled HTTP client for talking to peers.
#[derive(Debug, Clone)]
pub struct PeerClient {
    http: reqwest::Client,
}

impl PeerClient {
    /// A client whose connections leave from `local_ip` (unless it is unspecified).
    pub fn new(local_ip: IpAddr, timeout: Duration) -> Result<Self, PeerError> {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(30));
        if !local_ip.is_unspecified() {
            builder = builder.local_address(local_ip);
        }
        Ok(PeerClient {
            http: builder.build()?,
        })
    }

    pub async fn vote(
        &self,
        addr: SocketAddr,
        req: &VoteRequest,
    ) -> Result<VoteResponse, PeerError> {
        self.post(addr, "/raft/vote", req).await
    }

    pub async fn append(
        &self,
        addr: SocketAddr,
        req: &AppendRequest,
    ) -> Result<AppendResponse, PeerError> {
        self.post(addr, "/raft/append", req).await
    }

    async fn post<Q: Serialize, R: DeserializeOwned>(
        &self,
        addr: SocketAddr,
        path: &str,
        body: &Q,
    ) -> Result<R, PeerError> {
        let resp = self
            .http
            .post(format!("http://{addr}{path}"))
            .json(body)
            .send()
            .await?
            .error_for_status()?;
        Ok(resp.json().await?)
    }
}
