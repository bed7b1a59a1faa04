//! A client for kvnode's HTTP API (docs/kvnode.md): follows "not leader" hints, retries only with
//! the same (client_id, seq) so a retry can never apply twice, and classifies every outcome.

use std::time::Duration;

use crate::client::{Client, Completion};
use crate::generator::Invocation;

/// A node the client may talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddr {
    pub id: u32,
    /// `IP:PORT`.
    pub addr: String,
}

pub struct KvnodeClient {
    http: reqwest::Client,
    nodes: Vec<NodeAddr>,
    client_id: String,
    seq: u64,
    timeout: Duration,
}

impl KvnodeClient {
    /// A client named `client_id` (unique in the run) that gives up on a request after `timeout`.
    pub fn new(client_id: String, nodes: Vec<NodeAddr>, timeout: Duration) -> Self {
        KvnodeClient {
            http: reqwest::Client::new(),
            nodes,
            client_id,
            seq: 0,
            timeout,
        }
    }
}

impl Client for KvnodeClient {
    async fn invoke(&mut self, invocation: &Invocation) -> Completion {
        todo!(
            "workloads helper: {invocation:?} {:?} {} {} {:?} {:?}",
            self.nodes,
            self.client_id,
            self.seq,
            self.timeout,
            self.http
        )
    }
}
