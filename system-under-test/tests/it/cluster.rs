//! Starting, killing, pausing and querying a cluster of kvnode processes. Every child is
//! SIGKILLed when its guard drops, so a failing test leaves nothing running.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "../../../harness/src/cluster/thread_states.rs"]
mod thread_states;
use thread_states::{ThreadStates, thread_states};

pub const HEARTBEAT_MS: u64 = 50;
pub const ELECTION_MS: &str = "150-300";

/// Flags shared by every node of a test cluster.
#[derive(Debug, Clone)]
pub struct Opts {
    pub replication: &'static str,
    pub reads: &'static str,
    pub request_timeout_ms: u64,
    pub election_ms: &'static str,
    pub extra: Vec<String>,
    /// Environment variables for every node process.
    pub env: Vec<(String, String)>,
}

impl Opts {
    pub fn new(replication: &'static str) -> Self {
        Opts {
            replication,
            reads: "read-index",
            request_timeout_ms: 1000,
            election_ms: ELECTION_MS,
            extra: Vec::new(),
            env: Vec::new(),
        }
    }
}

/// One kvnode process (or its slot while it is down).
pub struct NodeProc {
    pub id: u64,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub log_path: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    child: Option<Child>,
}

impl NodeProc {
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "node {} already running", self.id);
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("node log file");
        let child = Command::new(env!("CARGO_BIN_EXE_kvnode"))
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn kvnode");
        self.child = Some(child);
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn signal(&self, sig: i32) {
        let child = self.child.as_ref().expect("node running");
        let pid = i32::try_from(child.id()).expect("pid fits");
        // SAFETY: kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(pid, sig) };
        assert_eq!(rc, 0, "kill({pid}, {sig})");
    }

    /// SIGSTOP, then waits until every thread is stopped: kill(2) only queues the signal.
    pub fn pause(&self) {
        self.signal(libc::SIGSTOP);
        self.wait_for_threads("stopped", ThreadStates::all_stopped);
    }

    /// SIGCONT, then waits until no thread is stopped.
    pub fn resume(&self) {
        self.signal(libc::SIGCONT);
        self.wait_for_threads("running", ThreadStates::none_stopped);
    }

    fn wait_for_threads(&self, what: &str, reached: fn(&ThreadStates) -> bool) {
        let child = self.child.as_ref().expect("node running");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let states = thread_states(child.id());
            if states.as_ref().is_some_and(reached) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "node {} not {what} after 5 s: {states:?}",
                self.id
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        if let Some(child) = &self.child
            && let Ok(pid) = i32::try_from(child.id())
        {
            // A paused child must be resumed to die promptly.
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(pid, libc::SIGCONT) };
        }
        self.kill();
    }
}

/// A cluster of kvnode processes on 127.0.0.1 with free ports.
pub struct Cluster {
    pub nodes: Vec<NodeProc>,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// Free TCP ports on 127.0.0.1 (held together so they differ).
pub fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind port 0"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("local addr").port())
        .collect()
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(3000))
        .build()
        .expect("http client")
}

impl Cluster {
    /// Starts `n` nodes.
    pub fn start(n: usize, opts: &Opts) -> Cluster {
        let dir = tempfile::tempdir().expect("tempdir");
        let ports = free_ports(n);
        let addrs: Vec<SocketAddr> = ports
            .iter()
            .map(|p| SocketAddr::from(([127, 0, 0, 1], *p)))
            .collect();
        let mut nodes = Vec::new();
        for (i, addr) in addrs.iter().enumerate() {
            let id = i as u64 + 1;
            let peers: Vec<String> = addrs
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(j, a)| format!("{}={a}", j + 1))
                .collect();
            let data_dir = dir.path().join(format!("n{id}"));
            let mut args: Vec<String> = vec![
                "--id".into(),
                id.to_string(),
                "--listen".into(),
                addr.to_string(),
                "--data-dir".into(),
                data_dir.display().to_string(),
                "--replication".into(),
                opts.replication.into(),
                "--reads".into(),
                opts.reads.into(),
                "--heartbeat-ms".into(),
                HEARTBEAT_MS.to_string(),
                "--election-timeout-ms".into(),
                opts.election_ms.into(),
                "--request-timeout-ms".into(),
                opts.request_timeout_ms.to_string(),
            ];
            if !peers.is_empty() {
                args.push("--peers".into());
                args.push(peers.join(","));
            }
            args.extend(opts.extra.iter().cloned());
            let mut node = NodeProc {
                id,
                addr: *addr,
                log_path: dir.path().join(format!("n{id}.log")),
                data_dir,
                args,
                env: opts.env.clone(),
                child: None,
            };
            node.start();
            nodes.push(node);
        }
        Cluster {
            nodes,
            http: http_client(),
            _dir: dir,
        }
    }

    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.nodes.iter().map(|n| n.addr).collect()
    }

    /// GET /status of node `i`, or None if it does not answer.
    pub async fn status(&self, i: usize) -> Option<Value> {
        let url = format!("http://{}/status", self.nodes[i].addr);
        let resp = self
            .http
            .get(url)
            .timeout(Duration::from_millis(300))
            .send()
            .await
            .ok()?;
        resp.json().await.ok()
    }

    /// Indices of running nodes.
    pub fn live(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].is_running())
            .collect()
    }

    /// Waits until exactly one live node is leader and every other live node follows it;
    /// returns its index.
    pub async fn wait_for_leader(&self, within: Duration) -> Option<usize> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(leader) = self.agreed_leader().await {
                return Some(leader);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        None
    }

    async fn agreed_leader(&self) -> Option<usize> {
        let mut statuses = Vec::new();
        for i in self.live() {
            statuses.push((i, self.status(i).await?));
        }
        let leaders: Vec<&(usize, Value)> = statuses
            .iter()
            .filter(|(_, s)| s["role"] == "leader")
            .collect();
        let [(leader, ls)] = leaders.as_slice() else {
            return None;
        };
        let all_follow = statuses
            .iter()
            .all(|(_, s)| s["leader"] == ls["id"] && s["term"] == ls["term"]);
        all_follow.then_some(*leader)
    }

    /// GET /admin/kv of node `i`.
    pub async fn dump(&self, i: usize) -> Option<Value> {
        let url = format!("http://{}/admin/kv", self.nodes[i].addr);
        self.http.get(url).send().await.ok()?.json().await.ok()
    }

    /// Waits until every live node has applied the same state; returns it.
    pub async fn wait_converged(&self, within: Duration) -> Option<Value> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let mut dumps = Vec::new();
            for i in self.live() {
                dumps.push(self.dump(i).await);
            }
            if let Some(Some(first)) = dumps.first() {
                let same = dumps.iter().all(|d| {
                    d.as_ref().is_some_and(|d| {
                        d["data"] == first["data"] && d["last_applied"] == first["last_applied"]
                    })
                });
                if same {
                    return Some(first["data"].clone());
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    /// POSTs `body` to `route` on node `i`: (HTTP status, JSON body).
    pub async fn post(&self, i: usize, route: &str, body: &Value) -> Option<(u16, Value)> {
        post(&self.http, self.nodes[i].addr, route, body).await
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for node in &self.nodes {
                let log = node.log();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                eprintln!("---- node {} log (last lines) ----", node.id);
                for line in tail.iter().rev() {
                    eprintln!("{line}");
                }
            }
        }
    }
}

pub async fn post(
    http: &reqwest::Client,
    addr: SocketAddr,
    route: &str,
    body: &Value,
) -> Option<(u16, Value)> {
    let resp = http
        .post(format!("http://{addr}{route}"))
        .json(body)
        .send()
        .await
        .ok()?;
    let status = resp.status().as_u16();
    Some((status, resp.json().await.ok()?))
}

/// A client that follows leader hints and retries with the same `(client_id, seq)` until it
/// gets a definite answer, so every operation takes effect exactly once.
pub struct RetryingClient {
    pub http: reqwest::Client,
    pub addrs: Vec<SocketAddr>,
    pub client_id: String,
    pub seq: u64,
    target: usize,
}

impl RetryingClient {
    pub fn new(addrs: Vec<SocketAddr>, client_id: impl Into<String>) -> Self {
        RetryingClient {
            http: http_client(),
            addrs,
            client_id: client_id.into(),
            seq: 0,
            target: 0,
        }
    }

    /// Sends `body` (plus client_id and a new seq) until a definite answer or `within` passes.
    pub async fn call(
        &mut self,
        route: &str,
        body: Value,
        within: Duration,
    ) -> Option<(u16, Value)> {
        self.seq += 1;
        let mut body = body;
        body["client_id"] = json!(self.client_id);
        body["seq"] = json!(self.seq);
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let addr = self.addrs[self.target];
            match post(&self.http, addr, route, &body).await {
                Some((200, v)) => return Some((200, v)),
                Some((_, v)) if v["error"] == "not_leader" => {
                    let hinted = v["leader"]["addr"]
                        .as_str()
                        .and_then(|a| self.addrs.iter().position(|x| x.to_string() == a));
                    match hinted {
                        Some(i) if i != self.target => self.target = i,
                        _ => {
                            self.target = (self.target + 1) % self.addrs.len();
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
                Some((status, v)) if v["definite"] == true && v["error"] != "read_timeout" => {
                    return Some((status, v));
                }
                // Unknown outcome or no answer: retry the same (client_id, seq).
                _ => {
                    self.target = (self.target + 1) % self.addrs.len();
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        None
    }
}
