//! One node's process on its host: start it with its log appended to a file, signal it, kill
//! and reap it.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::error::ClusterError;
use crate::hosts::{AnyHost, Host, ProcessExit, ProcessHandle, ProcessSpec};

/// How often to look whether a signalled process has exited.
const REAP_POLL: Duration = Duration::from_millis(5);
/// A SIGKILLed process is gone in milliseconds unless the kernel holds it in an uninterruptible
/// wait (an fsync on a slow disk); past this we report instead of hanging the nemesis.
const REAP_TIMEOUT: Duration = Duration::from_secs(10);
/// How often pause and resume look at the threads' states.
const STATE_POLL: Duration = Duration::from_millis(1);
/// How long pause and resume wait to see the process stopped or running again.
const STATE_TIMEOUT: Duration = Duration::from_secs(1);

/// A node slot: its fixed command line and, while it runs, its process.
#[derive(Debug)]
pub(crate) struct NodeProcess {
    pub id: u32,
    pub addr: SocketAddr,
    exe: PathBuf,
    args: Vec<String>,
    pub log_path: PathBuf,
    /// What the node runs on; every start goes through it.
    host: Arc<AnyHost>,
    child: Option<ProcessHandle>,
    paused: bool,
    starts: u32,
    /// Added to the controller's environment (libfaketime's variables, when used).
    env: Vec<(String, String)>,
}

impl NodeProcess {
    pub fn new(
        id: u32,
        addr: SocketAddr,
        exe: PathBuf,
        args: Vec<String>,
        log_path: PathBuf,
        host: Arc<AnyHost>,
    ) -> Self {
        NodeProcess {
            id,
            addr,
            exe,
            args,
            log_path,
            host,
            child: None,
            paused: false,
            starts: 0,
            env: Vec::new(),
        }
    }

    pub fn with_env(mut self, env: Vec<(String, String)>) -> Self {
        self.env = env;
        self
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(ProcessHandle::pid)
    }

    /// Starts the process (first start or restart: same flags, port and data dir). stdout and
    /// stderr are appended to the node's log after a marker line, so a restart's output follows
    /// the crash it recovers from in one file.
    pub async fn start(&mut self) -> Result<(), ClusterError> {
        if self.child.is_some() {
            return Err(self.error("already running"));
        }
        self.starts += 1;
        self.write_marker()?;
        let child = self
            .host
            .spawn(ProcessSpec {
                program: self.exe.clone(),
                args: self.args.clone(),
                env: self.env.clone(),
                dir: None,
                user: None,
                log: self.log_path.clone(),
            })
            .await
            .map_err(|source| ClusterError::Spawn {
                node: self.id,
                source,
            })?;
        self.child = Some(child);
        self.paused = false;
        Ok(())
    }

    /// The marker line before each start's output.
    fn write_marker(&self) -> Result<(), ClusterError> {
        let io_err = |source| ClusterError::Io {
            what: "cannot open node log",
            path: self.log_path.clone(),
            source,
        };
        let mut log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .map_err(io_err)?;
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        let what = if self.starts <= 1 {
            "starting"
        } else {
            "restarting"
        };
        writeln!(
            log,
            "=== faultline: {what} node {} (start #{}) at unix time {since_epoch:.3}{}: {} {} ===",
            self.id,
            self.starts,
            self.on_host(),
            self.exe.display(),
            self.args.join(" ")
        )
        .map_err(io_err)
    }

    /// " on host NAME" where the host is not the node's loopback address (so the log of a
    /// loopback run reads as it always did).
    fn on_host(&self) -> String {
        match &*self.host {
            AnyHost::Loopback(_) => String::new(),
            host => format!(" on host {}", host.name()),
        }
    }

    /// Whether the process has exited (reaping it if so), and how.
    pub fn exit_status(&mut self) -> Option<ProcessExit> {
        let status = self.child.as_mut()?.try_wait().ok()??;
        self.child = None;
        self.paused = false;
        Some(status)
    }

    /// Running: spawned and not known to have exited.
    pub fn is_running(&mut self) -> bool {
        self.exit_status();
        self.child.is_some()
    }

    /// Sends `signal` to the node's process group and process tree, which also reaches
    /// anything a wrapper script started and processes that left the group (setsid).
    fn signal(&self, signal: libc::c_int) -> Result<(), ClusterError> {
        let child = self
            .child
            .as_ref()
            .ok_or_else(|| self.error("not running"))?;
        child.signal_tree(signal).map_err(|e| {
            self.error(&format!(
                "signal {signal} to the process tree of {}: {e}",
                child.pid()
            ))
        })
    }

    /// SIGKILL and reap.
    pub async fn kill(&mut self) -> Result<(), ClusterError> {
        if !self.is_running() {
            return Err(self.error("not running"));
        }
        self.signal(libc::SIGKILL)?;
        self.reap(REAP_TIMEOUT).await
    }

    /// SIGSTOP, then waits (briefly) until the kernel reports the process stopped: signals are
    /// delivered asynchronously, and a nemesis that says "paused" should mean it.
    pub async fn pause(&mut self) -> Result<(), ClusterError> {
        self.signal(libc::SIGSTOP)?;
        self.paused = true;
        self.wait_for_state(true).await;
        Ok(())
    }

    /// SIGCONT, then waits (briefly) until the process runs again.
    pub async fn resume(&mut self) -> Result<(), ClusterError> {
        self.signal(libc::SIGCONT)?;
        self.paused = false;
        self.wait_for_state(false).await;
        Ok(())
    }

    /// Polls /proc until every thread of the process tree is stopped (or none is), for up to
    /// `STATE_TIMEOUT`. Best effort: past it, or without /proc, the caller goes on.
    async fn wait_for_state(&self, want_stopped: bool) {
        let Some(child) = &self.child else { return };
        let deadline = tokio::time::Instant::now() + STATE_TIMEOUT;
        while tokio::time::Instant::now() < deadline {
            // Local: /proc here; ssh: the host's /proc over its connection.
            let Some(states) = child.thread_states() else {
                return;
            };
            let reached = if want_stopped {
                states.all_stopped()
            } else {
                states.none_stopped()
            };
            if reached {
                return;
            }
            tokio::time::sleep(STATE_POLL).await;
        }
    }

    /// Asks the node to stop (continuing it first if paused, or it could not act on SIGTERM).
    pub fn terminate(&mut self) {
        if !self.is_running() {
            return;
        }
        if self.paused {
            // No need to wait until it runs: SIGTERM is queued either way.
            let _ = self.signal(libc::SIGCONT);
            self.paused = false;
        }
        let _ = self.signal(libc::SIGTERM);
    }

    /// Waits up to `timeout` for the process to exit and reaps it.
    pub async fn reap(&mut self, timeout: Duration) -> Result<(), ClusterError> {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.child.is_some() {
            if self.exit_status().is_some() {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(self.error(&format!("still not exited after {timeout:?}")));
            }
            tokio::time::sleep(REAP_POLL).await;
        }
        Ok(())
    }

    /// SIGKILL and reap without an async runtime, for Drop. Blocks only as long as the kernel
    /// takes to tear down the process.
    pub fn kill_blocking(&mut self) {
        if self.child.is_some() {
            let _ = self.signal(libc::SIGKILL);
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.wait_blocking();
        }
        self.paused = false;
    }

    fn error(&self, message: &str) -> ClusterError {
        ClusterError::Node {
            node: self.id,
            message: message.to_string(),
        }
    }
}

/// The last lines of a log, formatted to follow an error message (empty for an empty log).
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let tail: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("=== faultline:"))
        .rev()
        .take(lines)
        .collect();
    if tail.is_empty() {
        return String::new();
    }
    let mut out = String::from("; it ends with:");
    for line in tail.into_iter().rev() {
        out.push_str("\n    ");
        out.push_str(line);
    }
    out
}
