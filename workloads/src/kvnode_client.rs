//! A client for kvnode's HTTP API (docs/kvnode.md): follows "not leader" hints, retries only with
//! the same (client_id, seq) so a retry can never apply twice, and classifies every outcome.
//!
//! One invocation is one `seq` and up to [`MAX_ATTEMPTS`] requests carrying it, all within an
//! overall deadline of twice the per-request timeout. The attempts go to the last known leader
//! first, then wherever a `not_leader` hint points, else round-robin. How the attempts become
//! `ok`, `fail` or `info` is in `classify.rs`.

mod attempt;
mod classify;
mod request;

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::client::{Client, Completion};
use crate::generator::Invocation;
use attempt::Attempt;
use classify::classify;
use request::{OpClass, Request};

/// Requests per invocation: the first, one hop to a hinted leader, and a round of the nodes
/// when an election leaves nobody to point at. More would keep one client retrying through a
/// whole election; a `not_leader` `fail` is cheap for the checker and the generator moves on.
pub const MAX_ATTEMPTS: usize = 5;
/// Pause before trying another node when no leader is known (an election is likely running):
/// short next to an election timeout, long enough not to spin on a refused port.
const BACKOFF: Duration = Duration::from_millis(20);
/// A node that does not accept a connection within this is down or cut off; a paused (SIGSTOPped)
/// node still completes the handshake in the kernel, so this never misjudges a slow node.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(200);
/// Idle keep-alive connections are dropped after this, so connections to a killed and
/// restarted node do not linger in the pool for long.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// A node the client may talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddr {
    pub id: u32,
    /// `IP:PORT`.
    pub addr: String,
}

impl NodeAddr {
    /// The node's name for people and histories: `nN` for kvnode id N.
    pub fn name(&self) -> String {
        format!("n{}", self.id)
    }
}

/// `n1 127.0.0.11:4000`: the name first, as everywhere, then where it listens.
impl std::fmt::Display for NodeAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name(), self.addr)
    }
}

/// Building the HTTP client failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

pub struct KvnodeClient {
    http: reqwest::Client,
    nodes: Vec<NodeAddr>,
    client_id: String,
    seq: u64,
    timeout: Duration,
    /// Index in `nodes` of the node that last acknowledged a write or was named leader.
    leader: Option<usize>,
    /// Index in `nodes` of the node tried last: round-robin continues from here.
    cursor: usize,
    /// The node this client reads from first, as a Jepsen client is bound to one node; cleared
    /// the first time that node answers a read with `not_leader` (the cluster's read mode sends
    /// reads to the leader, so asking the home node first would only cost a hop).
    home: Option<usize>,
}

impl KvnodeClient {
    /// A client named `client_id` (unique in the run) that gives up on a request after `timeout`.
    ///
    /// The id must not be reused by another `KvnodeClient` against the same data: seqs start at
    /// 1 in every client, and kvnode answers a used `(client_id, seq)` from its dedup table
    /// without applying it. One client may serve several history processes in turn (a process
    /// that ended in `info` continues under a new number) since its seqs never repeat.
    ///
    /// # Panics
    /// Only if reqwest cannot build a plain-HTTP client without proxies (no TLS backend is
    /// compiled in, so nothing from the environment is read); see [`KvnodeClient::try_new`].
    pub fn new(client_id: String, nodes: Vec<NodeAddr>, timeout: Duration) -> Self {
        match Self::try_new(client_id, nodes, timeout) {
            Ok(client) => client,
            Err(e) => panic!("{e}"),
        }
    }

    /// As [`KvnodeClient::new`], returning the error instead of panicking.
    pub fn try_new(
        client_id: String,
        nodes: Vec<NodeAddr>,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            // The nodes are on loopback; a proxy from the environment would break that.
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .build()?;
        Ok(KvnodeClient {
            http,
            nodes,
            client_id,
            seq: 0,
            timeout,
            leader: None,
            cursor: 0,
            home: None,
        })
    }

    /// Reads go to the `index`th node first (modulo the node count): spread over a client per
    /// node, reads reach followers, which is what read modes like `any` are about.
    pub fn with_home(mut self, index: usize) -> Self {
        self.home = (!self.nodes.is_empty()).then(|| index % self.nodes.len());
        self
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The overall time one invocation may take: room for one retry after a timed-out request.
    pub fn deadline(&self) -> Duration {
        self.timeout * 2
    }

    async fn perform(&mut self, invocation: &Invocation) -> Completion {
        // One new seq per invocation, also for reads (kvnode requires one) and for invocations
        // refused below, so seqs never depend on what was sent.
        self.seq += 1;
        let request = match Request::build(
            &invocation.f,
            invocation.key.as_deref(),
            &invocation.value,
            &self.client_id,
            self.seq,
        ) {
            Ok(r) => r,
            Err(e) => return Completion::not_sent(invocation, e.to_string()),
        };
        if self.nodes.is_empty() {
            return Completion::not_sent(invocation, "no nodes to send to".to_owned());
        }

        let start = Instant::now();
        let deadline = start + self.deadline();
        let at_home = match (request.class, self.home) {
            (OpClass::Read, Some(home)) => Some(home),
            _ => None,
        };
        let mut target = at_home.unwrap_or(self.leader.unwrap_or(self.cursor)) % self.nodes.len();
        let mut earlier_indefinite = false;
        let mut last = Attempt::NotSent("no attempt".to_owned());
        for n in 0..MAX_ATTEMPTS {
            let now = Instant::now();
            // The first attempt always runs; later ones only while time is left.
            if n > 0 && now >= deadline {
                break;
            }
            if n > 0 && matches!(last, Attempt::Indefinite(_)) && request.class != OpClass::Read {
                earlier_indefinite = true;
            }
            let per_request = self.timeout.min(deadline.saturating_duration_since(now));
            self.cursor = target;
            last = self.send(target, &request, per_request).await;
            match &last {
                Attempt::Ok(_) => {
                    // Reads may be served by followers (`--reads any`): only a write proves
                    // that a node leads.
                    if request.class != OpClass::Read {
                        self.leader = Some(target);
                    }
                    break;
                }
                Attempt::Definite { code, leader_hint } if code == "not_leader" => {
                    if n == 0 && at_home.is_some() {
                        self.home = None;
                    }
                    match leader_hint.as_deref().and_then(|a| self.index_of(a)) {
                        // Follow the hint at once: the hinted node is most likely the leader.
                        Some(hinted) if hinted != target => {
                            self.leader = Some(hinted);
                            target = hinted;
                        }
                        // No leader known (an election) or a hint to a node we do not know
                        // (we only talk to the nodes we were given): try the next node.
                        _ => {
                            self.leader = None;
                            target = self.next(target);
                            pause(BACKOFF, deadline).await;
                        }
                    }
                }
                // A read that could not confirm leadership changed nothing: another node may
                // be (or know) the new leader.
                Attempt::Definite { code, .. } if code == "read_timeout" => {
                    self.leader = None;
                    target = self.next(target);
                }
                // Any other definite answer (cas_mismatch, a 4xx) would be the same anywhere.
                Attempt::Definite { .. } => break,
                Attempt::NotSent(_) => {
                    if self.leader == Some(target) {
                        self.leader = None;
                    }
                    target = self.next(target);
                    pause(BACKOFF, deadline).await;
                }
                // The same (client_id, seq) elsewhere is safe: if this attempt was applied, the
                // retry is answered from the dedup table; if not, it is applied once.
                Attempt::Indefinite(_) => {
                    self.leader = None;
                    target = self.next(target);
                }
            }
        }

        let node = Some(self.nodes[self.cursor].name());
        let (kind, error) = classify(request.class, &last, earlier_indefinite);
        let value = match (&last, request.class) {
            // A read's value is what it read.
            (Attempt::Ok(v), OpClass::Read) => v.clone(),
            // kvnode answers an append with the whole list, which no checker needs (it knows
            // the list from the appends and the reads) and which grows with every append: the
            // history records the element for an append, nothing for a set's add.
            (Attempt::Ok(_), OpClass::Append) if invocation.f == "add" => Value::Null,
            // Put and cas answer null; the history records their argument, as it does for
            // every operation that did not (certainly) happen.
            _ => invocation.value.clone(),
        };
        Completion {
            kind,
            value,
            error,
            node,
        }
    }

    /// One request to one node, answered or not within `timeout`.
    async fn send(&self, target: usize, request: &Request, timeout: Duration) -> Attempt {
        let url = format!("http://{}{}", self.nodes[target].addr, request.route);
        // reqwest's per-request timeout runs from connecting until the body is read.
        let sent = self
            .http
            .post(url)
            .timeout(timeout)
            .json(&request.body)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return Attempt::from_error(&e),
        };
        let status = response.status().as_u16();
        match response.bytes().await {
            Ok(body) => Attempt::from_response(status, &body),
            // The request was sent; the answer was lost on the way.
            Err(e) => Attempt::Indefinite(match Attempt::from_error(&e) {
                Attempt::Indefinite(why) | Attempt::NotSent(why) => why,
                _ => "answer cut short".to_owned(),
            }),
        }
    }

    fn index_of(&self, addr: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.addr == addr)
    }

    fn next(&self, target: usize) -> usize {
        (target + 1) % self.nodes.len()
    }
}

impl Client for KvnodeClient {
    async fn invoke(&mut self, invocation: &Invocation) -> Completion {
        self.perform(invocation).await
    }
}

/// Sleeps `d`, or until the deadline if that comes first.
async fn pause(d: Duration, deadline: Instant) {
    let left = deadline.saturating_duration_since(Instant::now());
    tokio::time::sleep(d.min(left)).await;
}
