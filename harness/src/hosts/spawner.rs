//! The one thread that forks node processes.
//!
//! Why a thread of its own: `PR_SET_PDEATHSIG` fires when the *thread* that forked the child
//! exits, not when the process does. Forking from whatever thread an async task happens to run
//! on would tie a node's life to that thread: tokio's blocking-pool threads exit after ten idle
//! seconds, a runtime's worker threads end with the runtime, a test's thread ends with the test.
//! This thread is started once per process, never exits (its channel's sender lives in a
//! static), and so a node dies exactly when the controller process dies — also by SIGKILL.

use std::io;
use std::process::{Child, Command};
use std::sync::{OnceLock, mpsc};

use tokio::sync::oneshot;

struct Request {
    command: Command,
    reply: oneshot::Sender<io::Result<Child>>,
}

static SPAWNER: OnceLock<Option<mpsc::Sender<Request>>> = OnceLock::new();

fn spawner() -> Option<&'static mpsc::Sender<Request>> {
    SPAWNER
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Request>();
            std::thread::Builder::new()
                .name("faultline-node-spawner".into())
                .spawn(move || serve(rx))
                .ok()
                .map(|_| tx)
        })
        .as_ref()
}

fn serve(requests: mpsc::Receiver<Request>) {
    for mut request in requests {
        let result = request.command.spawn();
        if let Err(Ok(mut orphan)) = request.reply.send(result) {
            // The caller gave up waiting (its future was dropped): nobody would ever stop this
            // node, so stop it here.
            let _ = orphan.kill();
            let _ = orphan.wait();
        }
    }
}

/// Spawns `command` on the spawner thread. The caller sets up `command` completely (including
/// its `pre_exec` hook); this only moves the fork to the long-lived thread.
pub(crate) async fn spawn(command: Command) -> io::Result<Child> {
    let (reply, answer) = oneshot::channel();
    let sender =
        spawner().ok_or_else(|| io::Error::other("cannot start the node spawner thread"))?;
    sender
        .send(Request { command, reply })
        .map_err(|_| io::Error::other("the node spawner thread is gone"))?;
    answer
        .await
        .map_err(|_| io::Error::other("the node spawner thread dropped the request"))?
}
