//! The netns host kind: one network namespace per node, each with a veth on a bridge the run
//! creates, in a private /24 of 10.213.0.0/16. Every process of a node runs inside its
//! namespace, so whatever the program binds or dials, it is that host; partitions are nft drop
//! rules inside the namespace of each node that holds a grudge (Jepsen's iptables per node).
//!
//! `plumbing.rs` makes and removes the namespaces, bridge and veths (and finds those of dead
//! controllers); `firewall.rs` is the nft table inside each namespace.
//!
//! Traffic stays on this machine: the namespaces have no default route, nothing forwards or
//! NATs, and the controller reaches the nodes through the bridge's own address (.1).

mod firewall;
mod plumbing;

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Output;

use faultline_nemeses::NodeId;

use super::process::{
    ProcessHandle, ProcessSpec, exec_local, read_local, spawn_local, write_local,
};
use super::{Host, HostError};

pub use plumbing::{NetnsHosts, remove_stale};

/// The port a node listens on in its namespace: a namespace is a host of its own, where
/// nothing else has bound anything.
pub const NODE_PORT: u16 = 7000;

/// Root, `ip` that can list namespaces and an `nft` that answers: what netns hosts need.
pub fn available() -> bool {
    let ip_works = std::process::Command::new("ip")
        .args(["netns", "list"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ip_works && crate::network::nft::available()
}

/// One node's namespace.
#[derive(Debug, Clone)]
pub struct NetnsHost {
    /// The namespace's name, `fl<pid>x<run>n<id>`.
    name: String,
    ip: Ipv4Addr,
    /// `/run/netns/<name>`, what `setns(2)` enters.
    path: PathBuf,
}

impl NetnsHost {
    fn new(name: String, ip: Ipv4Addr) -> NetnsHost {
        let path = Path::new("/run/netns").join(&name);
        NetnsHost { name, ip, path }
    }

    /// The `/run/netns` file a process enters to be on this host.
    pub fn namespace_path(&self) -> &Path {
        &self.path
    }
}

impl Host for NetnsHost {
    fn name(&self) -> &str {
        &self.name
    }

    fn ip(&self) -> IpAddr {
        IpAddr::V4(self.ip)
    }

    async fn exec(&self, argv: &[&str]) -> Result<Output, HostError> {
        exec_local(&self.name, argv, Some(&self.path)).await
    }

    async fn spawn(&self, spec: ProcessSpec) -> Result<ProcessHandle, HostError> {
        // The namespace's name is the node's marker (`node_marker::node_name`).
        spawn_local(&self.name, &self.name, spec, Some(&self.path)).await
    }

    // A namespace shares the controller's file system.
    async fn write_file(&self, path: &Path, bytes: &[u8]) -> Result<(), HostError> {
        write_local(&self.name, path, bytes).await
    }

    async fn read_file(&self, path: &Path) -> Result<Vec<u8>, HostError> {
        read_local(&self.name, path).await
    }

    async fn drop_input_from(&self, sources: &[IpAddr]) -> Result<(), HostError> {
        let script = firewall::replace_rules(sources);
        let out = self.exec(&["nft", &script]).await?;
        if out.status.success() {
            Ok(())
        } else {
            Err(HostError::Command {
                host: self.name.clone(),
                command: format!("nft {script}"),
                message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            })
        }
    }
}

/// `10.213.<subnet>.<last>`.
fn address(subnet: u8, last: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 213, subnet, last)
}

/// Node `id`'s last octet: .(10+id), as on loopback; `MAX_NODES` keeps it below .255.
fn node_octet(id: NodeId) -> u8 {
    u8::try_from(10 + id).unwrap_or(u8::MAX)
}
