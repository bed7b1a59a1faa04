//! Free ports on the nodes' loopback addresses.

use std::net::{IpAddr, SocketAddr, TcpListener};

use super::error::ClusterError;

/// Binds `ip:0` for every address and reads back the port the kernel chose. The listeners are
/// held until all ports are known and dropped just before the nodes start, so two nodes of this
/// cluster can never be handed the same address; another process could still take a port in
/// that short gap, which the node then reports as a bind error in its log.
pub(crate) fn free_addrs(ips: &[(u32, IpAddr)]) -> Result<Vec<(u32, SocketAddr)>, ClusterError> {
    let mut held = Vec::with_capacity(ips.len());
    for &(id, ip) in ips {
        let listener =
            TcpListener::bind((ip, 0)).map_err(|source| ClusterError::NoFreePort { ip, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ClusterError::NoFreePort { ip, source })?;
        held.push((id, addr, listener));
    }
    Ok(held
        .into_iter()
        .map(|(id, addr, _listener)| (id, addr))
        .collect())
}
