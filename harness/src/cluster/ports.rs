//! Free ports on the nodes' loopback addresses.

use std::net::{IpAddr, TcpListener};

use super::error::ClusterError;

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
