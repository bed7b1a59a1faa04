//! Partitions as firewalls on the hosts themselves: each node that holds a grudge drops what it
//! receives from the nodes it cannot hear, inside its own network stack (netns hosts: an nft
//! table in its namespace). Nothing sits in the data path and no program has to bind its source
//! address for a cut to hold.

use std::net::IpAddr;
use std::sync::Arc;

use faultline_nemeses::{Grudge, LinkDelay, Network, NetworkError, NodeId};

use crate::hosts::{Host, Hosts};

/// The run's hosts, as the partition nemesis acts on them.
pub struct HostsNet {
    hosts: Arc<Hosts>,
}

impl HostsNet {
    pub fn new(hosts: Arc<Hosts>) -> HostsNet {
        HostsNet { hosts }
    }

    /// Gives every host the rules of `grudge` (none: cleared). All hosts are tried; the
    /// errors, if any, are joined into one.
    async fn apply(&self, grudge: &Grudge) -> Result<(), NetworkError> {
        let mut errors = Vec::new();
        for (id, host) in self.hosts.iter() {
            let sources: Vec<IpAddr> = grudge
                .cannot_hear(id)
                .into_iter()
                .filter_map(|from| self.ip(from))
                .collect();
            if let Err(e) = host.drop_input_from(&sources).await {
                errors.push(e.to_string());
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(NetworkError(errors.join("; ")))
        }
    }

    fn ip(&self, id: NodeId) -> Option<IpAddr> {
        self.hosts.get(id).map(|h| h.ip())
    }
}

impl Network for HostsNet {
    async fn partition(&self, grudge: &Grudge) -> Result<(), NetworkError> {
        self.apply(grudge).await
    }

    async fn slow(&self, _: &[NodeId], _: LinkDelay) -> Result<(), NetworkError> {
        Err(NetworkError(format!(
            "delay is a proxy fault, unavailable on {} hosts (no netem in this kernel)",
            self.hosts.kind()
        )))
    }

    async fn heal(&self) -> Result<(), NetworkError> {
        self.apply(&Grudge::default()).await
    }
}
