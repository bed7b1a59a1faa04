//! A client for etcd's v3 JSON gateway (`/v3/kv/range`, `/v3/kv/put`, `/v3/kv/txn` on every
//! member's client URL; shapes in `request.rs` and `response.rs`), for the register and kv
//! workloads, and `etcd_leader` (`leader.rs`) for the harness.
//!
//! A client is bound to one member at a time (its home first), as a Jepsen etcd client is: any
//! member takes any request, followers forward proposals to the leader and serve linearizable
//! reads through it. An invocation is up to `MAX_ATTEMPTS` requests within twice the
//! per-request timeout, but a write is sent again, to the next member, only after an attempt
//! that certainly did not apply it (nothing sent, or an error that proves it, `classify.rs`):
//! etcd has no dedup table, so a put sent twice could apply twice and reorder a register's
//! history. A read may be retried after anything. After an attempt that got no answer the
//! client moves on to the next member for its next invocation, so a paused or cut-off member
//! costs each client one operation.

mod classify;
mod leader;
mod request;
mod response;

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use crate::client::{Client, Completion};
use crate::generator::Invocation;
use crate::kvnode_client::{ClientError, NodeAddr};
use classify::{Effect, classify, error_effect};
pub use leader::etcd_leader;
use request::{OpClass, Request};
use response::{Answer, Attempt};

/// Requests per invocation: enough to go round three members and some, few enough that a
/// client does not spin through a whole election.
const MAX_ATTEMPTS: usize = 5;
/// Pause before asking the next member after one that refused or knew no leader: short next to
/// an election timeout, long enough not to spin on a refused port.
const BACKOFF: Duration = Duration::from_millis(20);
/// A member that does not accept a connection within this is down or cut off; a paused
/// (SIGSTOPped) member still completes the handshake in the kernel, so this never misjudges a
/// slow one.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(200);
/// Idle keep-alive connections are dropped after this, so connections to a killed and
/// restarted member do not linger in the pool.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// gRPC metadata (through the gateway's `Grpc-Metadata-` header prefix) asking etcd to refuse
/// the request at once, before proposing, while the member knows no leader: a definite `fail`
/// instead of a proposal that waits out its timeout (`v3rpc/interceptor.go`,
/// `rpctypes.MetadataRequireLeaderKey`).
const REQUIRE_LEADER_HEADER: (&str, &str) = ("grpc-metadata-hasleader", "true");

/// How reads are served: etcd's two range modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EtcdReads {
    /// Through raft's ReadIndex: a read sees every write acknowledged before it started.
    Linearizable,
    /// From the member's local state (`serializable: true`): may be stale on a member that is
    /// behind or cut off.
    Serializable,
}

impl EtcdReads {
    pub const ALL: [EtcdReads; 2] = [EtcdReads::Linearizable, EtcdReads::Serializable];

    pub fn name(self) -> &'static str {
        match self {
            EtcdReads::Linearizable => "linearizable",
            EtcdReads::Serializable => "serializable",
        }
    }
}

impl fmt::Display for EtcdReads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EtcdReads {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EtcdReads::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| {
                format!("unknown etcd reads \"{s}\"; expected linearizable or serializable")
            })
    }
}

/// A client of an etcd cluster: one Jepsen process's connection, performing one invocation at a
/// time (see the module doc for where requests go and when they are sent again).
pub struct EtcdClient {
    http: reqwest::Client,
    nodes: Vec<NodeAddr>,
    reads: EtcdReads,
    timeout: Duration,
    /// Index in `nodes` of the member this client talks to first.
    current: usize,
}

impl EtcdClient {
    /// A client of the members `nodes` (their client URLs' `IP:PORT`) that gives up on a
    /// request after `timeout` and reads as `reads` says.
    ///
    /// # Panics
    /// Only if reqwest cannot build a plain-HTTP client without proxies (no TLS backend is
    /// compiled in, so nothing from the environment is read); see [`EtcdClient::try_new`].
    pub fn new(nodes: Vec<NodeAddr>, reads: EtcdReads, timeout: Duration) -> Self {
        match Self::try_new(nodes, reads, timeout) {
            Ok(client) => client,
            Err(e) => panic!("{e}"),
        }
    }

    /// As [`EtcdClient::new`], returning the error instead of panicking.
    pub fn try_new(
        nodes: Vec<NodeAddr>,
        reads: EtcdReads,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            // The members are on loopback or in the run's namespaces; a proxy from the
            // environment would break that.
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .build()?;
        Ok(EtcdClient {
            http,
            nodes,
            reads,
            timeout,
            current: 0,
        })
    }

    /// Talks to the `index`th member first (modulo the member count): spread over a client per
    /// member, requests reach followers, which is what serializable reads are about.
    pub fn with_home(mut self, index: usize) -> Self {
        if !self.nodes.is_empty() {
            self.current = index % self.nodes.len();
        }
        self
    }

    /// The overall time one invocation may take: room for a read to try another member after
    /// a timed-out request.
    pub fn deadline(&self) -> Duration {
        self.timeout * 2
    }

    async fn perform(&mut self, invocation: &Invocation) -> Completion {
        let request = match Request::build(
            &invocation.f,
            invocation.key.as_deref(),
            &invocation.value,
            self.reads,
        ) {
            Ok(r) => r,
            Err(e) => return Completion::not_sent(invocation, e.to_string()),
        };
        if self.nodes.is_empty() {
            return Completion::not_sent(invocation, "no members to send to".to_owned());
        }

        let deadline = Instant::now() + self.deadline();
        let mut target = self.current % self.nodes.len();
        let mut asked = target;
        let mut last = Attempt::NotSent("no attempt".to_owned());
        for n in 0..MAX_ATTEMPTS {
            let now = Instant::now();
            // The first attempt always runs; later ones only while time is left.
            if n > 0 && now >= deadline {
                break;
            }
            let per_request = self.timeout.min(deadline.saturating_duration_since(now));
            asked = target;
            last = self.send(target, &request, per_request).await;
            let next = (target + 1) % self.nodes.len();
            match &last {
                Attempt::Answered(_) => break,
                // Nothing reached the member: any request may go to the next one.
                Attempt::NotSent(_) => {
                    target = next;
                    pause(BACKOFF, deadline).await;
                }
                // A read changes nothing, so it may always be asked again elsewhere.
                _ if request.class == OpClass::Read => target = next,
                Attempt::Error { code, message } => match error_effect(*code, message) {
                    // Not applied, and only this member's view of the cluster stood in the way.
                    Effect::NotAppliedHere => {
                        target = next;
                        pause(BACKOFF, deadline).await;
                    }
                    // Refused for what it is (the same anywhere), or possibly applied: never
                    // sent again.
                    Effect::NotApplied | Effect::Unknown => break,
                },
                // Possibly applied: never sent again.
                Attempt::Indefinite(_) => break,
            }
        }
        // The next invocation starts where this one got an answer, or past a member that gave
        // none.
        self.current = match last {
            Attempt::Answered(_) => asked,
            _ => (asked + 1) % self.nodes.len(),
        };

        let (kind, error) = classify(request.class, &last);
        let value = match last {
            // A read's value is what it read.
            Attempt::Answered(Answer::Read(v)) => v,
            // Put and cas record their argument, as every operation that did not (certainly)
            // happen does.
            _ => invocation.value.clone(),
        };
        Completion {
            kind,
            value,
            error,
            node: Some(self.nodes[asked].name()),
        }
    }

    /// One request to one member, answered or not within `timeout`.
    async fn send(&self, target: usize, request: &Request, timeout: Duration) -> Attempt {
        let url = format!("http://{}{}", self.nodes[target].addr, request.route);
        // reqwest's per-request timeout runs from connecting until the body is read.
        let sent = self
            .http
            .post(url)
            .timeout(timeout)
            .header(REQUIRE_LEADER_HEADER.0, REQUIRE_LEADER_HEADER.1)
            .json(&request.body)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return Attempt::from_error(&e),
        };
        let status = response.status().as_u16();
        match response.bytes().await {
            Ok(body) => Attempt::from_response(request.class, status, &body),
            // The request was sent; the answer was lost on the way.
            Err(e) => Attempt::Indefinite(match Attempt::from_error(&e) {
                Attempt::Indefinite(why) | Attempt::NotSent(why) => why,
                _ => "answer cut short".to_owned(),
            }),
        }
    }
}

impl Client for EtcdClient {
    async fn invoke(&mut self, invocation: &Invocation) -> Completion {
        self.perform(invocation).await
    }
}

/// Sleeps `d`, or until the deadline if that comes first.
async fn pause(d: Duration, deadline: Instant) {
    let left = deadline.saturating_duration_since(Instant::now());
    tokio::time::sleep(d.min(left)).await;
}
