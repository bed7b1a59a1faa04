//! SIGINT (Ctrl-C) and SIGTERM as one flag that a run and a campaign both watch. A flag, not an
//! event: a signal that arrives while the cluster starts, while a run is checked or between two
//! runs of a campaign is seen by whoever looks next. A second signal exits at once, as SIGKILL
//! would (nodes die with the controller; `faultline analyze` checks the history later).

use std::time::Instant;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// Exit status of an interrupted run or campaign (128 + SIGINT, what a shell reports for
/// Ctrl-C), whichever of the two signals stopped it.
pub const INTERRUPTED_EXIT: u8 = 130;

/// A signal that asked the controller to stop: its name and when it arrived.
#[derive(Debug, Clone, Copy)]
pub struct Signal {
    pub name: &'static str,
    pub at: Instant,
}

/// Whether, and by which signal, the user asked to stop.
#[derive(Clone)]
pub struct Interrupt {
    signal: watch::Receiver<Option<Signal>>,
}

impl Interrupt {
    /// Catches SIGINT and SIGTERM from now on: instead of ending the process, the first sets
    /// the flag. Must be called inside the tokio runtime that keeps running while the flag is
    /// watched.
    pub fn listen() -> std::io::Result<Interrupt> {
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        let (tx, rx) = watch::channel(None);
        tokio::spawn(async move {
            let mut first = true;
            loop {
                let name = tokio::select! {
                    Some(()) = int.recv() => "SIGINT",
                    Some(()) = term.recv() => "SIGTERM",
                    else => return,
                };
                if !first {
                    eprintln!(
                        "faultline: {name} again: exiting now; `faultline analyze RUN_DIR` checks a run's history later"
                    );
                    std::process::exit(i32::from(INTERRUPTED_EXIT));
                }
                first = false;
                let _ = tx.send(Some(Signal {
                    name,
                    at: Instant::now(),
                }));
            }
        });
        Ok(Interrupt { signal: rx })
    }

    /// The signal that set the flag, if one did.
    pub fn signal(&self) -> Option<Signal> {
        *self.signal.borrow()
    }

    /// Waits until the flag is set and returns the signal.
    pub async fn wait(&self) -> Signal {
        let mut rx = self.signal.clone();
        let set = rx.wait_for(Option::is_some).await.ok().and_then(|s| *s);
        match set {
            Some(signal) => signal,
            // The listener is gone (its runtime shut down): no signal can come any more.
            None => std::future::pending().await,
        }
    }
}
