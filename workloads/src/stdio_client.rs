//! A client that is a program the user wrote, in any language, speaking the stdio protocol
//! (docs/stdio-protocol.md): one program per Jepsen process, told the nodes at start, then one
//! JSON operation per line on stdin and one answer per line on stdout.
//!
//! What this side guarantees: an invocation never takes longer than the ready timeout plus the
//! answer timeout and a few seconds of grace (a pause before restarting a program that could not
//! start, a second for a crashed one's exit status, a second to reap), whatever the program
//! does; at most one program per client is alive; every `info` (a timeout, a crash, garbage, or
//! the program's own) stops the program and the next invocation starts a fresh one under the
//! next process number, as a Jepsen worker reopens its client; a program that never got the
//! operation (it did not start, or never said ready) makes it a `fail`; a program's `fail` is
//! trusted. `program.rs` is what to run and what it is told about the nodes, `protocol.rs` the
//! lines, `child.rs` the process, `log.rs` the log file and the notices.

mod child;
mod log;
mod program;
mod protocol;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use faultline_checker::history::EventType;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use crate::client::{Client, Completion};
use crate::generator::Invocation;
use child::{Child, Read};
use log::ClientLog;
pub use log::StdioNotice;
pub use program::{StdioNode, StdioProgram};
use protocol::{Answer, Garbage, init_line, invoke_line, parse_answer};

/// How long a program gets to say `ready` unless told otherwise: an interpreter's start on a
/// loaded machine takes seconds, not minutes.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest answer line accepted: a read of a list is the largest answer a workload asks for,
/// and lists are bounded by the workload's writes per key.
const MAX_LINE_BYTES: usize = 1 << 20;
/// A program that could not start is not started again sooner than this, so one that cannot
/// start at all does not turn the run into a loop of spawns.
const RESTART_PAUSE: Duration = Duration::from_millis(250);
/// How long `close` lets a program exit on its own after its stdin closed.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

pub struct StdioClient {
    program: StdioProgram,
    nodes: Vec<StdioNode>,
    options: BTreeMap<String, String>,
    log: ClientLog,
    /// How long an answer may take once the operation is written.
    timeout: Duration,
    ready_timeout: Duration,
    /// The Jepsen process the current (or next) program is.
    process: u64,
    /// Process numbers advance by this after an `info`: the harness's number of clients.
    process_stride: u64,
    child: Option<Child>,
    /// Set while an operation is written and its answer not yet read: if the invocation's
    /// future is dropped there, the next invocation must not read the stale answer.
    in_flight: bool,
    /// When a program last failed to start, to pause before the next attempt.
    failed_start: Option<Instant>,
    /// Programs started so far.
    starts: u64,
}

impl StdioClient {
    /// A client that runs `program` against `nodes` as process 0 (process numbers advancing by
    /// 1), waits `timeout` for each answer and appends the programs' stderr and its own lines
    /// to `log` (its folder created).
    pub fn new(
        program: StdioProgram,
        nodes: Vec<StdioNode>,
        log: impl Into<PathBuf>,
        timeout: Duration,
    ) -> Self {
        StdioClient {
            program,
            nodes,
            options: BTreeMap::new(),
            log: ClientLog::new(log.into()),
            timeout,
            ready_timeout: DEFAULT_READY_TIMEOUT,
            process: 0,
            process_stride: 1,
            child: None,
            in_flight: false,
            failed_start: None,
            starts: 0,
        }
    }

    /// Starts as process `first` and moves on by `stride` after each `info`: the harness's
    /// worker index and number of clients, so the program's `process` is the history's.
    pub fn with_process(mut self, first: u64, stride: u64) -> Self {
        self.process = first;
        self.process_stride = stride.max(1);
        self
    }

    /// The run's options, passed to every program in `init`.
    pub fn with_options(mut self, options: BTreeMap<String, String>) -> Self {
        self.options = options;
        self
    }

    /// How long a program may take to say `ready` (default [`DEFAULT_READY_TIMEOUT`]).
    pub fn with_ready_timeout(mut self, ready_timeout: Duration) -> Self {
        self.ready_timeout = ready_timeout;
        self
    }

    /// Sends a [`StdioNotice`] here each time a program misbehaves (besides its log line).
    pub fn with_notices(mut self, notices: UnboundedSender<StdioNotice>) -> Self {
        self.log.notify(notices);
        self
    }

    /// The process number the current (or next) program is.
    pub fn process(&self) -> u64 {
        self.process
    }

    /// How many programs this client started.
    pub fn starts(&self) -> u64 {
        self.starts
    }

    /// Ends the program, if one runs: stdin closed, a second to exit, then its group killed.
    /// Dropping the client kills it at once instead.
    pub async fn close(&mut self) {
        if let Some(child) = self.child.take() {
            child.close(CLOSE_GRACE).await;
        }
    }

    async fn perform(&mut self, invocation: &Invocation) -> Completion {
        if self.in_flight {
            // An earlier invocation was abandoned mid-exchange (its future dropped): its answer
            // may still come, and its operation may still take effect, so neither this program
            // nor its process number is used again.
            self.in_flight = false;
            self.log.line(&format!(
                "process {}: an invocation was abandoned before its answer; stopped it",
                self.process
            ));
            self.end_child().await;
            self.process += self.process_stride;
        }
        let child = match self.child.take() {
            Some(child) => child,
            None => match self.start().await {
                Ok(child) => child,
                Err(why) => {
                    self.failed_start = Some(Instant::now());
                    self.log.trouble(self.process, &why);
                    return Completion::of(invocation, EventType::Fail, Some(why), None);
                }
            },
        };
        let child = self.child.insert(child);

        self.in_flight = true;
        // Output before the operation is sent: an extra line after the last answer (a debug
        // print on stdout), or the program's end. Without request ids that line would be taken
        // as this operation's answer, so it is the program's error instead; the operation is
        // not sent, and `info` (always sound) moves the process on as every misbehaviour does.
        let unasked = child.has_output();
        let read = if unasked {
            tokio::time::timeout(self.timeout, child.read_line(MAX_LINE_BYTES)).await
        } else {
            let line = invoke_line(invocation);
            let exchange = async {
                child.send(&line).await?;
                child.read_line(MAX_LINE_BYTES).await
            };
            tokio::time::timeout(self.timeout, exchange).await
        };
        self.in_flight = false;

        let outcome = match read {
            Err(_) => Err(format!(
                "stdio client timed out after {} ms",
                self.timeout.as_millis()
            )),
            Ok(Err(_)) | Ok(Ok(Read::Eof)) => match self.child.take() {
                // The pipe broke or closed: the program is gone, or going; say how it ended.
                Some(child) => Err(child.stop_after_eof().await),
                None => Err("stdio client is gone".to_owned()),
            },
            Ok(Ok(Read::Line(line) | Read::TooLong(line))) if unasked => Err(format!(
                "stdio client wrote a line nobody asked for: {}",
                Garbage::quoting(&line).0
            )),
            Ok(Ok(Read::TooLong(start))) => Err(Garbage::quoting(&start).to_string()),
            Ok(Ok(Read::Line(line))) => match parse_answer(&line) {
                Ok(answer) => Ok(answer),
                Err(garbage) => Err(garbage.to_string()),
            },
        };
        let done = match outcome {
            Ok(answer) => self.answered(invocation, answer),
            Err(why) => {
                self.log.trouble(self.process, &why);
                Completion::of(invocation, EventType::Info, Some(why), None)
            }
        };
        if done.kind == EventType::Info {
            // Whoever decided the `info`, this process may still have the operation in flight:
            // it is never asked again (docs/stdio-protocol.md, "Lifetime").
            self.end_child().await;
            self.process += self.process_stride;
        }
        done
    }

    /// The completion a well-formed answer makes.
    fn answered(&self, invocation: &Invocation, answer: Answer) -> Completion {
        match answer {
            Answer::Ok { value, node } => match ok_value(invocation, value) {
                Some(value) => Completion {
                    kind: EventType::Ok,
                    value,
                    error: None,
                    node,
                },
                None => {
                    let why = format!(
                        "stdio client answered ok without a value for {}",
                        invocation.f
                    );
                    self.log.trouble(self.process, &why);
                    Completion::of(invocation, EventType::Info, Some(why), node)
                }
            },
            Answer::Fail { error, node } => Completion {
                kind: EventType::Fail,
                value: invocation.value.clone(),
                error: Some(error),
                node,
            },
            Answer::Info { error, node } => {
                self.log.line(&format!(
                    "process {}: answered info ({error}); starting a fresh program as process {}",
                    self.process,
                    self.process + self.process_stride
                ));
                Completion {
                    kind: EventType::Info,
                    value: invocation.value.clone(),
                    error: Some(error),
                    node,
                }
            }
            Answer::Ready => {
                let why = Garbage::quoting(br#"{"type":"ready"}"#).to_string();
                self.log.trouble(self.process, &why);
                Completion::of(invocation, EventType::Info, Some(why), None)
            }
        }
    }

    /// Starts a program and waits for its `ready`; on any failure the program is stopped and
    /// the error says why.
    async fn start(&mut self) -> Result<Child, String> {
        if let Some(failed) = self.failed_start.take() {
            tokio::time::sleep_until(failed + RESTART_PAUSE).await;
        }
        let stderr = self.log.open().map_err(|e| {
            format!(
                "stdio client log {} cannot be opened: {e}",
                self.log.path().display()
            )
        })?;
        let mut child = Child::spawn(&self.program, stderr)
            .map_err(|e| format!("stdio client {} cannot start: {e}", self.program.display()))?;
        self.starts += 1;
        self.log.line(&format!(
            "process {}: started {} (pid {})",
            self.process,
            self.program.display(),
            child.pid()
        ));
        let init = init_line(self.process, &self.nodes, &self.options, self.timeout);
        let handshake = async {
            child.send(&init).await?;
            child.read_line(MAX_LINE_BYTES).await
        };
        let why = match tokio::time::timeout(self.ready_timeout, handshake).await {
            Ok(Ok(Read::Line(line))) if parse_answer(&line) == Ok(Answer::Ready) => {
                return Ok(child);
            }
            Ok(Err(_)) | Ok(Ok(Read::Eof)) => {
                return Err(format!(
                    "{} before it was ready",
                    child.stop_after_eof().await
                ));
            }
            Err(_) => format!(
                "stdio client did not say ready within {} ms",
                self.ready_timeout.as_millis()
            ),
            Ok(Ok(Read::Line(line) | Read::TooLong(line))) => {
                format!("{} instead of ready", Garbage::quoting(&line))
            }
        };
        child.kill().await;
        Err(why)
    }

    /// Stops the current program, if any, with its whole group.
    async fn end_child(&mut self) {
        if let Some(child) = self.child.take() {
            child.kill().await;
        }
    }
}

impl Client for StdioClient {
    async fn invoke(&mut self, invocation: &Invocation) -> Completion {
        self.perform(invocation).await
    }
}

/// What an `ok` records: a read's value (which it must have), nothing for a set's add, the
/// argument for every other operation (as the kvnode client records them). `None`: a read
/// answered without a value.
fn ok_value(invocation: &Invocation, value: Option<Value>) -> Option<Value> {
    match invocation.f.as_str() {
        "read" => value,
        "add" => Some(Value::Null),
        _ => Some(invocation.value.clone()),
    }
}
