//! The userspace network backend: one TCP proxy per directed peer link, owned by the
//! controller. Node A's `--peers` names, for each B, the proxy of link A→B; that proxy forwards
//! to B. A grudge makes the proxies stop forwarding the cut directions — bytes wait, nothing is
//! reset, as when a firewall drops packets and TCP keeps retransmitting — and heal lets them
//! flow again. The same proxies slow links (delay, jitter, loss). No privileges needed.
//!
//! Invariant: every task is aborted when the `ProxyNet` is dropped, so no proxy outlives its
//! cluster; listeners bind loopback addresses only.

mod pump;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;

use faultline_nemeses::{Grudge, LinkDelay, Network, NetworkError, NodeId};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use super::NetError;

/// What every link does right now: one value shared by all pumps through a watch channel.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct LinkState {
    pub grudge: Grudge,
    /// Links to or from these nodes are slowed by `delay`.
    pub slowed: BTreeSet<NodeId>,
    pub delay: LinkDelay,
}

impl LinkState {
    pub fn open(&self, from: NodeId, to: NodeId) -> bool {
        !self.grudge.drops(from, to)
    }

    pub fn slow(&self, from: NodeId, to: NodeId) -> Option<LinkDelay> {
        (self.slowed.contains(&from) || self.slowed.contains(&to)).then_some(self.delay)
    }
}

/// Every proxy of a cluster.
pub struct ProxyNet {
    state: Arc<watch::Sender<LinkState>>,
    /// (from, to) → the address `from` dials to reach `to`.
    links: BTreeMap<(NodeId, NodeId), SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

impl ProxyNet {
    /// Binds one listener per directed link among `nodes` and starts forwarding. The proxy of
    /// link A→B listens on B's loopback IP (a free port), so addresses stay on 127.0.0.0/8 and
    /// a glance at a peer address tells whom it reaches.
    pub async fn start(nodes: &[(NodeId, SocketAddr)]) -> Result<ProxyNet, NetError> {
        let state = Arc::new(watch::Sender::new(LinkState::default()));
        let mut links = BTreeMap::new();
        let mut tasks = Vec::new();
        for &(from, _) in nodes {
            for &(to, target) in nodes {
                if from == to {
                    continue;
                }
                let ip = target.ip();
                if !ip.is_loopback() {
                    return Err(NetError::NotLoopback(ip));
                }
                let listener = TcpListener::bind((ip, 0))
                    .await
                    .map_err(|source| NetError::Bind { ip, source })?;
                let addr = listener
                    .local_addr()
                    .map_err(|source| NetError::Bind { ip, source })?;
                links.insert((from, to), addr);
                let link = Link {
                    from,
                    to,
                    target,
                    state: state.subscribe(),
                };
                tasks.push(tokio::spawn(link.serve(listener)));
            }
        }
        Ok(ProxyNet {
            state,
            links,
            tasks,
        })
    }

    /// The address node `from` must dial to reach node `to`.
    pub fn link_addr(&self, from: NodeId, to: NodeId) -> Option<SocketAddr> {
        self.links.get(&(from, to)).copied()
    }

    fn set(&self, change: impl FnOnce(&mut LinkState)) {
        self.state.send_modify(change);
    }
}

impl Drop for ProxyNet {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Network for ProxyNet {
    async fn partition(&self, grudge: &Grudge) -> Result<(), NetworkError> {
        let grudge = grudge.clone();
        self.set(|s| s.grudge = grudge);
        Ok(())
    }

    async fn slow(&self, nodes: &[NodeId], delay: LinkDelay) -> Result<(), NetworkError> {
        let slowed: BTreeSet<NodeId> = nodes.iter().copied().collect();
        self.set(|s| {
            s.slowed = slowed;
            s.delay = delay;
        });
        Ok(())
    }

    async fn heal(&self) -> Result<(), NetworkError> {
        self.set(|s| *s = LinkState::default());
        Ok(())
    }
}

/// One directed link's proxy: accepts `from`'s connections and forwards them to `target`.
struct Link {
    from: NodeId,
    to: NodeId,
    target: SocketAddr,
    state: watch::Receiver<LinkState>,
}

impl Link {
    /// Accepts until aborted. The connections live in a JoinSet owned by this task, so
    /// aborting the listener aborts them too.
    async fn serve(self, listener: TcpListener) {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    // A failed accept (out of descriptors) drops that one connection attempt.
                    if let Ok((client, _)) = accepted {
                        connections.spawn(self.forward(client));
                    }
                }
                // Reap finished connections so the set does not grow for the whole run.
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    }

    fn forward(&self, client: TcpStream) -> impl Future<Output = ()> + Send + 'static {
        let (from, to, target) = (self.from, self.to, self.target);
        let mut state = self.state.clone();
        async move {
            // A dropped SYN never reaches the peer: do not dial it while the link is cut.
            if !pump::wait_open(&mut state, from, to).await {
                return;
            }
            // The peer is down (killed): closing the client's side is what it would see.
            let Ok(upstream) = TcpStream::connect(target).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = upstream.set_nodelay(true);
            let (client_read, client_write) = client.into_split();
            let (upstream_read, upstream_write) = upstream.into_split();
            tokio::join!(
                pump::pump(client_read, upstream_write, from, to, state.clone()),
                pump::pump(upstream_read, client_write, to, from, state),
            );
        }
    }
}
