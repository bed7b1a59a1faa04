//! The cluster's network as the partition and delay nemeses act on it: which backend enforces
//! grudges, and the one `Network` the run hands to the schedule.
//!
//! - `proxy`: a userspace TCP proxy on every directed peer link (no privileges; also delays).
//! - `nft`: kernel packet drops between the per-node loopback addresses (root and `nft`).
//! - `hosts`: on netns hosts, the same `nft` choice means drop rules inside each node's own
//!   namespace (see `crate::hosts::netns`).

mod backend;
pub mod hosts;
pub mod nft;
pub mod proxy;

use std::net::IpAddr;
use std::sync::Arc;

use faultline_nemeses::{Grudge, LinkDelay, Network, NetworkError, NodeId};

pub use backend::{Backend, Requested, choose};
pub use hosts::HostsNet;
pub use nft::NftNet;
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
    #[error("nft ({script}): {message}")]
    Nft { script: String, message: String },
}

/// The network a run's nemesis acts on.
pub enum RunNetwork {
    /// Peer links go through the cluster's proxies.
    Proxy(Arc<ProxyNet>),
    /// The run's nftables table (deleted when this is dropped).
    Nft(Arc<NftNet>),
    /// Each host's own firewall (netns hosts).
    Hosts(HostsNet),
    /// Nothing to act on: network faults fail (and say so in the history).
    Unmanaged,
}

impl Network for RunNetwork {
    async fn partition(&self, grudge: &Grudge) -> Result<(), NetworkError> {
        match self {
            RunNetwork::Proxy(p) => p.partition(grudge).await,
            RunNetwork::Nft(n) => n.partition(grudge).await,
            RunNetwork::Hosts(h) => h.partition(grudge).await,
            RunNetwork::Unmanaged => faultline_nemeses::NoNetwork.partition(grudge).await,
        }
    }

    async fn slow(&self, nodes: &[NodeId], delay: LinkDelay) -> Result<(), NetworkError> {
        match self {
            RunNetwork::Proxy(p) => p.slow(nodes, delay).await,
            RunNetwork::Nft(n) => n.slow(nodes, delay).await,
            RunNetwork::Hosts(h) => h.slow(nodes, delay).await,
            RunNetwork::Unmanaged => faultline_nemeses::NoNetwork.slow(nodes, delay).await,
        }
    }

    async fn heal(&self) -> Result<(), NetworkError> {
        match self {
            RunNetwork::Proxy(p) => p.heal().await,
            RunNetwork::Nft(n) => n.heal().await,
            RunNetwork::Hosts(h) => h.heal().await,
            RunNetwork::Unmanaged => Ok(()),
        }
    }
}
