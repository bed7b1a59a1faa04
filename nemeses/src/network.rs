//! "The network I can cut": what a partition or link-delay nemesis needs from a cluster's
//! network. The harness implements it (nftables rules, or a userspace proxy on every peer
//! link); this crate only says which links to cut or slow.

use std::future::Future;
use std::time::Duration;

use crate::grudge::Grudge;
use crate::nodes::NodeId;

#[derive(Debug, thiserror::Error)]
#[error("network: {0}")]
pub struct NetworkError(pub String);

/// How a slowed link behaves: every chunk of bytes waits `delay` plus up to `jitter`, and with
/// probability `loss` as long again as a TCP retransmission would take.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LinkDelay {
    pub delay: Duration,
    pub jitter: Duration,
    /// 0.0 ..= 1.0.
    pub loss: f64,
}

impl Default for LinkDelay {
    /// A slow WAN link: long enough to upset 50 ms heartbeats, short of election timeouts.
    fn default() -> Self {
        LinkDelay {
            delay: Duration::from_millis(100),
            jitter: Duration::from_millis(50),
            loss: 0.05,
        }
    }
}

/// A cluster's network as the nemesis sees it. At most one partition or delay is active at a
/// time; `heal` ends whichever it is.
pub trait Network: Send + Sync {
    /// Drops traffic on every link of the grudge (silently: no resets), replacing any earlier
    /// partition.
    fn partition(&self, grudge: &Grudge) -> impl Future<Output = Result<(), NetworkError>> + Send;
    /// Slows every link to or from `nodes`.
    fn slow(
        &self,
        nodes: &[NodeId],
        delay: LinkDelay,
    ) -> impl Future<Output = Result<(), NetworkError>> + Send;
    /// Every link forwards again, at full speed.
    fn heal(&self) -> impl Future<Output = Result<(), NetworkError>> + Send;
}

/// For clusters without a controllable network: every network fault fails (and is reported in
/// the history), healing is a no-op.
pub struct NoNetwork;

impl Network for NoNetwork {
    async fn partition(&self, _: &Grudge) -> Result<(), NetworkError> {
        Err(NetworkError("no network backend to partition with".into()))
    }

    async fn slow(&self, _: &[NodeId], _: LinkDelay) -> Result<(), NetworkError> {
        Err(NetworkError("no network backend to slow links with".into()))
    }

    async fn heal(&self) -> Result<(), NetworkError> {
        Ok(())
    }
}
