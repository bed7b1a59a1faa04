//! A three-node kvnode cluster on distinct loopback addresses (127.0.0.31, .32, ...), a temp dir
//! each, short Raft timings. Every process is SIGCONTed and SIGKILLed when the guard drops, and
//! dies with the test thread that started it (PR_SET_PDEATHSIG), so a failing or killed test
//! leaves nothing running.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use faultline_workloads::NodeAddr;
use serde_json::Value;

#[path = "../../../harness/src/cluster/thread_states.rs"]
mod thread_states;
use thread_states::{ThreadStates, thread_states};

use crate::kvnode_bin::kvnode_bin;

/// The first node's address is 127.0.0.FIRST_HOST; kvnode's own tests use 127.0.0.1.
const FIRST_HOST: u8 = 31;

pub struct Node {
    pub id: u32,
    pub addr: SocketAddr,
    log_path: PathBuf,
    child: Child,
}

impl Node {
    fn signal(&self, sig: i32) -> Result<(), String> {
        let pid = i32::try_from(self.child.id()).map_err(|e| format!("pid: {e}"))?;
        // SAFETY: kill(2) on the pid of our own child, which we have not reaped yet.
        let rc = unsafe { libc::kill(pid, sig) };
        if rc == 0 {
            Ok(())
        } else {
            Err(format!("kill({pid}, {sig}) failed"))
        }
    }

    /// SIGSTOP, then waits until every thread is stopped: kill(2) only queues the signal.
    pub fn pause(&self) -> Result<(), String> {
        self.signal(libc::SIGSTOP)?;
        self.wait_for_threads("stopped", ThreadStates::all_stopped)
    }

    /// SIGCONT, then waits until no thread is stopped.
    pub fn resume(&self) -> Result<(), String> {
        self.signal(libc::SIGCONT)?;
        self.wait_for_threads("running", ThreadStates::none_stopped)
    }

    fn wait_for_threads(
        &self,
        what: &str,
        reached: fn(&ThreadStates) -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let states = thread_states(self.child.id());
            if states.as_ref().is_some_and(reached) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!("node {} not {what} after 5 s: {states:?}", self.id));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// SIGKILL, as the crash nemesis does; the guard reaps it.
    pub fn kill(&mut self) -> Result<(), String> {
        self.child
            .kill()
            .map_err(|e| format!("kill node {}: {e}", self.id))?;
        let _ = self.child.wait();
        Ok(())
    }
}

pub struct Cluster {
    pub nodes: Vec<Node>,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// Free ports, one per host, found by binding port 0 (all listeners held at once).
fn free_addrs(n: usize) -> Result<Vec<SocketAddr>, String> {
    let listeners = (0..n)
        .map(|i| {
            let host = FIRST_HOST + u8::try_from(i).map_err(|e| e.to_string())?;
            TcpListener::bind(SocketAddr::from(([127, 0, 0, host], 0)))
                .map_err(|e| format!("bind 127.0.0.{host}:0: {e}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map_err(|e| e.to_string()))
        .collect()
}

/// An address where nothing listens: a port that was free a moment ago.
pub fn dead_addr() -> Result<SocketAddr, String> {
    let listener = TcpListener::bind("127.0.0.30:0").map_err(|e| e.to_string())?;
    listener.local_addr().map_err(|e| e.to_string())
}

impl Cluster {
    pub fn start(n: usize) -> Result<Cluster, String> {
        Self::start_with_reads(n, "read-index")
    }

    pub fn start_with_reads(n: usize, reads: &str) -> Result<Cluster, String> {
        let bin = kvnode_bin()?;
        let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
        let addrs = free_addrs(n)?;
        let mut cluster = Cluster {
            nodes: Vec::new(),
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_millis(300))
                .build()
                .map_err(|e| e.to_string())?,
            _dir: dir,
        };
        for (i, addr) in addrs.iter().enumerate() {
            let id = u32::try_from(i + 1).map_err(|e| e.to_string())?;
            let peers: Vec<String> = addrs
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(j, a)| format!("{}={a}", j + 1))
                .collect();
            let data_dir = cluster._dir.path().join(format!("n{id}"));
            let log_path = cluster._dir.path().join(format!("n{id}.log"));
            let log = File::create(&log_path).map_err(|e| format!("node log: {e}"))?;
            let mut cmd = Command::new(&bin);
            cmd.args(["--id", &id.to_string(), "--listen", &addr.to_string()])
                .arg("--data-dir")
                .arg(&data_dir)
                .args(["--replication", "quorum", "--reads", reads])
                .args(["--heartbeat-ms", "50", "--election-timeout-ms", "150-300"])
                .args(["--request-timeout-ms", "1000", "--peers", &peers.join(",")])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log);
            // SAFETY: prctl is async-signal-safe; it only asks the kernel to SIGKILL the child
            // when the thread that spawned it exits (the test's thread outlives the guard).
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let child = cmd
                .spawn()
                .map_err(|e| format!("spawn {}: {e}", bin.display()))?;
            cluster.nodes.push(Node {
                id,
                addr: *addr,
                log_path,
                child,
            });
        }
        Ok(cluster)
    }

    /// The nodes as a client takes them.
    pub fn node_addrs(&self) -> Vec<NodeAddr> {
        self.nodes
            .iter()
            .map(|n| NodeAddr {
                id: n.id,
                addr: n.addr.to_string(),
            })
            .collect()
    }

    async fn status(&self, i: usize) -> Option<Value> {
        let url = format!("http://{}/status", self.nodes[i].addr);
        self.http.get(url).send().await.ok()?.json().await.ok()
    }

    /// Waits until one node leads and every node follows it; returns its index.
    pub async fn wait_for_leader(&self, within: Duration) -> Result<usize, String> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let mut statuses = Vec::new();
            for i in 0..self.nodes.len() {
                statuses.push(self.status(i).await);
            }
            let leaders: Vec<usize> = (0..statuses.len())
                .filter(|&i| statuses[i].as_ref().is_some_and(|s| s["role"] == "leader"))
                .collect();
            if let [leader] = leaders[..] {
                let id = &statuses[leader].as_ref().map(|s| s["id"].clone());
                let all_follow = statuses
                    .iter()
                    .all(|s| s.as_ref().map(|s| s["leader"].clone()) == *id);
                if all_follow {
                    return Ok(leader);
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(format!("no agreed leader within {within:?}"))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            // A stopped process must be continued to die promptly (an already reaped one makes
            // kill fail harmlessly: its pid is no longer signalled once waited for).
            if let Ok(None) = node.child.try_wait() {
                let _ = node.resume();
            }
            let _ = node.child.kill();
            let _ = node.child.wait();
            if std::thread::panicking() {
                let log = std::fs::read_to_string(&node.log_path).unwrap_or_default();
                eprintln!("---- node {} log ----\n{log}", node.id);
            }
        }
    }
}
