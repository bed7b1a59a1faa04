//! One running client program: spawned in its own process group with stdin and stdout piped and
//! stderr appended to the client's log; lines written and read; stopped with its whole group.
//!
//! Why the program dies with faultline: `PR_SET_PDEATHSIG`, set between fork and exec, makes the
//! kernel SIGKILL it when the *thread* that forked it exits (harness/src/hosts/spawner.rs has
//! the long story). tokio forks on the runtime thread that polls the invocation: one of the
//! runtime's workers, which live as long as the runtime, or the only thread of a current-thread
//! runtime. So a program lives at most as long as the runtime that runs its client, and dies
//! with the controller even when the controller is SIGKILLed. A worker thread that ended early
//! (`block_in_place` can retire one) would take its programs with it: the next invocation reads
//! end-of-file, ends `info` and starts a fresh program, a correct history with one more `info`.
//! Node processes, which must not die with a thread, use the harness's spawner thread instead.
//! `kill_on_drop` and `Drop` below cover the ordinary end; the process group covers whatever the
//! program started (a wrapper script's interpreter, a helper).

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, ChildStdout, Command};

use super::StdioProgram;

/// How long a program that closed its stdout gets to exit before it is killed: enough to collect
/// its exit status (the useful part of "it crashed").
const EXIT_GRACE: Duration = Duration::from_secs(1);
/// How long a killed program gets to be reaped before it is left to tokio's orphan reaper.
const REAP_WITHIN: Duration = Duration::from_secs(1);

/// A line read from the program's stdout.
#[derive(Debug)]
pub(super) enum Read {
    /// One line, without its `\n`.
    Line(Vec<u8>),
    /// More than the allowed length without a newline: its beginning.
    TooLong(Vec<u8>),
    /// stdout closed (a partial last line is dropped).
    Eof,
}

pub(super) struct Child {
    child: tokio::process::Child,
    /// The program's pid, which is also its process group's id (it leads its own group). Only
    /// signalled while the child is not reaped, so the id cannot have been reused.
    pgid: libc::pid_t,
    reaped: bool,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Child {
    /// Starts `program` with stderr appended to `log`.
    pub(super) fn spawn(program: &StdioProgram, log: File) -> io::Result<Child> {
        let mut cmd = Command::new(&program.program);
        cmd.args(&program.args)
            .envs(program.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .process_group(0)
            .kill_on_drop(true);
        if let Some(cwd) = &program.cwd {
            cmd.current_dir(cwd);
        }
        // SAFETY: prctl is async-signal-safe and touches no memory of ours: it only asks the
        // kernel to SIGKILL the child when the forking thread exits (module comment).
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn()?;
        let pid = child
            .id()
            .and_then(|id| libc::pid_t::try_from(id).ok())
            .ok_or_else(|| io::Error::other("the started program has no pid"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(io::Error::other(
                "the started program has no stdin or stdout pipe",
            ));
        };
        Ok(Child {
            child,
            pgid: pid,
            reaped: false,
            stdin: Some(stdin),
            stdout: BufReader::new(stdout),
        })
    }

    pub(super) fn pid(&self) -> libc::pid_t {
        self.pgid
    }

    /// Writes `line` and its newline, and flushes.
    pub(super) async fn send(&mut self, line: &str) -> io::Result<()> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::BrokenPipe))?;
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        stdin.write_all(&bytes).await?;
        stdin.flush().await
    }

    /// Whether stdout has something to read right now (a line, or its end), when nothing was
    /// asked.
    pub(super) fn has_output(&self) -> bool {
        if !self.stdout.buffer().is_empty() {
            return true;
        }
        let mut fd = libc::pollfd {
            fd: self.stdout.get_ref().as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: poll(2) on one pollfd we own, for an fd we own, without waiting. POLLHUP
        // (the end of stdout) is reported whatever `events` asks.
        unsafe { libc::poll(&mut fd, 1, 0) > 0 }
    }

    /// Reads up to the next newline, at most `max` bytes. Not cancellation-safe: a caller that
    /// gives up on it (a timeout) must stop the child, as the rest of a line may follow.
    pub(super) async fn read_line(&mut self, max: usize) -> io::Result<Read> {
        let mut line = Vec::new();
        loop {
            let available = self.stdout.fill_buf().await?;
            if available.is_empty() {
                return Ok(Read::Eof);
            }
            if let Some(end) = available.iter().position(|&b| b == b'\n') {
                line.extend_from_slice(&available[..end]);
                self.stdout.consume(end + 1);
                return Ok(if line.len() > max {
                    Read::TooLong(line)
                } else {
                    Read::Line(line)
                });
            }
            let n = available.len();
            line.extend_from_slice(available);
            self.stdout.consume(n);
            if line.len() > max {
                return Ok(Read::TooLong(line));
            }
        }
    }

    /// Stops the program after it closed its stdout, and says how it ended: its exit status if
    /// it exits within a grace period, else that it closed its stdout.
    pub(super) async fn stop_after_eof(self) -> String {
        let mut waited = Duration::ZERO;
        let step = Duration::from_millis(5);
        let how = loop {
            if let Some(status) = self.peek_exit() {
                break describe(status);
            }
            if waited >= EXIT_GRACE {
                break "stdio client closed its stdout".to_owned();
            }
            tokio::time::sleep(step).await;
            waited += step;
        };
        self.kill().await;
        how
    }

    /// Closes stdin (a program should exit on end-of-file), gives it `grace` to exit, then
    /// kills its group.
    pub(super) async fn close(mut self, grace: Duration) {
        self.stdin = None;
        let mut waited = Duration::ZERO;
        let step = Duration::from_millis(5);
        while waited < grace && self.peek_exit().is_none() {
            tokio::time::sleep(step).await;
            waited += step;
        }
        self.kill().await;
    }

    /// SIGKILLs the program's process group and reaps the program.
    pub(super) async fn kill(mut self) {
        self.kill_group();
        if tokio::time::timeout(REAP_WITHIN, self.child.wait())
            .await
            .is_ok_and(|r| r.is_ok())
        {
            self.reaped = true;
        }
    }

    fn kill_group(&mut self) {
        if !self.reaped {
            // SAFETY: kill(2) with a negative pid signals the group our unreaped child leads; a
            // group id is not reused while its leader is unreaped.
            unsafe {
                libc::kill(-self.pgid, libc::SIGKILL);
            }
        }
    }

    /// The program's exit status if it has exited, without reaping it (`WNOWAIT`), so its
    /// group may still be signalled.
    fn peek_exit(&self) -> Option<ExitStatus> {
        // SAFETY: a zeroed siginfo_t is a valid value; waitid only writes into it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid on our own child's pid, writing into `info`, which outlives the call.
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                libc::id_t::try_from(self.pgid).ok()?,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        // SAFETY: waitid filled `info` for a child state change (si_pid 0: none yet).
        let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
        if rc != 0 || pid == 0 {
            return None;
        }
        Some(match info.si_code {
            libc::CLD_EXITED => ExitStatus::from_raw((status & 0xff) << 8),
            _ => ExitStatus::from_raw(status & 0x7f),
        })
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        // kill_on_drop kills the program only; its group may hold what it started.
        self.kill_group();
    }
}

/// `stdio client exited with status 3`, `stdio client was killed by signal 11`.
fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("stdio client exited with status {code}"),
        (None, Some(signal)) => format!("stdio client was killed by signal {signal}"),
        (None, None) => format!("stdio client ended: {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_descriptions() {
        assert_eq!(
            describe(ExitStatus::from_raw(3 << 8)),
            "stdio client exited with status 3"
        );
        assert_eq!(
            describe(ExitStatus::from_raw(11)),
            "stdio client was killed by signal 11"
        );
    }
}
