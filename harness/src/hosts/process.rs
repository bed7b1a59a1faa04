//! Processes a host starts: what to run (`ProcessSpec`) and the handle that signals and reaps
//! it (`ProcessHandle`).
//!
//! Local processes (loopback and netns hosts) are forked on the spawner thread (spawner.rs),
//! each in a process group of its own, with `PR_SET_PDEATHSIG` so that none outlives the
//! controller. A netns host's process enters the namespace in the child, between fork and exec
//! (`setns(2)` on `/run/netns/NAME`), rather than through `ip netns exec`: the pid is the
//! node's with no wrapper in between, nothing besides libc is needed, and the mount namespace
//! stays the controller's (`ip netns exec` remounts /sys in a private one). Each carries its
//! node's marker (`node_marker.rs`) in its environment.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;

use super::node_marker;
use super::process_tree;
use super::spawner;
use super::ssh::RemoteHandle;
use crate::cluster::thread_states::ThreadStates;

/// A long-running process to start on a host.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Added to the controller's environment.
    pub env: Vec<(String, String)>,
    /// Its working directory (the controller's when None).
    pub dir: Option<PathBuf>,
    /// Run as this unprivileged user (a name from the host's passwd), or as the controller.
    pub user: Option<String>,
    /// stdout and stderr are appended here.
    pub log: PathBuf,
}

/// A process a host started: a child of the controller (loopback and netns hosts) or a pid on
/// an ssh host, reached over the host's connection.
///
/// Its methods are blocking and cheap locally; on an ssh host each is one command over the
/// open master connection (milliseconds), so Drop and the nemeses' sync paths can use them.
#[derive(Debug)]
pub enum ProcessHandle {
    Local(LocalProcess),
    Remote(RemoteHandle),
}

/// A child of the controller, and the processes of its node its last signal reached.
#[derive(Debug)]
pub struct LocalProcess {
    child: Child,
    /// What the last `signal_tree` found (`process_tree::node_processes`), so that watching a
    /// pause take hold reads every process's stat, not every process's environment, each poll.
    signalled: Mutex<Vec<u32>>,
    /// Its node's marker (`FAULTLINE_NODE`), kept rather than read back from its environment:
    /// a node process that exited, or rewrote its environment, still leads to its daemons.
    marker: String,
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessExit {
    /// A local child's exit status.
    Status(ExitStatus),
    /// A remote process that is gone: no parent of the controller's saw its status.
    Gone,
}

impl ProcessExit {
    /// Exited with status 0 (a remote process's status is unknown: not a success).
    pub fn success(&self) -> bool {
        matches!(self, ProcessExit::Status(s) if s.success())
    }
}

impl std::fmt::Display for ProcessExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProcessExit::Status(s) => s.fmt(f),
            ProcessExit::Gone => f.write_str("gone (a remote process's exit status is unknown)"),
        }
    }
}

impl ProcessHandle {
    pub fn pid(&self) -> u32 {
        match self {
            ProcessHandle::Local(local) => local.child.id(),
            ProcessHandle::Remote(remote) => remote.pid(),
        }
    }

    /// Sends `signal` to the process's group (its pid: it leads a group of its own) and to
    /// every process descending from it, also those that left the group (every PostgreSQL
    /// backend calls setsid), and every other process of its node (a daemon double-forked to
    /// init): on a netns host those of its namespace, on loopback those carrying its node
    /// marker. A host's crash or pause reaches all of a node. See
    /// `process_tree::signal_tree` for the order.
    pub fn signal_tree(&self, signal: libc::c_int) -> io::Result<()> {
        match self {
            ProcessHandle::Local(local) => {
                let pid = local.child.id();
                let signalled =
                    process_tree::signal_tree(pid, pid, signal, Some(local.marker.as_str()));
                if let Ok(mut last) = local.signalled.lock() {
                    // After an error, nothing is known: the next look reads the node again.
                    *last = signalled.as_ref().cloned().unwrap_or_default();
                }
                signalled.map(|_| ())
            }
            ProcessHandle::Remote(remote) => remote.signal_tree(signal),
        }
    }

    /// How it ended if it has (reaping it), None while it runs.
    pub fn try_wait(&mut self) -> io::Result<Option<ProcessExit>> {
        match self {
            ProcessHandle::Local(local) => Ok(local.child.try_wait()?.map(ProcessExit::Status)),
            ProcessHandle::Remote(remote) => remote.try_wait(),
        }
    }

    /// Waits for it to exit, blocking the thread (for Drop).
    pub fn wait_blocking(&mut self) -> io::Result<ProcessExit> {
        match self {
            ProcessHandle::Local(local) => local.child.wait().map(ProcessExit::Status),
            ProcessHandle::Remote(remote) => remote.wait_blocking(),
        }
    }

    /// The states of every thread of its processes (for pause: "paused" means all of them are
    /// stopped), None once it is gone or where they cannot be read. Its processes: its tree and
    /// those the last signal reached, or, before any signal, `process_tree::node_processes`.
    pub fn thread_states(&self) -> Option<ThreadStates> {
        match self {
            ProcessHandle::Local(local) => {
                let pid = local.child.id();
                let signalled = local
                    .signalled
                    .lock()
                    .map(|s| s.clone())
                    .unwrap_or_default();
                let pids = if signalled.is_empty() {
                    process_tree::node_processes(pid, Some(local.marker.as_str()))
                } else {
                    let tree = process_tree::process_tree(pid);
                    let others: Vec<u32> = signalled
                        .into_iter()
                        .filter(|p| !tree.contains(p))
                        .collect();
                    [tree, others].concat()
                };
                process_tree::tree_thread_states(&pids)
            }
            ProcessHandle::Remote(remote) => remote.thread_states(),
        }
    }
}

/// Starts `spec` on this machine, in the network namespace `netns` (a `/run/netns` file) when
/// given, with `FAULTLINE_NODE=<node>` in its environment (`node_marker.rs`: what finds a
/// daemon it double-forks, and what the next controller kills if this one dies).
pub(crate) async fn spawn_local(
    host: &str,
    node: &str,
    spec: ProcessSpec,
    netns: Option<&std::path::Path>,
) -> Result<ProcessHandle, super::HostError> {
    let err = |what: &str, e| super::HostError::io(host, what, e);
    let log = File::options()
        .create(true)
        .append(true)
        .open(&spec.log)
        .map_err(|e| err(&format!("cannot open {}", spec.log.display()), e))?;
    let namespace = netns
        .map(File::open)
        .transpose()
        .map_err(|e| err("cannot open its network namespace", e))?;
    let uid_gid = spec
        .user
        .as_deref()
        .map(user_ids)
        .transpose()
        .map_err(|e| err("cannot find its user", e))?;
    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .env(node_marker::ENV, node)
        .stdin(Stdio::null())
        .stdout(
            log.try_clone()
                .map_err(|e| err("cannot share its log", e))?,
        )
        .stderr(log)
        // Its own process group: a Ctrl-C in the controller's terminal reaches the controller
        // only, which then heals and stops the nodes in order instead of racing them.
        .process_group(0);
    if let Some(dir) = &spec.dir {
        command.current_dir(dir);
    }
    let parent = std::process::id();
    // SAFETY: the hook runs in the forked child before exec and calls only the
    // async-signal-safe setns(2), setgroups(2), setgid(2), setuid(2), prctl(2) and getppid(2);
    // it allocates nothing.
    unsafe {
        // The namespace file moves into the hook, so it stays open as long as the command
        // does, whatever happens to this future before the fork.
        command.pre_exec(move || {
            if let Some(file) = &namespace
                && libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // The user is changed here, after setns (which needs root) and before prctl (a
            // change of credentials clears the parent-death signal), not by Command::uid,
            // which std applies before this hook runs.
            if let Some((uid, gid)) = uid_gid
                && (libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(gid) != 0
                    || libc::setuid(uid) != 0)
            {
                return Err(io::Error::last_os_error());
            }
            // SIGKILL this process when the thread that forked it exits; that thread lives as
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
        .map_err(|e| err(&format!("cannot start {}", spec.program.display()), e))?;
    Ok(ProcessHandle::Local(LocalProcess {
        child,
        signalled: Mutex::new(Vec::new()),
        marker: node.to_owned(),
    }))
}

/// Runs `argv` to its end on this machine (inside `netns` when given) and returns its output.
pub(crate) async fn exec_local(
    host: &str,
    argv: &[&str],
    netns: Option<&std::path::Path>,
) -> Result<std::process::Output, super::HostError> {
    let host_name = host.to_owned();
    let argv: Vec<OsString> = argv.iter().map(OsString::from).collect();
    let netns = netns.map(std::path::Path::to_path_buf);
    let command_line = argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    tokio::task::spawn_blocking(move || exec_blocking(&argv, netns.as_deref()))
        .await
        .map_err(|e| super::HostError::Command {
            host: host_name.clone(),
            command: command_line.clone(),
            message: e.to_string(),
        })?
        .map_err(|e| super::HostError::io(&host_name, format!("cannot run {command_line}"), e))
}

/// `exec_local` without a runtime (setup and Drop).
pub(crate) fn exec_blocking(
    argv: &[OsString],
    netns: Option<&std::path::Path>,
) -> io::Result<std::process::Output> {
    let Some((program, args)) = argv.split_first() else {
        return Err(io::Error::other("empty command"));
    };
    let namespace = netns.map(File::open).transpose()?;
    let ns_fd = namespace.as_ref().map(AsRawFd::as_raw_fd);
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null());
    if let Some(fd) = ns_fd {
        // SAFETY: setns(2) is async-signal-safe; the fd stays open until `output` returns.
        unsafe {
            command.pre_exec(move || {
                if libc::setns(fd, libc::CLONE_NEWNET) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let out = command.output();
    drop(namespace);
    out
}

/// (uid, gid) of a user named in /etc/passwd.
fn user_ids(name: &str) -> io::Result<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd")?;
    passwd
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&name)).then_some(fields)
        })
        .find_map(|f| Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?)))
        .ok_or_else(|| io::Error::other(format!("no user {name:?} in /etc/passwd")))
}

/// Writes a file on this machine (loopback hosts and namespaces share its file system).
pub(crate) async fn write_local(
    host: &str,
    path: &std::path::Path,
    bytes: &[u8],
) -> Result<(), super::HostError> {
    tokio::fs::write(path, bytes)
        .await
        .map_err(|e| super::HostError::io(host, format!("cannot write {}", path.display()), e))
}

/// Reads a file on this machine.
pub(crate) async fn read_local(
    host: &str,
    path: &std::path::Path,
) -> Result<Vec<u8>, super::HostError> {
    tokio::fs::read(path)
        .await
        .map_err(|e| super::HostError::io(host, format!("cannot read {}", path.display()), e))
}
