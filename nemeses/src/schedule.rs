//! Seeded fault schedules: quiet and fault intervals alternating, which fault and which targets
//! chosen from the seed, every start and heal reported as an event.

use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::fault::{FaultKind, Target};
use crate::nodes::{NodeId, Nodes};

/// What a schedule may do.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScheduleSpec {
    pub faults: Vec<FaultKind>,
    pub targets: Vec<Target>,
    /// How long a fault lasts before it heals.
    pub fault_duration: Duration,
    /// How long the cluster is left alone between faults.
    pub quiet_duration: Duration,
}

/// The seeded decisions of a schedule, drawn one fault at a time (targets like "the leader"
/// depend on the cluster at that moment).
pub struct Schedule {
    spec: ScheduleSpec,
    rng: fastrand::Rng,
}

impl Schedule {
    pub fn new(spec: ScheduleSpec, seed: u64) -> Self {
        Schedule {
            spec,
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    pub fn spec(&self) -> &ScheduleSpec {
        &self.spec
    }

    /// The next fault and how to pick its targets.
    pub fn next_fault(&mut self) -> Option<(FaultKind, Target)> {
        let fault = *self.rng.choice(&self.spec.faults)?;
        let target = *self.rng.choice(&self.spec.targets).unwrap_or(&Target::One);
        Some((fault, target))
    }

    /// Random choice among `ids` for a target, from the schedule's seed.
    pub fn pick(&mut self, target: Target, ids: &[NodeId], leader: Option<NodeId>) -> Vec<NodeId> {
        todo!("nemeses helper {target:?} {ids:?} {leader:?} {}", self.rng.u8(..))
    }
}

/// A fault starting or healing, for the history.
#[derive(Debug, Clone, PartialEq)]
pub struct NemesisEvent {
    pub kind: NemesisEventKind,
    pub fault: FaultKind,
    pub targets: Vec<NodeId>,
    /// What went wrong acting on a node, if anything (the run goes on).
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NemesisEventKind {
    /// About to inject (history `invoke`).
    Starting,
    /// Injected (history `info`).
    Started,
    /// About to heal.
    Healing,
    /// Healed.
    Healed,
}

/// Runs the schedule until `stop` turns true, reporting every start and heal on `events`; heals
/// whatever is active before returning, also when stopped in the middle of a fault.
pub async fn run_schedule<N: Nodes>(
    nodes: &N,
    schedule: Schedule,
    events: mpsc::UnboundedSender<NemesisEvent>,
    stop: watch::Receiver<bool>,
) {
    let _ = (nodes, schedule, events, stop);
    todo!("nemeses helper")
}
