//! The cluster's network as the partition and delay nemeses act on it: which backend enforces
//! grudges, and the one `Network` the run hands to the schedule.
//!
//! - `proxy`: a userspace TCP proxy on every directed peer link (no privileges; also delays).
//! - `nft` (to come): kernel packet drops between the per-node loopback addresses.

mod backend;
pub mod proxy;

use std::net::IpAddr;
use std::sync::Arc;

use faultline_nemeses::{Grudge, LinkDelay, Network, NetworkError, NodeId};

pub use backend::{Backend, Capabilities, Requested, choose};
pub use proxy::ProxyNet;

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot bind a link proxy on {ip}: {source}")]
    Bind {
        ip: IpAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("link proxies bind loopback addresses only, not {0}")]
    NotLoopback(IpAddr),
}

/// What this machine offers the network backends.
pub fn probe() -> Capabilities {
    // The nftables backend lands separately; until then only the proxy is offered.
    Capabilities { nft: false }
}

/// The network a run's nemesis acts on.
pub enum RunNetwork {
    /// Peer links go through the cluster's proxies.
    Proxy(Arc<ProxyNet>),
    /// Nothing to act on: network faults fail (and say so in the history).
    Unmanaged,
}

impl Network for RunNetwork {
    async fn partition(&self, grudge: &Grudge) -> Result<(), NetworkError> {
        match self {
            RunNetwork::Proxy(p) => p.partition(grudge).await,
            RunNetwork::Unmanaged => faultline_nemeses::NoNetwork.partition(grudge).await,
        }
    }

    async fn slow(&self, nodes: &[NodeId], delay: LinkDelay) -> Result<(), NetworkError> {
        match self {
            RunNetwork::Proxy(p) => p.slow(nodes, delay).await,
            RunNetwork::Unmanaged => faultline_nemeses::NoNetwork.slow(nodes, delay).await,
        }
    }

    async fn heal(&self) -> Result<(), NetworkError> {
        match self {
            RunNetwork::Proxy(p) => p.heal().await,
            RunNetwork::Unmanaged => Ok(()),
        }
    }
}
