//! Cluster control: start N kvnode processes, each on its own host (`crate::hosts`: a loopback
//! address or a network namespace), watch them through `/status`, kill, restart, pause and
//! resume single nodes (the nemeses' `Nodes`), stop them all.
//!
//! Invariant: no node outlives its `Cluster`. `stop` ends them politely, `Drop` SIGKILLs
//! whatever still runs, and `PR_SET_PDEATHSIG` (see hosts/spawner.rs) kills them when the
//! controller process dies without running either. The hosts go after their nodes.

mod error;
mod node_process;
mod nodes_impl;
mod ports;
mod spec;
pub(crate) mod status;
pub(crate) mod thread_states;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;

pub use error::ClusterError;
pub use spec::{ClusterSpec, MAX_NODES, NodeProgram, PeerLinks};

use crate::clock::{FaketimeClocks, FaketimeFiles};
use crate::hosts::{Host, HostKind, Hosts};
use crate::network::ProxyNet;

use node_process::{NodeProcess, log_tail};
use status::{StatusClient, agreed_leader, describe};

/// How long `start` (and a restart) waits for nodes to answer and agree on a leader.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `stop` lets nodes exit after SIGTERM before it SIGKILLs them.
pub const STOP_GRACE: Duration = Duration::from_secs(2);
/// Between two rounds of polling /status while waiting.
const POLL: Duration = Duration::from_millis(50);

/// A running cluster of node processes.
pub struct Cluster {
    spec: ClusterSpec,
    /// (id, address) of every node, fixed for the cluster's life (restarts reuse them).
    addrs: Vec<(u32, SocketAddr)>,
    /// One lock per node: operations on one node run one at a time (a restart waits for its
    /// node's /status while holding it), operations on different nodes do not wait for each
    /// other.
    nodes: Vec<Mutex<NodeProcess>>,
    status: StatusClient,
    start_timeout: Duration,
    /// The link proxies when `spec.links` is `Proxied`. Declared after `nodes`, but Drop kills
    /// the nodes explicitly first either way.
    proxy: Option<Arc<ProxyNet>>,
    /// The nodes' libfaketime timestamp files, removed when the cluster is dropped (after
    /// Drop killed the nodes).
    faketime: Option<FaketimeFiles>,
    /// What the nodes run on. Drop kills the nodes before the fields go, so a namespace is
    /// deleted only once nothing runs in it; shared with the run's network on netns hosts.
    hosts: Arc<Hosts>,
}

impl Cluster {
    /// Starts every node and waits until each answers /status and one leader is agreed on,
    /// within `DEFAULT_START_TIMEOUT`.
    pub async fn start(spec: ClusterSpec) -> Result<Cluster, ClusterError> {
        Self::start_with_timeout(spec, DEFAULT_START_TIMEOUT).await
    }

    /// `start`, waiting up to `timeout` (also the budget of each later restart).
    pub async fn start_with_timeout(
        spec: ClusterSpec,
        timeout: Duration,
    ) -> Result<Cluster, ClusterError> {
        spec.validate()?;
        let deadline = Instant::now() + timeout;
        create_dir(&spec.logs_dir(), "cannot create the node log folder")?;
        for id in spec.ids() {
            create_dir(&spec.data_dir(id), "cannot create a node data folder")?;
        }
        let ids: Vec<u32> = spec.ids().collect();
        let hosts = Arc::new(Hosts::create(spec.hosts, &ids).map_err(ClusterError::Hosts)?);
        let ips: Vec<_> = hosts.iter().map(|(id, host)| (id, host.ip())).collect();
        let addrs = match hosts.kind() {
            // Loopback hosts share one port space: a port free right now for each.
            HostKind::Loopback => ports::free_addrs(&ips)?,
            // A namespace (or a remote machine) is a host of its own: its node port is free.
            HostKind::Netns | HostKind::Ssh => ips
                .iter()
                .map(|&(id, ip)| (id, SocketAddr::new(ip, crate::hosts::netns::NODE_PORT)))
                .collect(),
        };
        let proxy = match spec.links {
            PeerLinks::Direct => None,
            PeerLinks::Proxied => Some(Arc::new(ProxyNet::start(&addrs).await?)),
        };
        let faketime =
            match &spec.faketime {
                Some(library) => Some(FaketimeFiles::create(library, &ids).map_err(|source| {
                    ClusterError::Io {
                        what: "cannot create the libfaketime timestamp files in",
                        path: std::env::temp_dir(),
                        source,
                    }
                })?),
                None => None,
            };
        let nodes = addrs
            .iter()
            .map(|&(id, addr)| {
                // What node `id` dials for each peer: the peer itself, or the link's proxy.
                let peers: Vec<(u32, SocketAddr)> = addrs
                    .iter()
                    .map(|&(to, to_addr)| {
                        let via = proxy.as_ref().and_then(|p| p.link_addr(id, to));
                        (to, via.unwrap_or(to_addr))
                    })
                    .collect();
                let host = hosts
                    .get(id)
                    .cloned()
                    .ok_or_else(|| ClusterError::InvalidSpec(format!("no host for node {id}")))?;
                Ok(Mutex::new(
                    NodeProcess::new(
                        id,
                        addr,
                        spec.program.exe.clone(),
                        spec.node_args(id, addr, &peers),
                        spec.log_path(id),
                        host,
                    )
                    .with_env(faketime.as_ref().map(|f| f.env(id)).unwrap_or_default()),
                ))
            })
            .collect::<Result<_, ClusterError>>()?;
        // From here on an early return drops `cluster`, and Drop kills what was started.
        let mut cluster = Cluster {
            spec,
            addrs,
            nodes,
            status: StatusClient::new()?,
            start_timeout: timeout,
            proxy,
            faketime,
            hosts,
        };
        for node in &mut cluster.nodes {
            node.get_mut().start().await?;
        }
        for index in 0..cluster.nodes.len() {
            cluster.wait_until_answers(index, deadline, timeout).await?;
        }
        cluster.wait_for_leader(deadline, timeout).await?;
        Ok(cluster)
    }

    pub fn spec(&self) -> &ClusterSpec {
        &self.spec
    }

    /// (id, listen address) of every node.
    pub fn addrs(&self) -> &[(u32, SocketAddr)] {
        &self.addrs
    }

    /// Clocks moved through the nodes' timestamp files, when started under libfaketime.
    pub fn faketime_clocks(&self) -> Option<FaketimeClocks> {
        self.faketime.as_ref().map(FaketimeFiles::clocks)
    }

    /// The nodes' libfaketime timestamp files (none without libfaketime).
    pub fn faketime_files(&self) -> Vec<PathBuf> {
        self.faketime
            .as_ref()
            .map(FaketimeFiles::paths)
            .unwrap_or_default()
    }

    /// What the nodes run on.
    pub fn hosts(&self) -> Arc<Hosts> {
        self.hosts.clone()
    }

    /// The link proxies, when the cluster was started with `PeerLinks::Proxied`.
    pub fn proxy(&self) -> Option<Arc<ProxyNet>> {
        self.proxy.clone()
    }

    /// (id, "ip:port") of every node.
    pub fn nodes(&self) -> Vec<(u32, String)> {
        self.addrs
            .iter()
            .map(|(id, addr)| (*id, addr.to_string()))
            .collect()
    }

    pub fn addr(&self, id: u32) -> Option<SocketAddr> {
        self.addrs.iter().find(|(i, _)| *i == id).map(|(_, a)| *a)
    }

    pub fn log_path(&self, id: u32) -> PathBuf {
        self.spec.log_path(id)
    }

    /// The node's `GET /status` document, or None if it does not answer in time.
    pub async fn status(&self, id: u32) -> Option<Value> {
        self.status.get(self.addr(id)?).await
    }

    /// Every node's pid, None while it is down. For tests and the controller's log.
    pub async fn pids(&self) -> Vec<(u32, Option<u32>)> {
        let mut pids = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            let node = node.lock().await;
            pids.push((node.id, node.pid()));
        }
        pids
    }

    /// Stops every node: SIGCONT to the paused ones (a stopped process cannot act on SIGTERM),
    /// SIGTERM to all, `STOP_GRACE` to exit, then SIGKILL and reap whatever is left.
    pub async fn stop(&mut self) {
        for node in &mut self.nodes {
            node.get_mut().terminate();
        }
        let deadline = Instant::now() + STOP_GRACE;
        for node in &mut self.nodes {
            let left = deadline.saturating_duration_since(Instant::now());
            let node = node.get_mut();
            if node.reap(left).await.is_err() {
                node.kill_blocking();
            }
        }
    }

    fn index(&self, id: u32) -> Option<usize> {
        self.addrs.iter().position(|(i, _)| *i == id)
    }

    /// Waits until node `index` answers /status, failing early if its process exits.
    async fn wait_until_answers(
        &self,
        index: usize,
        deadline: Instant,
        budget: Duration,
    ) -> Result<(), ClusterError> {
        let Some(slot) = self.nodes.get(index) else {
            return Ok(());
        };
        loop {
            let (id, addr, log) = {
                let mut node = slot.lock().await;
                if let Some(status) = node.exit_status() {
                    return Err(exited(node.id, status, &node.log_path));
                }
                (node.id, node.addr, node.log_path.clone())
            };
            if self.status.get(addr).await.is_some() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(ClusterError::NotAnswering {
                    node: id,
                    addr,
                    waited: budget,
                    log,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until every node names the same leader and that leader says it leads.
    async fn wait_for_leader(
        &self,
        deadline: Instant,
        budget: Duration,
    ) -> Result<u32, ClusterError> {
        loop {
            for slot in &self.nodes {
                let mut node = slot.lock().await;
                if let Some(status) = node.exit_status() {
                    return Err(exited(node.id, status, &node.log_path));
                }
            }
            let statuses = self.status.get_all(&self.addrs).await;
            if let Some(leader) = agreed_leader(&statuses) {
                return Ok(leader);
            }
            if Instant::now() >= deadline {
                return Err(ClusterError::NoLeader {
                    waited: budget,
                    views: describe(&statuses),
                    logs: self.spec.logs_dir(),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for Cluster {
    /// SIGKILLs and reaps every node still running: no node outlives the controller's handle
    /// on it, whatever path (error, panic, forgotten `stop`) led here.
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.get_mut().kill_blocking();
        }
    }
}

fn create_dir(path: &std::path::Path, what: &'static str) -> Result<(), ClusterError> {
    std::fs::create_dir_all(path).map_err(|source| ClusterError::Io {
        what,
        path: path.to_path_buf(),
        source,
    })
}

fn exited(node: u32, status: std::process::ExitStatus, log: &std::path::Path) -> ClusterError {
    ClusterError::NodeExited {
        node,
        status: status.to_string(),
        log: log.to_path_buf(),
        tail: log_tail(log, 5),
    }
}
