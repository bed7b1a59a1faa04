//! "The nodes I can act on": the one thing a nemesis needs from a cluster.

use std::future::Future;

pub type NodeId = u32;

#[derive(Debug, thiserror::Error)]
#[error("n{node}: {message}")]
pub struct NodesError {
    pub node: NodeId,
    pub message: String,
}

/// A cluster as the nemesis sees it. The harness implements it for kvnode processes; another
/// store implements it for its own processes.
pub trait Nodes: Send + Sync {
    fn ids(&self) -> Vec<NodeId>;
    /// The node the cluster currently follows, if any answers.
    fn leader(&self) -> impl Future<Output = Option<NodeId>> + Send;
    /// SIGKILL: the process dies at once, mid-write if it was writing.
    fn kill(&self, node: NodeId) -> impl Future<Output = Result<(), NodesError>> + Send;
    /// Start a killed node again on its data directory.
    fn restart(&self, node: NodeId) -> impl Future<Output = Result<(), NodesError>> + Send;
    /// SIGSTOP.
    fn pause(&self, node: NodeId) -> impl Future<Output = Result<(), NodesError>> + Send;
    /// SIGCONT.
    fn resume(&self, node: NodeId) -> impl Future<Output = Result<(), NodesError>> + Send;
}
