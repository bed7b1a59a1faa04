//! Blocking commands over a host's open master connection (`ssh -S <control socket>`), for the
//! calls that cannot await: a node's `ProcessHandle` (signals, "is it gone", Drop) and the
//! cleanup of `Hosts`' Drop. Each is one multiplexed `ssh` run, milliseconds; none opens a new
//! connection or asks for a password (`BatchMode`).

use std::io;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use super::{one_line, quote};

/// What a blocking command needs of a connected host.
#[derive(Debug, Clone)]
pub struct SshControl {
    /// `user@address:port`, for messages.
    pub(crate) host: String,
    /// The master connection's control socket.
    pub(crate) socket: PathBuf,
    /// Scripts run through `sudo -n`.
    pub(crate) sudo: bool,
}

impl SshControl {
    /// Runs a `sh -c` script on the host and returns its output, whatever its exit status.
    pub fn shell(&self, script: &str) -> io::Result<Output> {
        let remote = format!(
            "{}sh -c {}",
            if self.sudo { "sudo -n " } else { "" },
            quote(script)
        );
        // ssh ignores the destination once `-S` names a live master (`none`, as openssh does).
        let mut command = Command::new("ssh");
        command
            .arg("-S")
            .arg(&self.socket)
            .args(["-o", "BatchMode=yes", "-T", "none", "--"])
            .arg(remote)
            .stdin(Stdio::null());
        off_the_runtime(|| command.output())
    }

    /// `shell`, failing unless the script exits 0.
    pub fn shell_ok(&self, script: &str) -> io::Result<Output> {
        let out = self.shell(script)?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(io::Error::other(format!(
                "{}: {script} failed: {}",
                self.host,
                one_line(&String::from_utf8_lossy(&out.stderr))
            )))
        }
    }
}

/// Runs a blocking call so that it does not stall the async tasks of the worker thread it is
/// called on (clients, the recorder): on tokio's multi-thread runtime the worker hands its
/// tasks to another thread first (`block_in_place`); elsewhere (Drop after the runtime, a
/// current-thread runtime in tests) it simply runs.
fn off_the_runtime<T>(call: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(call)
        }
        _ => call(),
    }
}
