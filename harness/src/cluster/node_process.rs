//! One node's processes on its host: write its files, start them with their logs appended to
//! files, signal them, kill and reap them — all of a node's processes together.

use std::io::Write;
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

/// One process of a node: its fixed command line and log, and while it runs, its handle.
#[derive(Debug)]
pub(crate) struct ProcessSlot {
    /// The definition's name for it (`kvnode`, `etcd`).
    pub name: String,
    exe: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    user: Option<String>,
    /// Its working directory (the controller's when None).
    dir: Option<PathBuf>,
    pub log_path: PathBuf,
    child: Option<ProcessHandle>,
}

impl ProcessSlot {
    /// From a rendered argv (program first).
    pub fn new(
        name: String,
        argv: Vec<String>,
        env: Vec<(String, String)>,
        user: Option<String>,
        dir: Option<PathBuf>,
        log_path: PathBuf,
    ) -> Self {
        let mut argv = argv.into_iter();
        let exe = PathBuf::from(argv.next().unwrap_or_default());
        ProcessSlot {
            name,
            exe,
            args: argv.collect(),
            env,
            user,
            dir,
            log_path,
            child: None,
        }
    }
}

/// A node slot: its processes (one or more, from the system's definition), the files written
/// into its data dir before each start, and whether it is paused. Kill, pause and resume act
/// on all of its processes at once, as a host crash or freeze would.
#[derive(Debug)]
pub(crate) struct NodeProcess {
    pub id: u32,
    processes: Vec<ProcessSlot>,
    /// (path, contents) written before each start.
    files: Vec<(PathBuf, String)>,
    /// The node's main log (its first process's).
    pub log_path: PathBuf,
    /// What the node runs on; every start goes through it.
    host: Arc<AnyHost>,
    paused: bool,
    starts: u32,
}

impl NodeProcess {
    /// `processes` in start order; `env` (libfaketime's variables, when used) is added to each
    /// process's own.
    pub fn new(
        id: u32,
        mut processes: Vec<ProcessSlot>,
        files: Vec<(PathBuf, String)>,
        env: Vec<(String, String)>,
        host: Arc<AnyHost>,
    ) -> Self {
        for p in &mut processes {
            p.env.extend(env.iter().cloned());
        }
        let log_path = processes
            .first()
            .map(|p| p.log_path.clone())
            .unwrap_or_default();
        NodeProcess {
            id,
            processes,
            files,
            log_path,
            host,
            paused: false,
            starts: 0,
        }
    }

    /// The first process's pid, None while it is down.
    pub fn pid(&self) -> Option<u32> {
        self.processes
            .first()
            .and_then(|p| p.child.as_ref())
            .map(ProcessHandle::pid)
    }

    /// Writes the node's files and starts every process not running (first start or
    /// restart: same command lines, ports and data dir). stdout and stderr are appended to each
    /// process's log after a marker line, so a restart's output follows the crash it recovers
    /// from in one file.
    pub async fn start(&mut self) -> Result<(), ClusterError> {
        if self.processes.iter().all(|p| p.child.is_some()) {
            return Err(self.error("already running"));
        }
        self.starts += 1;
        for (path, text) in &self.files {
            // A definition's file may sit in a folder of the data dir (`conf/x.conf`).
            if let Some(parent) = path.parent() {
                let parent = parent.display().to_string();
                let made = self.host.exec(&["mkdir", "-p", &parent]).await;
                if let Err(source) = made {
                    return Err(ClusterError::Spawn {
                        node: self.id,
                        source,
                    });
                }
            }
            self.host
                .write_file(path, text.as_bytes())
                .await
                .map_err(|source| ClusterError::Spawn {
                    node: self.id,
                    source,
                })?;
        }
        for index in 0..self.processes.len() {
            if self.processes[index].child.is_some() {
                continue;
            }
            self.write_marker(index)?;
            let p = &self.processes[index];
            let child = self
                .host
                .spawn(ProcessSpec {
                    program: p.exe.clone(),
                    args: p.args.clone(),
                    env: p.env.clone(),
                    dir: p.dir.clone(),
                    user: p.user.clone(),
                    log: p.log_path.clone(),
                })
                .await
                .map_err(|source| ClusterError::Spawn {
                    node: self.id,
                    source,
                })?;
            self.processes[index].child = Some(child);
        }
        self.paused = false;
        Ok(())
    }

    /// The marker line before each start's output.
    fn write_marker(&self, index: usize) -> Result<(), ClusterError> {
        let Some(p) = self.processes.get(index) else {
            return Ok(());
        };
        let io_err = |source| ClusterError::Io {
            what: "cannot open node log",
            path: p.log_path.clone(),
            source,
        };
        let mut log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&p.log_path)
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
        // A node of one process reads as it always did; several name the process.
        let process = if self.processes.len() > 1 {
            format!(" process {}", p.name)
        } else {
            String::new()
        };
        writeln!(
            log,
            "=== faultline: {what} node {}{process} (start #{}) at unix time {since_epoch:.3}{}: {} {} ===",
            self.id,
            self.starts,
            self.on_host(),
            p.exe.display(),
            p.args.join(" ")
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

    /// Whether a process of the node has exited (reaping it if so), and how, with its log.
    pub fn exit_status(&mut self) -> Option<(ProcessExit, PathBuf)> {
        let mut exited = None;
        for p in &mut self.processes {
            if let Some(child) = p.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                p.child = None;
                exited.get_or_insert((status, p.log_path.clone()));
            }
        }
        if self.processes.iter().all(|p| p.child.is_none()) {
            self.paused = false;
        }
        exited
    }

    /// Running: every process spawned and not known to have exited.
    pub fn is_running(&mut self) -> bool {
        self.exit_status();
        self.processes.iter().all(|p| p.child.is_some())
    }

    /// Whether any process still runs.
    fn any_running(&mut self) -> bool {
        self.exit_status();
        self.processes.iter().any(|p| p.child.is_some())
    }

    /// Sends `signal` to every running process's group and process tree, which also reaches
    /// anything a wrapper script started and processes that left the group (setsid).
    fn signal(&self, signal: libc::c_int) -> Result<(), ClusterError> {
        // Every process is signalled even when one fails (it may have just died): a kill or a
        // pause that stopped at the first error would leave the rest of the node running.
        let mut sent = false;
        let mut first_error = None;
        for p in &self.processes {
            let Some(child) = p.child.as_ref() else {
                continue;
            };
            match child.signal_tree(signal) {
                Ok(()) => sent = true,
                Err(e) => {
                    first_error.get_or_insert_with(|| {
                        self.error(&format!(
                            "signal {signal} to the process tree of {} ({}): {e}",
                            child.pid(),
                            p.name
                        ))
                    });
                }
            }
        }
        match (first_error, sent) {
            (Some(e), _) => Err(e),
            (None, true) => Ok(()),
            (None, false) => Err(self.error("not running")),
        }
    }

    /// SIGKILL and reap every process.
    pub async fn kill(&mut self) -> Result<(), ClusterError> {
        if !self.any_running() {
            return Err(self.error("not running"));
        }
        self.signal(libc::SIGKILL)?;
        self.reap(REAP_TIMEOUT).await
    }

    /// SIGSTOP, then waits (briefly) until the kernel reports every process stopped: signals
    /// are delivered asynchronously, and a nemesis that says "paused" should mean it.
    pub async fn pause(&mut self) -> Result<(), ClusterError> {
        self.signal(libc::SIGSTOP)?;
        self.paused = true;
        self.wait_for_state(true).await;
        Ok(())
    }

    /// SIGCONT, then waits (briefly) until every process runs again.
    pub async fn resume(&mut self) -> Result<(), ClusterError> {
        self.signal(libc::SIGCONT)?;
        self.paused = false;
        self.wait_for_state(false).await;
        Ok(())
    }

    /// Polls /proc until every thread of every process tree of the node is stopped (or none
    /// is), for up to `STATE_TIMEOUT` in all. Best effort: past it, or without /proc, the
    /// caller goes on.
    async fn wait_for_state(&self, want_stopped: bool) {
        let children: Vec<&ProcessHandle> = self
            .processes
            .iter()
            .filter_map(|p| p.child.as_ref())
            .collect();
        let deadline = tokio::time::Instant::now() + STATE_TIMEOUT;
        for child in children {
            while tokio::time::Instant::now() < deadline {
                // Local: /proc here; ssh: the host's /proc over its connection.
                let Some(states) = child.thread_states() else {
                    break;
                };
                let reached = if want_stopped {
                    states.all_stopped()
                } else {
                    states.none_stopped()
                };
                if reached {
                    break;
                }
                tokio::time::sleep(STATE_POLL).await;
            }
        }
    }

    /// Asks the node to stop (continuing it first if paused, or it could not act on SIGTERM).
    pub fn terminate(&mut self) {
        if !self.any_running() {
            return;
        }
        if self.paused {
            // No need to wait until it runs: SIGTERM is queued either way.
            let _ = self.signal(libc::SIGCONT);
            self.paused = false;
        }
        let _ = self.signal(libc::SIGTERM);
    }

    /// Waits up to `timeout` for every process to exit and reaps them.
    pub async fn reap(&mut self, timeout: Duration) -> Result<(), ClusterError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            self.exit_status();
            if self.processes.iter().all(|p| p.child.is_none()) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(self.error(&format!("still not exited after {timeout:?}")));
            }
            tokio::time::sleep(REAP_POLL).await;
        }
    }

    /// SIGKILL and reap without an async runtime, for Drop. Blocks only as long as the kernel
    /// takes to tear down the processes.
    pub fn kill_blocking(&mut self) {
        let _ = self.signal(libc::SIGKILL);
        for p in &mut self.processes {
            if let Some(mut child) = p.child.take() {
                let _ = child.wait_blocking();
            }
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
