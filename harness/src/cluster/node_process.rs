//! One node's process: start it with its log appended to a file, signal it, kill and reap it.

use std::fs::File;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::error::ClusterError;
use super::spawner;
use super::thread_states::thread_states;

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
    child: Option<Child>,
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
    ) -> Self {
        NodeProcess {
            id,
            addr,
            exe,
            args,
            log_path,
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
        self.child.as_ref().map(Child::id)
    }

    /// Starts the process (first start or restart: same flags, port and data dir). stdout and
    /// stderr are appended to the node's log after a marker line, so a restart's output follows
    /// the crash it recovers from in one file.
    pub async fn start(&mut self) -> Result<(), ClusterError> {
        if self.child.is_some() {
            return Err(self.error("already running"));
        }
        self.starts += 1;
        let log = self.open_log()?;
        let mut command = Command::new(&self.exe);
        command
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(self.clone_log(&log)?)
            .stderr(log)
            // Its own process group: a Ctrl-C in the controller's terminal reaches the controller
            // only, which then heals and stops the nodes in order instead of racing them.
            .process_group(0);
        let parent = std::process::id();
        // SAFETY: the hook runs in the forked child before exec and calls only the
        // async-signal-safe prctl(2) and getppid(2); it allocates nothing.
        unsafe {
            command.pre_exec(move || {
                // SIGKILL this node when the thread that forked it exits; that thread lives as
                // long as the controller process (see spawner.rs).
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                ) != 0
                {
                    return Err(io::Error::last_os_error());
                }
                // The controller may have died between fork and prctl; then no signal would
                // ever come, so refuse to run.
                if libc::getppid() as u32 != parent {
                    return Err(io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
        let child = spawner::spawn(command)
            .await
            .map_err(|source| ClusterError::Spawn {
                node: self.id,
                exe: self.exe.clone(),
                source,
            })?;
        self.child = Some(child);
        self.paused = false;
        Ok(())
    }

    fn open_log(&self) -> Result<File, ClusterError> {
        let io_err = |source| ClusterError::Io {
            what: "cannot open node log",
            path: self.log_path.clone(),
            source,
        };
        let mut log = File::options()
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
            "=== faultline: {what} node {} (start #{}) at unix time {since_epoch:.3}: {} {} ===",
            self.id,
            self.starts,
            self.exe.display(),
            self.args.join(" ")
        )
        .map_err(io_err)?;
        Ok(log)
    }

    fn clone_log(&self, log: &File) -> Result<File, ClusterError> {
        log.try_clone().map_err(|source| ClusterError::Io {
            what: "cannot share node log",
            path: self.log_path.clone(),
            source,
        })
    }

    /// Whether the process has exited (reaping it if so), and how.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
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

    /// Sends `signal` to the node's process group (its pid: see `process_group(0)`), which also
    /// reaches anything a wrapper script started.
    fn signal(&self, signal: libc::c_int) -> Result<(), ClusterError> {
        let pid = self.pid().ok_or_else(|| self.error("not running"))?;
        let pgid = libc::pid_t::try_from(pid).map_err(|_| self.error("pid out of range"))?;
        // SAFETY: kill(2) on the process group of a child we have not reaped, so the id cannot
        // have been reused by another process.
        if unsafe { libc::kill(-pgid, signal) } != 0 {
            let e = io::Error::last_os_error();
            return Err(self.error(&format!("signal {signal} to process group {pgid}: {e}")));
        }
        Ok(())
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

    /// Polls /proc until every thread of the process is stopped (or none is), for up to
    /// `STATE_TIMEOUT`. Best effort: past it, or without /proc, the caller goes on.
    async fn wait_for_state(&self, want_stopped: bool) {
        let Some(pid) = self.pid() else { return };
        let deadline = tokio::time::Instant::now() + STATE_TIMEOUT;
        while tokio::time::Instant::now() < deadline {
            let Some(states) = thread_states(pid) else {
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
            let _ = child.wait();
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
