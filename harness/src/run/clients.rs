//! The workload phase's clients: `concurrency` Jepsen processes, each invoking one operation at
//! a time until the deadline. A process whose operation ended in `info` continues under a new
//! process number (the old one may still be "in flight" forever, as far as the history knows).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use faultline_checker::history::{EventType, Process};
use faultline_workloads::{Client, Completion, Generator, Invocation};
use tokio::time::Instant;

use super::recorder::{Record, Recorder};

/// Performs one invocation as process `process`, recording its invocation and completion.
pub async fn perform<C: Client>(
    recorder: &Recorder,
    client: &mut C,
    process: u64,
    invocation: &Invocation,
) -> Completion {
    recorder.record(Record {
        process: Process::Client(process),
        kind: EventType::Invoke,
        f: invocation.f.clone(),
        key: invocation.key.clone(),
        value: invocation.value.clone(),
        error: None,
        node: None,
    });
    let done = client.invoke(invocation).await;
    recorder.record(Record {
        process: Process::Client(process),
        kind: done.kind,
        f: invocation.f.clone(),
        key: invocation.key.clone(),
        value: done.value.clone(),
        error: done.error.clone(),
        node: done.node.clone(),
    });
    done
}

/// What every client loop shares: where to record, what to invoke, when to stop.
#[derive(Clone)]
pub struct Workers {
    pub recorder: Arc<Recorder>,
    pub generator: Arc<Mutex<Generator>>,
    /// Process numbers advance by this after an `info` (the number of clients, as in Jepsen).
    pub process_stride: u64,
    pub deadline: Instant,
    /// At most one invocation per interval per client, when rate-limited.
    pub interval: Option<Duration>,
    pub stop: tokio::sync::watch::Receiver<bool>,
}

impl Workers {
    /// One client loop, starting as process `first_process`: invoke until the deadline or
    /// until told to stop. `first_process` is also the worker's index, which picks its group's
    /// keys and stays the same when the process number moves on after an `info`.
    pub async fn client_loop<C: Client>(self, mut client: C, first_process: u64) {
        let worker = first_process as usize;
        let mut process = first_process;
        let mut next_slot = Instant::now();
        while Instant::now() < self.deadline && !*self.stop.borrow() {
            if let Some(interval) = self.interval {
                tokio::time::sleep_until(next_slot).await;
                next_slot += interval;
            }
            let invocation = match self.generator.lock() {
                Ok(mut g) => g.next_invocation(worker),
                Err(_) => return,
            };
            let done = perform(&self.recorder, &mut client, process, &invocation).await;
            if done.kind == EventType::Info {
                process += self.process_stride;
            }
        }
    }
}
