//! Hosts: what a node runs on. A node's processes, files, firewall and address all go through
//! its `Host`, so the cluster, the network and the clocks never assume 127.0.0.x.
//!
//! - `loopback` (the default): processes of the controller's machine, node N on 127.0.0.(10+N);
//!   one network stack for all, so partitions are the run's nft table or link proxies.
//! - `netns` (root): one network namespace per node on a bridge the run creates; every process
//!   of the node runs inside it, so whatever it binds or dials, it is that host, and partitions
//!   are nft rules inside each node's namespace.
//! - `ssh`: remote machines of an inventory (`ssh/`), connected by `Hosts::connect_ssh`; its
//!   `SshHost` runs commands, files, detached processes and a firewall there.
//!
//! The methods are async and a process is a `ProcessHandle`, a local child or a pid on an ssh
//! host.
//!
//! Invariant: whatever a `Hosts` created (namespaces, bridge, veths, their nft tables; on ssh
//! hosts the run's remote directory, processes and nft table) is removed when it is dropped; a
//! controller killed before that leaves them to `remove_stale` (and, on ssh hosts, to
//! `SshHost::remove_stale`, which `connect_ssh` runs on every host), at the next start. Every
//! local node process carries its node's name in its environment (`node_marker`), so what a
//! killed controller's nodes left (a daemon PR_SET_PDEATHSIG did not reach) is found too.

mod loopback;
pub mod netns;
pub mod node_marker;
mod process;
pub mod process_tree;
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
pub use process::{ProcessExit, ProcessHandle, ProcessSpec};
pub use ssh::SshHost;

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
/// address, a namespace or a machine reached over SSH.
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
    Ssh(SshHost),
}

impl Host for AnyHost {
    fn name(&self) -> &str {
        match self {
            AnyHost::Loopback(h) => h.name(),
            AnyHost::Netns(h) => h.name(),
            AnyHost::Ssh(h) => Host::name(h),
        }
    }

    fn ip(&self) -> IpAddr {
        match self {
            AnyHost::Loopback(h) => h.ip(),
            AnyHost::Netns(h) => h.ip(),
            AnyHost::Ssh(h) => Host::ip(h),
        }
    }

    async fn exec(&self, argv: &[&str]) -> Result<Output, HostError> {
        match self {
            AnyHost::Loopback(h) => h.exec(argv).await,
            AnyHost::Netns(h) => h.exec(argv).await,
            AnyHost::Ssh(h) => Host::exec(h, argv).await,
        }
    }

    async fn spawn(&self, spec: ProcessSpec) -> Result<ProcessHandle, HostError> {
        match self {
            AnyHost::Loopback(h) => h.spawn(spec).await,
            AnyHost::Netns(h) => h.spawn(spec).await,
            AnyHost::Ssh(h) => Host::spawn(h, spec).await,
        }
    }

    async fn write_file(&self, path: &Path, bytes: &[u8]) -> Result<(), HostError> {
        match self {
            AnyHost::Loopback(h) => h.write_file(path, bytes).await,
            AnyHost::Netns(h) => h.write_file(path, bytes).await,
            AnyHost::Ssh(h) => Host::write_file(h, path, bytes).await,
        }
    }

    async fn read_file(&self, path: &Path) -> Result<Vec<u8>, HostError> {
        match self {
            AnyHost::Loopback(h) => h.read_file(path).await,
            AnyHost::Netns(h) => h.read_file(path).await,
            AnyHost::Ssh(h) => Host::read_file(h, path).await,
        }
    }

    async fn drop_input_from(&self, sources: &[IpAddr]) -> Result<(), HostError> {
        match self {
            AnyHost::Loopback(h) => h.drop_input_from(sources).await,
            AnyHost::Netns(h) => h.drop_input_from(sources).await,
            AnyHost::Ssh(h) => Host::drop_input_from(h, sources).await,
        }
    }
}

/// The hosts of one run, node id → host, and what was set up for them.
pub struct Hosts {
    kind: HostKind,
    /// On ssh hosts, what `Drop` runs on each (kill the run's processes, delete its nft table,
    /// remove its directory) before the connections close.
    ssh_cleanup: Vec<(ssh::SshControl, String)>,
    hosts: Vec<(NodeId, Arc<AnyHost>)>,
    /// On loopback, its nodes' markers (`node_marker`): what `Drop` kills, so a daemon a node
    /// double-forked (Patroni's postmaster) does not outlive the set when the node's own
    /// process exited first and the cluster's kill had nothing left to start from. (Netns
    /// hosts: deleting the namespaces kills what runs in them.)
    markers: Vec<String>,
    /// The namespaces and bridge, deleted when the last reference to this set goes. Declared
    /// last: the hosts above are names only.
    netns: Option<NetnsHosts>,
}

impl Hosts {
    /// Sets up one host per id: nothing to do for loopback; namespaces and a bridge for netns.
    pub fn create(kind: HostKind, ids: &[NodeId]) -> Result<Hosts, HostError> {
        match kind {
            HostKind::Loopback => {
                let run = node_marker::next_run();
                Ok(Hosts {
                    kind,
                    ssh_cleanup: Vec::new(),
                    hosts: ids
                        .iter()
                        .map(|&id| {
                            let host = LoopbackHost::for_node(id, run);
                            (id, Arc::new(AnyHost::Loopback(host)))
                        })
                        .collect(),
                    markers: ids
                        .iter()
                        .map(|&id| node_marker::node_name(std::process::id(), run, id))
                        .collect(),
                    netns: None,
                })
            }
            HostKind::Netns => {
                let run = NetnsHosts::create(ids)?;
                Ok(Hosts {
                    kind,
                    ssh_cleanup: Vec::new(),
                    hosts: run
                        .hosts()
                        .into_iter()
                        .map(|(id, h)| (id, Arc::new(AnyHost::Netns(h))))
                        .collect(),
                    markers: Vec::new(),
                    netns: Some(run),
                })
            }
            // Connecting is async and needs the inventory: `connect_ssh`.
            HostKind::Ssh => Err(HostError::Unsupported {
                host: "--hosts ssh".into(),
                what: "ssh hosts are connected from an inventory (Hosts::connect_ssh)".into(),
            }),
        }
    }

    /// Connects to the inventory's first `ids.len()` hosts, node `ids[i]` on the i-th, and on
    /// each removes what dead controllers left (`SshHost::remove_stale`). The first host that
    /// refuses or does not answer is the error, naming it; the hosts connected before it are
    /// cleaned up and closed, so nothing is left.
    pub async fn connect_ssh(
        inventory: &ssh::Inventory,
        ids: &[NodeId],
    ) -> Result<Hosts, HostError> {
        let options = ssh::SshOptions {
            config_file: inventory.ssh_config.clone(),
        };
        let mut set = Hosts {
            kind: HostKind::Ssh,
            ssh_cleanup: Vec::new(),
            hosts: Vec::new(),
            markers: Vec::new(),
            netns: None,
        };
        // One marker for the run on every host: /tmp/faultline-<pid>-<run>.
        let run = ssh::next_run();
        for (&id, target) in ids.iter().zip(&inventory.hosts) {
            // From here an error drops `set`, whose Drop cleans up the hosts connected so far.
            let host = SshHost::connect_for_run(target.clone(), &options, run).await?;
            set.ssh_cleanup
                .push((host.control(), host.clean_up_script()));
            set.hosts.push((id, Arc::new(AnyHost::Ssh(host))));
            if let Some((_, host)) = set.hosts.last()
                && let AnyHost::Ssh(host) = &**host
            {
                host.remove_stale().await?;
            }
        }
        if set.hosts.len() < ids.len() {
            return Err(HostError::Unsupported {
                host: inventory.path.display().to_string(),
                what: format!(
                    "lists {} host(s); {} nodes need one host each",
                    inventory.hosts.len(),
                    ids.len()
                ),
            });
        }
        Ok(set)
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

impl Drop for Hosts {
    /// On ssh hosts: kills what the run started there, deletes its nft table and removes its
    /// directory (the nodes' logs were appended to the run folder as each process ended), then
    /// closes the connections. Local hosts' namespaces go with their own field.
    fn drop(&mut self) {
        for (control, script) in &self.ssh_cleanup {
            match control.shell_ok(script) {
                Ok(_) => {}
                Err(e) => eprintln!("faultline: cleaning up {}: {e}", control.host),
            }
        }
        // The sessions close (openssh's Drop: `ssh -O exit`) and their control directory goes
        // as the last reference to each host does.
        self.hosts.clear();
        if !self.markers.is_empty() {
            node_marker::kill_marked(|marker| self.markers.iter().any(|m| m == marker));
        }
    }
}

/// Removes what controllers that are no longer running left behind: their node processes
/// (by their marker, `node_marker::kill_stale`: on loopback, daemons PR_SET_PDEATHSIG did not
/// reach, such as Patroni's postmaster), then namespaces, bridges and veths. Best effort:
/// without root or `ip` nothing is listed and nothing removed.
pub fn remove_stale() {
    node_marker::kill_stale();
    netns::remove_stale();
}
