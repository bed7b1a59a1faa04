//! Hosts: what a node runs on. A node's processes, files, firewall and address all go through
//! its `Host`, so the cluster, the network and the clocks never assume 127.0.0.x.
//!
//! - `loopback` (the default): processes of the controller's machine, node N on 127.0.0.(10+N);
//!   one network stack for all, so partitions are the run's nft table or link proxies.
//! - `netns` (root): one network namespace per node on a bridge the run creates; every process
//!   of the node runs inside it, so whatever it binds or dials, it is that host, and partitions
//!   are nft rules inside each node's namespace.
//! - `ssh`: remote machines of an inventory (`ssh/`); its `SshHost` runs commands, files,
//!   detached processes and a firewall there, but the cluster cannot start nodes on it yet
//!   (`Hosts::create` refuses the kind).
//!
//! The methods are async and a process is a `ProcessHandle`, so a remote backend (ssh: a pid on
//! another machine) fits the same shape.
//!
//! Invariant: whatever a `Hosts` created on the machine (namespaces, bridge, veths, their nft
//! tables) is removed when it is dropped; a controller killed before that leaves them to
//! `remove_stale`, which every controller start runs.

mod loopback;
pub mod netns;
mod process;
pub(crate) mod spawner;
pub mod ssh;

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use faultline_nemeses::NodeId;

pub use loopback::{LoopbackHost, node_ip as loopback_ip};
pub use netns::{NetnsHost, NetnsHosts};
pub use process::{ProcessHandle, ProcessSpec};

/// Which kind of host a run's nodes live on (`--hosts`, recorded in test.json).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostKind {
    /// Processes on this machine's loopback addresses.
    #[default]
    Loopback,
    /// One network namespace per node (root).
    Netns,
    /// Remote machines from an inventory, over SSH (`--inventory`).
    Ssh,
}

impl HostKind {
    pub fn name(self) -> &'static str {
        match self {
            HostKind::Loopback => "loopback",
            HostKind::Netns => "netns",
            HostKind::Ssh => "ssh",
        }
    }
}

impl fmt::Display for HostKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for HostKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "loopback" => Ok(HostKind::Loopback),
            "netns" => Ok(HostKind::Netns),
            "ssh" => Ok(HostKind::Ssh),
            other => Err(format!(
                "unknown host kind \"{other}\"; expected one of loopback, netns, ssh"
            )),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("{host}: {what}: {source}")]
    Io {
        host: String,
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{host}: {command} failed: {message}")]
    Command {
        host: String,
        command: String,
        message: String,
    },
    #[error("{host}: {what}")]
    Unsupported { host: String, what: String },
}

impl HostError {
    pub(crate) fn io(host: &str, what: impl Into<String>, source: std::io::Error) -> HostError {
        HostError::Io {
            host: host.to_owned(),
            what: what.into(),
            source,
        }
    }
}

/// What a node runs on: as Jepsen's `control`, the same calls whether the host is a loopback
/// address, a namespace or (later) a machine reached over SSH.
pub trait Host: Send + Sync {
    /// How the run names this host: `127.0.0.11`, `fl1234x0n1`.
    fn name(&self) -> &str;

    /// The address clients and peers reach this host at.
    fn ip(&self) -> IpAddr;

    /// Runs `argv` on the host to its end and returns its output (whatever its exit status).
    fn exec(&self, argv: &[&str]) -> impl Future<Output = Result<Output, HostError>> + Send;

    /// Starts a long-running process on the host, in a process group of its own, stdout and
    /// stderr appended to `spec.log`. It is killed when the controller dies.
    fn spawn(
        &self,
        spec: ProcessSpec,
    ) -> impl Future<Output = Result<ProcessHandle, HostError>> + Send;

    fn write_file(
        &self,
        path: &Path,
        bytes: &[u8],
    ) -> impl Future<Output = Result<(), HostError>> + Send;

    fn read_file(&self, path: &Path) -> impl Future<Output = Result<Vec<u8>, HostError>> + Send;

    /// Replaces the host's firewall with one that drops every packet it receives from
    /// `sources` (none: the firewall is cleared), as Jepsen's iptables rules on each node.
    fn drop_input_from(
        &self,
        sources: &[IpAddr],
    ) -> impl Future<Output = Result<(), HostError>> + Send;
}

/// One host of a run, whatever its kind (the trait's async methods are not object-safe).
#[derive(Debug)]
pub enum AnyHost {
    Loopback(LoopbackHost),
    Netns(NetnsHost),
}

impl Host for AnyHost {
    fn name(&self) -> &str {
        match self {
            AnyHost::Loopback(h) => h.name(),
            AnyHost::Netns(h) => h.name(),
        }
    }

    fn ip(&self) -> IpAddr {
        match self {
            AnyHost::Loopback(h) => h.ip(),
            AnyHost::Netns(h) => h.ip(),
        }
    }

    async fn exec(&self, argv: &[&str]) -> Result<Output, HostError> {
        match self {
            AnyHost::Loopback(h) => h.exec(argv).await,
            AnyHost::Netns(h) => h.exec(argv).await,
        }
    }

    async fn spawn(&self, spec: ProcessSpec) -> Result<ProcessHandle, HostError> {
        match self {
            AnyHost::Loopback(h) => h.spawn(spec).await,
            AnyHost::Netns(h) => h.spawn(spec).await,
        }
    }

    async fn write_file(&self, path: &Path, bytes: &[u8]) -> Result<(), HostError> {
        match self {
            AnyHost::Loopback(h) => h.write_file(path, bytes).await,
            AnyHost::Netns(h) => h.write_file(path, bytes).await,
        }
    }

    async fn read_file(&self, path: &Path) -> Result<Vec<u8>, HostError> {
        match self {
            AnyHost::Loopback(h) => h.read_file(path).await,
            AnyHost::Netns(h) => h.read_file(path).await,
        }
    }

    async fn drop_input_from(&self, sources: &[IpAddr]) -> Result<(), HostError> {
        match self {
            AnyHost::Loopback(h) => h.drop_input_from(sources).await,
            AnyHost::Netns(h) => h.drop_input_from(sources).await,
        }
    }
}

/// The hosts of one run, node id → host, and what was set up for them.
pub struct Hosts {
    kind: HostKind,
    hosts: Vec<(NodeId, Arc<AnyHost>)>,
    /// The namespaces and bridge, deleted when the last reference to this set goes. Declared
    /// last: the hosts above are names only.
    netns: Option<NetnsHosts>,
}

impl Hosts {
    /// Sets up one host per id: nothing to do for loopback; namespaces and a bridge for netns.
    pub fn create(kind: HostKind, ids: &[NodeId]) -> Result<Hosts, HostError> {
        match kind {
            HostKind::Loopback => Ok(Hosts {
                kind,
                hosts: ids
                    .iter()
                    .map(|&id| (id, Arc::new(AnyHost::Loopback(LoopbackHost::for_node(id)))))
                    .collect(),
                netns: None,
            }),
            HostKind::Netns => {
                let run = NetnsHosts::create(ids)?;
                Ok(Hosts {
                    kind,
                    hosts: run
                        .hosts()
                        .into_iter()
                        .map(|(id, h)| (id, Arc::new(AnyHost::Netns(h))))
                        .collect(),
                    netns: Some(run),
                })
            }
            // The connections, uploads and remote processes are not wired into the cluster
            // yet (hosts/ssh has them): refused here, before any node starts.
            HostKind::Ssh => Err(HostError::Unsupported {
                host: "--hosts ssh".into(),
                what: "nodes on ssh hosts cannot be started yet (the ssh backend is not wired \
                       into the cluster); use --hosts loopback or netns"
                    .into(),
            }),
        }
    }

    pub fn kind(&self) -> HostKind {
        self.kind
    }

    pub fn get(&self, id: NodeId) -> Option<&Arc<AnyHost>> {
        self.hosts.iter().find(|(i, _)| *i == id).map(|(_, h)| h)
    }

    pub fn iter(&self) -> impl Iterator<Item = (NodeId, &Arc<AnyHost>)> {
        self.hosts.iter().map(|(id, h)| (*id, h))
    }

    /// The bridge netns hosts hang off (none for loopback).
    pub fn bridge(&self) -> Option<&str> {
        self.netns.as_ref().map(NetnsHosts::bridge)
    }

    /// Names of every network namespace of this set (none for loopback).
    pub fn namespaces(&self) -> Vec<String> {
        self.netns
            .as_ref()
            .map(NetnsHosts::namespaces)
            .unwrap_or_default()
    }
}

/// Removes what controllers that are no longer running left behind (namespaces, bridges,
/// veths). Best effort: without root or `ip` nothing is listed and nothing removed.
pub fn remove_stale() {
    netns::remove_stale();
}
