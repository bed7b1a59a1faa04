//! A process started on an ssh host: detached in a session of its own (`setsid`, so its pid is
//! its process group), its pid recorded in `<run dir>/pids/<name>-<k>.pid` (what cleanup kills),
//! stdout and stderr in `<run dir>/logs/<name>-<k>.log` (one file per start), appended to the
//! run folder's log once it has ended. Signals go to its process group and its process tree
//! (walked on the host in the same command, see `tree_function`); "stopped" is read from
//! `/proc/<pid>/task/*/stat` of every process of the tree on the host, as for a local node.
//!
//! `RemoteHandle` is the cluster's `ProcessHandle::Remote`: the same calls, blocking, each one
//! command over the host's master connection (`SshControl`).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{SshControl, SshHost, quote};
use crate::cluster::thread_states::{ThreadStates, state_letter};
use crate::hosts::{HostError, ProcessExit, ProcessSpec};

/// How long `RemoteHandle::wait_blocking` waits for a signalled process to go.
const WAIT_LIMIT: Duration = Duration::from_secs(10);

/// A process an ssh host started.
#[derive(Debug, Clone)]
pub struct RemoteProcess {
    pub pid: u32,
    /// Its log on the host.
    pub remote_log: String,
    /// Its pid file on the host (what cleanup kills while it is there).
    pub pid_file: String,
    /// Where its log goes in the run folder.
    pub local_log: PathBuf,
}

impl SshHost {
    /// Starts `spec` on the host, detached: `spec.program` is a path on the host (see
    /// `upload`), `spec.dir` a directory there, and `spec.log` the run folder's file its log is
    /// downloaded to (`download_log`).
    pub async fn spawn_remote(&self, spec: &ProcessSpec) -> Result<RemoteProcess, HostError> {
        if let Some(user) = &spec.user {
            return Err(HostError::Unsupported {
                host: self.name.clone(),
                what: format!("running a node as user {user:?} is not supported on ssh hosts yet"),
            });
        }
        // One log and pid file per start: a restarted node's output is appended to the run
        // folder's log after its own marker line, once that start has ended.
        static STARTS: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "{}-{}",
            spec.log
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "process".into()),
            STARTS.fetch_add(1, Ordering::Relaxed)
        );
        let remote_log = format!("{}/logs/{name}.log", self.dir);
        let pid_file = format!("{}/pids/{name}.pid", self.dir);
        let mut command = vec!["setsid".to_owned(), "env".to_owned()];
        command.extend(spec.env.iter().map(|(k, v)| quote(&format!("{k}={v}"))));
        command.push(quote(&spec.program.to_string_lossy()));
        command.extend(spec.args.iter().map(|a| quote(a)));
        let dir = spec
            .dir
            .as_ref()
            .map_or_else(|| self.dir.clone(), |d| d.to_string_lossy().into_owned());
        // A background job of a non-interactive shell leads no group, so setsid makes the new
        // session in place (no fork): $! is the program's pid, its session and group id.
        let script = format!(
            "cd {dir} && {{ {cmd} >> {log} 2>&1 < /dev/null & }} && echo $! > {pid_file} && echo $!",
            dir = quote(&dir),
            cmd = command.join(" "),
            log = quote(&remote_log),
            pid_file = quote(&pid_file),
        );
        let out = self.shell_ok(&script).await?;
        let text = String::from_utf8_lossy(&out.stdout);
        let pid = text.trim().parse().map_err(|_| HostError::Command {
            host: self.name.clone(),
            command: script.clone(),
            message: format!("expected a pid, got {:?}", text.trim()),
        })?;
        Ok(RemoteProcess {
            pid,
            remote_log,
            pid_file,
            local_log: spec.log.clone(),
        })
    }

    /// Sends `signal` (a name: KILL, STOP, CONT, TERM) to the process's group and process
    /// tree on the host, as `ProcessHandle::signal_tree` does locally (`tree_signal_script`).
    pub async fn signal_tree(
        &self,
        process: &RemoteProcess,
        signal: &str,
    ) -> Result<(), HostError> {
        self.shell_ok(&tree_signal_script(process.pid, signal))
            .await
            .map(drop)
    }

    /// The states of every thread of the process tree rooted at `pid`, None once it is gone.
    pub async fn thread_states(&self, pid: u32) -> Result<Option<ThreadStates>, HostError> {
        let out = self.shell(&tree_stat_script(pid)).await?;
        Ok(parse_thread_states(&String::from_utf8_lossy(&out.stdout)))
    }

    /// Returns once every thread of the process is stopped (`stopped`) or none is, or it is
    /// gone, or after 1 s, as pause and resume do for local nodes.
    pub async fn wait_stopped(
        &self,
        process: &RemoteProcess,
        stopped: bool,
    ) -> Result<(), HostError> {
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline {
            match self.thread_states(process.pid).await? {
                None => return Ok(()),
                Some(s) if stopped && s.all_stopped() => return Ok(()),
                Some(s) if !stopped && s.none_stopped() => return Ok(()),
                Some(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
        Ok(())
    }

    /// Whether the process still runs (a zombie counts as gone).
    pub async fn is_running(&self, process: &RemoteProcess) -> Result<bool, HostError> {
        Ok(self.thread_states(process.pid).await?.is_some())
    }

    /// Copies the process's log from the host to its place in the run folder.
    pub async fn download_log(&self, process: &RemoteProcess) -> Result<(), HostError> {
        let bytes = self.read_file(Path::new(&process.remote_log)).await?;
        tokio::fs::write(&process.local_log, bytes)
            .await
            .map_err(|e| {
                HostError::io(
                    &self.name,
                    format!("cannot write {}", process.local_log.display()),
                    e,
                )
            })
    }

    /// Copies a local executable into this run's `bin/` on the host and returns its path there.
    pub async fn upload(&self, local: &Path) -> Result<String, HostError> {
        let name = local
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "program".into());
        self.upload_as(local, &name).await
    }

    /// `upload` under another name (`/proc/self/exe` is the controller's binary, not "exe").
    pub async fn upload_as(&self, local: &Path, name: &str) -> Result<String, HostError> {
        let bytes = tokio::fs::read(local).await.map_err(|e| {
            HostError::io(&self.name, format!("cannot read {}", local.display()), e)
        })?;
        let remote = format!("{}/bin/{name}", self.dir);
        self.write_file(Path::new(&remote), &bytes).await?;
        self.shell_ok(&format!("chmod 755 {}", quote(&remote)))
            .await?;
        Ok(remote)
    }
}

/// A remote process as the cluster holds it: every call blocking, one command over the host's
/// master connection. Once the process is seen gone its log is appended to the run folder's
/// and its pid file removed (so cleanup never signals a recycled pid).
#[derive(Debug)]
pub struct RemoteHandle {
    control: SshControl,
    process: RemoteProcess,
    ended: Option<ProcessExit>,
}

impl RemoteHandle {
    pub(crate) fn new(control: SshControl, process: RemoteProcess) -> RemoteHandle {
        RemoteHandle {
            control,
            process,
            ended: None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.process.pid
    }

    /// Sends `signal` to the process's group and process tree on its host.
    pub fn signal_tree(&self, signal: libc::c_int) -> io::Result<()> {
        let name = signal_name(signal)
            .ok_or_else(|| io::Error::other(format!("signal {signal} is not sent to ssh hosts")))?;
        self.control
            .shell_ok(&tree_signal_script(self.process.pid, name))
            .map(drop)
    }

    /// The states of every thread of its process tree, None once it is gone (or the host does
    /// not answer).
    pub fn thread_states(&self) -> Option<ThreadStates> {
        let out = self
            .control
            .shell(&tree_stat_script(self.process.pid))
            .ok()?;
        parse_thread_states(&String::from_utf8_lossy(&out.stdout))
    }

    /// `ProcessExit::Gone` once it has ended (its log then downloaded), None while it runs.
    pub fn try_wait(&mut self) -> io::Result<Option<ProcessExit>> {
        if self.ended.is_some() {
            return Ok(self.ended);
        }
        let out = self.control.shell(&format!(
            "cat /proc/{}/task/*/stat 2>/dev/null",
            self.process.pid
        ))?;
        if parse_thread_states(&String::from_utf8_lossy(&out.stdout)).is_some() {
            return Ok(None);
        }
        self.ended = Some(ProcessExit::Gone);
        self.collect_log();
        Ok(self.ended)
    }

    /// Waits (up to 10 s) until it has ended.
    pub fn wait_blocking(&mut self) -> io::Result<ProcessExit> {
        let deadline = Instant::now() + WAIT_LIMIT;
        loop {
            if let Some(exit) = self.try_wait()? {
                return Ok(exit);
            }
            if Instant::now() >= deadline {
                return Err(io::Error::other(format!(
                    "{}: process {} still runs after {WAIT_LIMIT:?}",
                    self.control.host, self.process.pid
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Appends this start's remote log to the run folder's log and forgets its pid file.
    /// Best effort: a log that cannot be fetched is said in the local log instead.
    fn collect_log(&self) {
        let script = format!(
            "rm -f {}; cat {}",
            quote(&self.process.pid_file),
            quote(&self.process.remote_log)
        );
        let bytes = match self.control.shell_ok(&script) {
            Ok(out) => out.stdout,
            Err(e) => format!(
                "=== faultline: cannot download {} from {}: {e} ===\n",
                self.process.remote_log, self.control.host
            )
            .into_bytes(),
        };
        let appended = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&self.process.local_log)
            .and_then(|mut f| f.write_all(&bytes));
        if let Err(e) = appended {
            eprintln!(
                "faultline: cannot append the log of {}:{} to {}: {e}",
                self.control.host,
                self.process.remote_log,
                self.process.local_log.display()
            );
        }
    }
}

/// A POSIX sh function `tree` printing `root` and its descendants (root first), walked from
/// the parent links of /proc/*/stat on the host, as `process_tree::process_tree` does locally:
/// one command, however many processes. Nothing is printed once `root` is gone.
fn tree_function(root: u32) -> String {
    // ${l##*) } drops "pid (comm) " (comm may hold spaces and parentheses); then $2 is the
    // parent. A process that exits between the glob and the read is skipped.
    format!(
        r#"tree() {{ for f in /proc/[0-9]*/stat; do read -r l 2>/dev/null < "$f" || continue; p=${{f#/proc/}}; p=${{p%/stat}}; r=${{l##*\) }}; set -- $r; echo "$p $2"; done | awk -v root={root} '{{ kids[$2] = kids[$2] " " $1; seen[$1] = 1 }} END {{ if (!(root in seen)) exit; q[0] = root; n = 1; for (i = 0; i < n; i++) {{ print q[i]; m = split(kids[q[i]], a, " "); for (j = 1; j <= m; j++) if (a[j] != root) q[n++] = a[j] }} }}'; }}"#
    )
}

/// Sends signal `name` to the group and tree of `root`, descendants first; STOP and KILL first
/// stop the group and the tree, looking again until nothing new appears (at most 8 rounds), as
/// `process_tree::signal_tree`. Succeeds when the group could be signalled.
fn tree_signal_script(root: u32, name: &str) -> String {
    let tree = tree_function(root);
    let settle = if matches!(name, "STOP" | "KILL") {
        format!(
            r#"for i in 1 2 3 4 5 6 7 8; do kill -STOP -{root} 2>/dev/null; new=; for p in $(tree); do case " $all " in *" $p "*) ;; *) all="$all $p"; new=1; kill -STOP $p 2>/dev/null;; esac; done; [ -n "$new" ] || break; done"#
        )
    } else {
        "all=$(tree)".to_owned()
    };
    format!(
        r#"{tree}; all=; {settle}; for p in $all; do [ "$p" = {root} ] || kill -{name} $p 2>/dev/null; done; kill -{name} -{root}"#
    )
}

/// Prints the stat line of every thread of every process of `root`'s tree.
fn tree_stat_script(root: u32) -> String {
    format!(
        "{}; for p in $(tree); do cat /proc/$p/task/*/stat 2>/dev/null; done; true",
        tree_function(root)
    )
}

/// The names `kill` takes for the signals the cluster sends.
fn signal_name(signal: libc::c_int) -> Option<&'static str> {
    Some(match signal {
        libc::SIGKILL => "KILL",
        libc::SIGSTOP => "STOP",
        libc::SIGCONT => "CONT",
        libc::SIGTERM => "TERM",
        libc::SIGINT => "INT",
        libc::SIGHUP => "HUP",
        _ => return None,
    })
}

/// Thread states from `cat /proc/PID/task/*/stat` (one stat line per thread); None when there
/// is none (the process is gone) or it is a zombie.
fn parse_thread_states(text: &str) -> Option<ThreadStates> {
    let mut states = ThreadStates {
        stopped: 0,
        total: 0,
    };
    for letter in text.lines().filter_map(state_letter) {
        if letter == 'Z' {
            continue;
        }
        states.total += 1;
        if matches!(letter, 'T' | 't') {
            states.stopped += 1;
        }
    }
    (states.total > 0).then_some(states)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_states_are_read_from_stat_lines() {
        let text = "12 (kv node) T 1 12\n13 (tokio-rt) S 1 12\n";
        let s = parse_thread_states(text).expect("two threads");
        assert_eq!((s.stopped, s.total), (1, 2));
        assert_eq!(parse_thread_states(""), None);
        assert_eq!(parse_thread_states("12 (kvnode) Z 1 12\n"), None);
    }

    /// The shell walk runs here against a local tree (the host's shell is the same /bin/sh):
    /// a child that setsid()s is in it, STOP stops it, CONT resumes it, KILL leaves nothing.
    #[test]
    fn the_shell_tree_walk_reaches_a_child_that_left_the_group() {
        use std::os::unix::process::CommandExt;
        let run = |script: String| {
            std::process::Command::new("sh")
                .args(["-c", &script])
                .output()
                .expect("sh runs")
        };
        let mut root = std::process::Command::new("sh")
            .args(["-c", "setsid sleep 300 & exec sleep 300"])
            .process_group(0)
            .spawn()
            .expect("spawn");
        let pid = root.id();
        let deadline = Instant::now() + Duration::from_secs(10);
        let tree = loop {
            let tree = crate::hosts::process_tree::process_tree(pid);
            if tree.len() == 2 || Instant::now() > deadline {
                break tree;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(tree.len(), 2, "the root and its setsid child: {tree:?}");
        let listed = run(format!("{}; tree", tree_function(pid)));
        let listed: Vec<u32> = String::from_utf8_lossy(&listed.stdout)
            .split_whitespace()
            .map(|p| p.parse().expect("a pid"))
            .collect();
        assert_eq!(listed, tree);
        let states =
            || parse_thread_states(&String::from_utf8_lossy(&run(tree_stat_script(pid)).stdout));

        assert!(run(tree_signal_script(pid, "STOP")).status.success());
        let s = states().expect("stopped, not gone");
        assert!(s.all_stopped() && s.total == 2, "{s:?}");
        assert!(run(tree_signal_script(pid, "CONT")).status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        while !states().is_some_and(|s| s.none_stopped()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(states().is_some_and(|s| s.none_stopped() && s.total == 2));

        assert!(run(tree_signal_script(pid, "KILL")).status.success());
        let _ = root.wait();
        let deadline = Instant::now() + Duration::from_secs(10);
        while tree
            .iter()
            .any(|p| std::path::Path::new(&format!("/proc/{p}")).exists())
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        for p in &tree {
            assert!(
                !std::path::Path::new(&format!("/proc/{p}")).exists(),
                "{p} still there"
            );
        }
    }
}
