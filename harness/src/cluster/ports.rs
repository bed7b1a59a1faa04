//! Every node's ports by name: the definition's numbers on a host of its own, free ones on the
//! nodes' loopback addresses.

use std::net::{IpAddr, TcpListener};

use super::error::ClusterError;
use crate::hosts::HostKind;
use crate::system::{NodePorts, System};

/// (id, ip, port name → number) of every node on hosts of `kind`.
pub(crate) fn node_ports(
    kind: HostKind,
    ips: &[(u32, IpAddr)],
    system: &System,
) -> Result<Vec<NodePorts>, ClusterError> {
    Ok(match kind {
        // Loopback hosts share one port space: a port free right now for each name.
        HostKind::Loopback => {
            let names: Vec<&str> = system.definition.ports.keys().collect();
            ips.iter()
                .zip(free_ports(ips, names.len())?)
                .map(|(&(id, ip), (_, free))| {
                    let named = names.iter().map(|n| (*n).to_owned()).zip(free).collect();
                    (id, ip, named)
                })
                .collect()
        }
        // A namespace (or a remote machine) is a host of its own: the definition's ports.
        HostKind::Netns | HostKind::Ssh => ips
            .iter()
            .map(|&(id, ip)| (id, ip, system.fixed_ports()))
            .collect(),
    })
}

/// Binds `ip:0` `count` times for every address and reads back the ports the kernel chose. The
/// listeners are held until all ports are known and dropped just before the nodes start, so two
/// ports of this cluster can never be the same address; another process could still take a
/// port in that short gap, which the node then reports as a bind error in its log.
pub(crate) fn free_ports(
    ips: &[(u32, IpAddr)],
    count: usize,
) -> Result<Vec<(u32, Vec<u16>)>, ClusterError> {
    let mut held = Vec::with_capacity(ips.len() * count);
    let mut ports = Vec::with_capacity(ips.len());
    for &(id, ip) in ips {
        let mut mine = Vec::with_capacity(count);
        for _ in 0..count {
            let listener = TcpListener::bind((ip, 0))
                .map_err(|source| ClusterError::NoFreePort { ip, source })?;
            let addr = listener
                .local_addr()
                .map_err(|source| ClusterError::NoFreePort { ip, source })?;
            mine.push(addr.port());
            held.push(listener);
        }
        ports.push((id, mine));
    }
    drop(held);
    Ok(ports)
}
