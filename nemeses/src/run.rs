//! Running a schedule against a cluster: quiet, fault, heal, again, until told to stop.

use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::clock::{ClockChange, Clocks, set_offsets};
use crate::fault::{Aim, FaultKind};
use crate::grudge::Grudge;
use crate::network::{LinkDelay, Network};
use crate::nodes::{NodeId, Nodes};
use crate::schedule::{NemesisEvent, NemesisEventKind, Schedule};

/// Runs the schedule until `stop` turns true, reporting every start and heal on `events`; heals
/// whatever is active before returning, also when stopped in the middle of a fault.
///
/// A dropped `stop` sender counts as "stop": nobody could stop the loop any more otherwise. A
/// dropped `events` receiver does not stop it: the faults still have to be healed, and the
/// caller decides when the nemesis ends.
pub async fn run_schedule<N: Nodes, W: Network, C: Clocks>(
    nodes: &N,
    network: &W,
    clocks: &C,
    mut schedule: Schedule,
    events: mpsc::UnboundedSender<NemesisEvent>,
    mut stop: watch::Receiver<bool>,
) {
    let quiet = schedule.spec().quiet_duration;
    let fault_duration = schedule.spec().fault_duration;
    let delay = schedule.spec().delay;
    loop {
        if wait_or_stop(quiet, &mut stop).await {
            return;
        }
        let Some((fault, aim)) = schedule.next_fault() else {
            // Nothing to inject: idle until stopped.
            let _ = stop.wait_for(|s| *s).await;
            return;
        };
        let ids = nodes.ids();
        // Asked whatever the target, so the history says whether the leader was hit.
        let leader = nodes.leader().await;
        let (targets, grudge, shape) = match aim {
            Aim::Nodes(target) => (schedule.pick(target, &ids, leader), None, None),
            Aim::Grudge(shape) => {
                let grudge = schedule.grudge(shape, &ids, leader);
                (grudge.nodes(), Some(grudge), Some(shape))
            }
        };
        if targets.is_empty() {
            // E.g. a minority of a two-node cluster: there is nothing to hit this round.
            continue;
        }
        let clock = (fault == FaultKind::Clock).then(|| schedule.clock_change(aim));
        let send = |kind, error| {
            // Ignored on purpose: see the doc comment about a dropped receiver.
            let _ = events.send(NemesisEvent {
                kind,
                fault,
                targets: targets.clone(),
                grudge: grudge.clone(),
                shape,
                clock,
                leader,
                error,
            });
        };
        send(NemesisEventKind::Starting, None);
        let faulty = Faulty {
            nodes,
            network,
            clocks,
        };
        let error = faulty
            .act(fault, &targets, grudge.as_ref(), clock, delay)
            .await;
        send(NemesisEventKind::Started, error);
        // Stopped or not, the fault is healed before the next step.
        match clock {
            Some(ClockChange::Strobe {
                offset_ms,
                period_ms,
            }) => {
                strobe(
                    clocks,
                    &targets,
                    offset_ms,
                    Duration::from_millis(period_ms),
                    fault_duration,
                    &mut stop,
                )
                .await
            }
            _ => {
                let _ = wait_or_stop(fault_duration, &mut stop).await;
            }
        }
        send(NemesisEventKind::Healing, None);
        let error = faulty.heal(fault, &targets).await;
        send(NemesisEventKind::Healed, error);
        if stopped(&stop) {
            return;
        }
    }
}

/// What the faults act on, borrowed for one fault.
struct Faulty<'a, N, W, C> {
    nodes: &'a N,
    network: &'a W,
    clocks: &'a C,
}

impl<N: Nodes, W: Network, C: Clocks> Faulty<'_, N, W, C> {
    /// Injects `fault`: on every target one after the other, or on the network as a whole;
    /// failures are collected, not fatal.
    async fn act(
        &self,
        fault: FaultKind,
        targets: &[NodeId],
        grudge: Option<&Grudge>,
        clock: Option<ClockChange>,
        delay: LinkDelay,
    ) -> Option<String> {
        let mut errors = Vec::new();
        match fault {
            FaultKind::Partition => {
                // The deck pairs partitions with shapes only, so a grudge is always there.
                let grudge = grudge.cloned().unwrap_or_default();
                collect(&mut errors, self.network.partition(&grudge).await);
            }
            FaultKind::Delay => collect(&mut errors, self.network.slow(targets, delay).await),
            FaultKind::Clock => {
                let offset = clock.map_or(0, ClockChange::offset_ms);
                collect(&mut errors, set_offsets(self.clocks, targets, offset).await);
            }
            FaultKind::Kill => {
                for &node in targets {
                    collect(&mut errors, self.nodes.kill(node).await);
                }
            }
            FaultKind::Pause => {
                for &node in targets {
                    collect(&mut errors, self.nodes.pause(node).await);
                }
            }
        }
        join(errors)
    }

    /// Heals `fault` on every target — also on those where injecting it reported an error,
    /// since a failed injection may have half happened (the signal went out, the reaping
    /// failed), and restarting a running node, resuming a running one, resetting a clock or
    /// healing a whole network is harmless to try.
    async fn heal(&self, fault: FaultKind, targets: &[NodeId]) -> Option<String> {
        let mut errors = Vec::new();
        match fault {
            FaultKind::Partition | FaultKind::Delay => {
                collect(&mut errors, self.network.heal().await);
            }
            FaultKind::Clock => collect(&mut errors, set_offsets(self.clocks, targets, 0).await),
            FaultKind::Kill => {
                for &node in targets {
                    collect(&mut errors, self.nodes.restart(node).await);
                }
            }
            FaultKind::Pause => {
                for &node in targets {
                    collect(&mut errors, self.nodes.resume(node).await);
                }
            }
        }
        join(errors)
    }
}

/// Flips the targets' clocks between real time and `offset_ms` every `period` until
/// `duration` is over or the schedule is stopped; leaves them skewed or not (heal resets
/// them). Errors here are not reported: act and heal, which bracket this, report theirs.
async fn strobe<C: Clocks>(
    clocks: &C,
    targets: &[NodeId],
    offset_ms: i64,
    period: Duration,
    duration: Duration,
    stop: &mut watch::Receiver<bool>,
) {
    let end = tokio::time::Instant::now() + duration;
    let mut skewed = true;
    loop {
        let left = end.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() || wait_or_stop(period.min(left), stop).await {
            return;
        }
        skewed = !skewed;
        let offset = if skewed { offset_ms } else { 0 };
        let _ = set_offsets(clocks, targets, offset).await;
    }
}

fn collect<E: std::fmt::Display>(errors: &mut Vec<String>, result: Result<(), E>) {
    if let Err(e) = result {
        errors.push(e.to_string());
    }
}

fn join(errors: Vec<String>) -> Option<String> {
    (!errors.is_empty()).then(|| errors.join("; "))
}

fn stopped(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

/// Sleeps for `duration` unless `stop` turns true (or its sender goes away) first; true when
/// stopped.
async fn wait_or_stop(duration: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    if stopped(stop) {
        return true;
    }
    let slept = tokio::select! {
        () = tokio::time::sleep(duration) => true,
        // Ok: the value turned true; Err: the sender is gone. Both mean stop.
        _ = stop.wait_for(|s| *s) => false,
    };
    !slept || stopped(stop)
}

#[cfg(test)]
mod tests;
