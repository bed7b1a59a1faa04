//! Cluster control: start N nodes of a system (`crate::system`: each node's files and processes
//! rendered from its definition), each on its own host (`crate::hosts`: a loopback address, a
//! network namespace or an ssh host — `remote.rs` is what differs there), wait for the definition's readiness probe and leader, kill, restart,
//! pause and resume single nodes — all of a node's processes at once — (the nemeses' `Nodes`),
//! stop them all.
//!
//! Invariant: no node outlives its `Cluster`. `stop` ends them politely, `Drop` SIGKILLs
//! whatever still runs, and `PR_SET_PDEATHSIG` (see hosts/spawner.rs) kills them when the
//! controller process dies without running either. The hosts go after their nodes.

mod error;
mod node_process;
mod nodes_impl;
mod ports;
mod remote;
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
use crate::hosts::{Host, Hosts};
use crate::network::ProxyNet;

use crate::system::leader::{self, Views};
use crate::system::probe::Probe;
use node_process::{NodeProcess, ProcessSlot, log_tail};
use status::StatusClient;

/// How long `start` (and a restart) waits for nodes to be ready and agree on a leader when the
/// definition's `ready.timeout-s` cannot be read as a duration.
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
    /// Every node's (id, IP, named ports), as its templates saw them.
    ports: Vec<crate::system::NodePorts>,
    /// Each node's clock environment (libfaketime's variables when its clock is faked): what
    /// `environment_clock_ms` runs `date` under.
    clock_env: Vec<(u32, Vec<(String, String)>)>,
    /// One lock per node: operations on one node run one at a time (a restart waits for its
    /// node's /status while holding it), operations on different nodes do not wait for each
    /// other.
    nodes: Vec<Mutex<NodeProcess>>,
    status: StatusClient,
    /// Each node's readiness probe, by index.
    probes: Vec<Probe>,
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
    /// The nodes on ssh hosts: their uploaded program, data and timestamp files there.
    remote: remote::RemotePrograms,
}

impl Cluster {
    /// Starts every node and waits until each passes its definition's readiness probe and,
    /// where the definition has a leader discoverer, one leader is agreed on, within the
    /// definition's `ready.timeout-s`.
    pub async fn start(spec: ClusterSpec) -> Result<Cluster, ClusterError> {
        let timeout = spec.ready_timeout();
        Self::start_with_timeout(spec, timeout).await
    }

    /// `start`, waiting up to `timeout` (also the budget of each later restart).
    pub async fn start_with_timeout(
        spec: ClusterSpec,
        timeout: Duration,
    ) -> Result<Cluster, ClusterError> {
        spec.validate()?;
        let ids: Vec<u32> = spec.ids().collect();
        let hosts = Hosts::create(spec.hosts, &ids).map_err(ClusterError::Hosts)?;
        Self::start_on(spec, hosts, timeout).await
    }

    /// `start_with_timeout` on hosts made beforehand (ssh hosts: `Hosts::connect_ssh`, which
    /// a run does before it writes anything), one per node id.
    pub async fn start_on(
        spec: ClusterSpec,
        hosts: Hosts,
        timeout: Duration,
    ) -> Result<Cluster, ClusterError> {
        spec.validate()?;
        create_dir(&spec.logs_dir(), "cannot create the node log folder")?;
        for id in spec.ids() {
            create_dir(&spec.data_dir(id), "cannot create a node data folder")?;
        }
        let ids: Vec<u32> = spec.ids().collect();
        let hosts = Arc::new(hosts);
        let ips: Vec<_> = hosts.iter().map(|(id, host)| (id, host.ip())).collect();
        let system = spec.system.clone();
        let ports = ports::node_ports(hosts.kind(), &ips, &system)?;
        let main_port = system.definition.main_port().to_owned();
        let addrs: Vec<(u32, SocketAddr)> = ports
            .iter()
            .map(|(id, ip, named)| {
                (
                    *id,
                    SocketAddr::new(*ip, named.get(&main_port).copied().unwrap_or_default()),
                )
            })
            .collect();
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
        // On ssh hosts the controller's own program (when the system runs it: kvnode) is
        // uploaded to each, and the nodes keep their data there.
        let runs_controller = system
            .definition
            .processes
            .iter()
            .any(|p| p.argv.first().is_some_and(|a| a.contains("faultline")));
        let remote = remote::RemotePrograms::upload(
            &hosts,
            runs_controller.then_some(spec.program.exe.as_path()),
            spec.faketime.as_deref(),
            &system.definition.requires,
        )
        .await?;
        let mut nodes = Vec::with_capacity(ports.len());
        let mut probes = Vec::with_capacity(ports.len());
        let mut clock_env = Vec::with_capacity(ports.len());
        for &(id, addr) in &addrs {
            // What node `id` dials for each peer's client port: the peer itself, or the link's
            // proxy.
            let via = |to: u32, port: &str| -> Option<SocketAddr> {
                if port != main_port {
                    return None;
                }
                proxy.as_ref().and_then(|p| p.link_addr(id, to))
            };
            let data_dir = remote.data_dir(id).unwrap_or_else(|| spec.data_dir(id));
            let vars = system.vars(id, &ports, &via, &data_dir, &spec.dir);
            let rendered = system.render_node(&vars).map_err(ClusterError::System)?;
            let host = hosts
                .get(id)
                .cloned()
                .ok_or_else(|| ClusterError::InvalidSpec(format!("no host for node {id}")))?;
            // A process that runs as an unprivileged account (PostgreSQL refuses root) writes
            // in its node's data folder: the folder is that account's.
            let mut owners: Vec<&str> = rendered
                .processes
                .iter()
                .filter_map(|p| p.user.as_deref())
                .collect();
            owners.dedup();
            for owner in owners {
                let folder = data_dir.display().to_string();
                let out = host
                    .exec(&["chown", "-R", owner, &folder])
                    .await
                    .map_err(ClusterError::Hosts)?;
                if !out.status.success() {
                    return Err(ClusterError::InvalidSpec(format!(
                        "n{id}: cannot give {folder} to {owner}: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    )));
                }
                // Owning the folder is not reaching it: a store under /root (0700) is closed
                // to every other account, and the node would fail with its own message.
                let reach = host
                    .exec(&["runuser", "-u", owner, "--", "test", "-w", &folder])
                    .await
                    .map_err(ClusterError::Hosts)?;
                if !reach.status.success() {
                    return Err(ClusterError::InvalidSpec(format!(
                        "n{id}: the {owner} account cannot reach its data folder {folder} (a \
                         folder above it is closed to other accounts, as /root is): use --store \
                         under /tmp, or open the folders above it"
                    )));
                }
            }
            let processes = rendered
                .processes
                .into_iter()
                .enumerate()
                .map(|(index, p)| {
                    let mut argv =
                        remote.program(id, &spec.program.exe, spec.program.substitute(p.argv));
                    if index == 0 {
                        argv.extend(spec.extra_args.iter().cloned());
                    }
                    let log = spec.process_log_path(id, index, &p.name);
                    // A process run as another account starts in its node's data folder (its
                    // own, reachable: checked above), not in the controller's working
                    // directory, which that account may not enter: Patroni's Python
                    // multiprocessing chdirs back to it and failed so in a 0700 checkout.
                    let dir = p.user.is_some().then(|| data_dir.clone());
                    ProcessSlot::new(p.name, argv, p.env, p.user, dir, log)
                })
                .collect();
            let files = rendered
                .files
                .into_iter()
                .map(|(path, text)| (data_dir.join(path), text))
                .collect();
            let own = ports
                .iter()
                .find(|n| n.0 == id)
                .map(|n| n.2.clone())
                .unwrap_or_default();
            probes.push(Probe::for_node(
                &system.definition.ready,
                addr.ip(),
                &own,
                system
                    .render_ready_command(&vars)
                    .map_err(ClusterError::System)?,
            ));
            nodes.push(Mutex::new(NodeProcess::new(
                id,
                processes,
                files,
                remote.env(id, faketime.as_ref().map(|f| f.env(id)).unwrap_or_default()),
                host,
            )));
            clock_env.push((
                id,
                remote.env(id, faketime.as_ref().map(|f| f.env(id)).unwrap_or_default()),
            ));
        }
        // From here on an early return drops `cluster`, and Drop kills what was started.
        let mut cluster = Cluster {
            spec,
            addrs,
            ports: ports.clone(),
            clock_env,
            nodes,
            status: StatusClient::new()?,
            probes,
            start_timeout: timeout,
            proxy,
            faketime,
            hosts,
            remote,
        };
        // The budget starts once the nodes do (an upload to ssh hosts is not counted).
        let deadline = Instant::now() + timeout;
        for node in &mut cluster.nodes {
            node.get_mut().start().await?;
        }
        for index in 0..cluster.nodes.len() {
            cluster.wait_until_answers(index, deadline, timeout).await?;
        }
        if leader::waits_for_leader(cluster.spec.system.definition.leader) {
            cluster.wait_for_leader(deadline, timeout).await?;
        }
        Ok(cluster)
    }

    /// The definition's `client.command` (the stdio protocol's program), rendered with node
    /// 1's variables: what every client process runs.
    pub fn client_command(&self) -> Result<Option<Vec<String>>, ClusterError> {
        let system = &self.spec.system;
        let Some(command) = &system.definition.client.command else {
            return Ok(None);
        };
        let vars = system.vars(
            1,
            &self.ports,
            &|_, _| None,
            &self.spec.data_dir(1),
            &self.spec.dir,
        );
        system
            .render_client_command(command, &vars)
            .map(Some)
            .map_err(ClusterError::System)
    }

    pub fn spec(&self) -> &ClusterSpec {
        &self.spec
    }

    /// (id, client address) of every node.
    pub fn addrs(&self) -> &[(u32, SocketAddr)] {
        &self.addrs
    }

    /// Clocks moved through the nodes' timestamp files, when started under libfaketime.
    pub fn faketime_clocks(&self) -> Option<FaketimeClocks> {
        self.faketime
            .as_ref()
            .map(|f| self.remote.clocks(f.clocks()))
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

    /// Node `id`'s wall clock as its environment sees it, in ms since the epoch: `date` run on
    /// its host under the node's clock environment (libfaketime's variables when its clock is
    /// faked). Works for any system, whatever it serves; None if the host does not answer.
    pub async fn environment_clock_ms(&self, id: u32) -> Option<f64> {
        let host = self.hosts.get(id)?;
        let env = self
            .clock_env
            .iter()
            .find(|(n, _)| *n == id)
            .map(|(_, env)| env.as_slice())
            .unwrap_or_default();
        let assignments: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut argv: Vec<&str> = vec!["env"];
        argv.extend(assignments.iter().map(String::as_str));
        argv.extend(["date", "+%s%N"]);
        // Bounded as a /status probe is: a host that stops answering must not hold the
        // sampler (and the heal that waits for it).
        let out = tokio::time::timeout(Duration::from_secs(1), host.exec(&argv))
            .await
            .ok()?
            .ok()?;
        let ns: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
        Some(ns / 1e6)
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

    /// What the nodes say about who leads, through the definition's discoverer.
    pub(crate) async fn leader_views(&self) -> Views {
        Views::ask(
            self.spec.system.definition.leader,
            &self.status,
            &self.addrs,
            &self.ports,
        )
        .await
    }

    fn index(&self, id: u32) -> Option<usize> {
        self.addrs.iter().position(|(i, _)| *i == id)
    }

    /// Waits until node `index` passes its readiness probe, failing early if a process of it
    /// exits.
    async fn wait_until_answers(
        &self,
        index: usize,
        deadline: Instant,
        budget: Duration,
    ) -> Result<(), ClusterError> {
        let (Some(slot), Some(probe)) = (self.nodes.get(index), self.probes.get(index)) else {
            return Ok(());
        };
        loop {
            let (id, log) = {
                let mut node = slot.lock().await;
                if let Some((status, log)) = node.exit_status() {
                    return Err(exited(node.id, status, &log));
                }
                (node.id, node.log_path.clone())
            };
            if probe.passes(self.status.http()).await {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(ClusterError::NotAnswering {
                    node: id,
                    probe: probe.describe(),
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
                if let Some((status, log)) = node.exit_status() {
                    return Err(exited(node.id, status, &log));
                }
            }
            let views = self.leader_views().await;
            if let Some(leader) = views.agreed() {
                return Ok(leader);
            }
            if Instant::now() >= deadline {
                return Err(ClusterError::NoLeader {
                    waited: budget,
                    views: views.describe(),
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

fn exited(node: u32, status: crate::hosts::ProcessExit, log: &std::path::Path) -> ClusterError {
    ClusterError::NodeExited {
        node,
        status: status.to_string(),
        log: log.to_path_buf(),
        tail: log_tail(log, 5),
    }
}
