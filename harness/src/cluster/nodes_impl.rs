//! The cluster as the nemeses see it (`faultline_nemeses::Nodes`).

use faultline_nemeses::{NodeId, Nodes, NodesError};
use tokio::time::Instant;

use super::Cluster;
use super::error::ClusterError;

fn nodes_error(node: NodeId, e: ClusterError) -> NodesError {
    NodesError {
        node,
        message: e.to_string(),
    }
}

fn unknown(node: NodeId) -> NodesError {
    NodesError {
        node,
        message: "no such node in this cluster".to_string(),
    }
}

impl Nodes for Cluster {
    fn ids(&self) -> Vec<NodeId> {
        self.addrs.iter().map(|(id, _)| *id).collect()
    }

    /// Through the definition's discoverer (kvnode: the node that says it leads in the highest
    /// term, else the leader a majority names).
    async fn leader(&self) -> Option<NodeId> {
        self.leader_views().await.leader(self.addrs.len())
    }

    /// SIGKILL and reap; a paused node dies as well (SIGKILL needs no SIGCONT).
    async fn kill(&self, node: NodeId) -> Result<(), NodesError> {
        let index = self.index(node).ok_or_else(|| unknown(node))?;
        let mut process = self.nodes[index].lock().await;
        process.kill().await.map_err(|e| nodes_error(node, e))
    }

    /// Starts the node's processes again with the same command lines, ports and data dir and
    /// waits until it passes its readiness probe. A node that is already running is left alone: healing a kill whose SIGKILL
    /// failed must not fail again.
    async fn restart(&self, node: NodeId) -> Result<(), NodesError> {
        let index = self.index(node).ok_or_else(|| unknown(node))?;
        {
            let mut process = self.nodes[index].lock().await;
            if process.is_running() {
                return Ok(());
            }
            process.start().await.map_err(|e| nodes_error(node, e))?;
        }
        let deadline = Instant::now() + self.start_timeout;
        self.wait_until_answers(index, deadline, self.start_timeout)
            .await
            .map_err(|e| nodes_error(node, e))
    }

    async fn pause(&self, node: NodeId) -> Result<(), NodesError> {
        let index = self.index(node).ok_or_else(|| unknown(node))?;
        let mut process = self.nodes[index].lock().await;
        process.pause().await.map_err(|e| nodes_error(node, e))
    }

    async fn resume(&self, node: NodeId) -> Result<(), NodesError> {
        let index = self.index(node).ok_or_else(|| unknown(node))?;
        let mut process = self.nodes[index].lock().await;
        process.resume().await.map_err(|e| nodes_error(node, e))
    }
}
