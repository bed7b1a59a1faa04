//! The loopback host: today's node, a process of the controller's machine on its own loopback
//! address 127.0.0.(10+N). All such hosts share one network stack, so a firewall of one host
//! alone cannot exist: their partitions are the run's nft table (`network::nft`) or link
//! proxies.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::Output;

use faultline_nemeses::NodeId;

use super::process::{
    ProcessHandle, ProcessSpec, exec_local, read_local, spawn_local, write_local,
};
use super::{Host, HostError, node_marker};

#[derive(Debug, Clone)]
pub struct LoopbackHost {
    name: String,
    ip: Ipv4Addr,
    /// `fl<pid>x<run>n<id>` (`node_marker.rs`), in the environment of every process it starts:
    /// what finds the node's daemons, which share the machine with every other process.
    marker: String,
}

impl LoopbackHost {
    /// Node `id`'s host in run `run` of this controller (`node_marker::next_run`):
    /// 127.0.0.(10+id), one address per node, so a firewall rule on (source, destination) can
    /// cut exactly one link (kvnode binds its outgoing peer connections to its listen IP).
    pub fn for_node(id: NodeId, run: u32) -> LoopbackHost {
        let ip = node_ip(id);
        LoopbackHost {
            name: ip.to_string(),
            ip,
            marker: node_marker::node_name(std::process::id(), run, id),
        }
    }
}

/// 127.0.0.(10+id).
pub fn node_ip(id: NodeId) -> Ipv4Addr {
    let last = u8::try_from(10 + id).unwrap_or(u8::MAX);
    Ipv4Addr::new(127, 0, 0, last)
}

impl Host for LoopbackHost {
    fn name(&self) -> &str {
        &self.name
    }

    fn ip(&self) -> IpAddr {
        IpAddr::V4(self.ip)
    }

    async fn exec(&self, argv: &[&str]) -> Result<Output, HostError> {
        exec_local(&self.name, argv, None).await
    }

    async fn spawn(&self, spec: ProcessSpec) -> Result<ProcessHandle, HostError> {
        spawn_local(&self.name, &self.marker, spec, None).await
    }

    async fn write_file(&self, path: &Path, bytes: &[u8]) -> Result<(), HostError> {
        write_local(&self.name, path, bytes).await
    }

    async fn read_file(&self, path: &Path) -> Result<Vec<u8>, HostError> {
        read_local(&self.name, path).await
    }

    async fn drop_input_from(&self, sources: &[IpAddr]) -> Result<(), HostError> {
        if sources.is_empty() {
            return Ok(());
        }
        Err(HostError::Unsupported {
            host: self.name.clone(),
            what: "loopback hosts share one network stack: no firewall of their own (partitions \
                   go through --network nft or proxy)"
                .into(),
        })
    }
}
