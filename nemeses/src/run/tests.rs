//! run_schedule against a fake cluster that records every call.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::clock::{ClockChange, ClockError, ClockSpec, Clocks};
use crate::fault::{FaultKind, Target};
use crate::grudge::{Grudge, Shape};
use crate::network::{LinkDelay, Network, NetworkError};
use crate::nodes::{NodeId, Nodes, NodesError};
use crate::run::run_schedule;
use crate::schedule::{NemesisEvent, NemesisEventKind, Schedule, ScheduleSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Up,
    Killed,
    Paused,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Call {
    Kill(NodeId),
    Restart(NodeId),
    Pause(NodeId),
    Resume(NodeId),
    Partition(Grudge),
    Slow(Vec<NodeId>),
    Heal,
    Clock(NodeId, i64),
}

struct FakeNodes {
    leader: Option<NodeId>,
    fail_kill: Option<NodeId>,
    calls: Mutex<Vec<Call>>,
    state: Mutex<BTreeMap<NodeId, State>>,
}

impl FakeNodes {
    fn new(n: u32, leader: Option<NodeId>) -> Self {
        FakeNodes {
            leader,
            fail_kill: None,
            calls: Mutex::new(Vec::new()),
            state: Mutex::new((1..=n).map(|id| (id, State::Up)).collect()),
        }
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn all_up(&self) -> bool {
        self.state
            .lock()
            .map(|s| s.values().all(|st| *st == State::Up))
            .unwrap_or(false)
    }

    fn record(&self, call: Call, node: NodeId, next: State) -> Result<(), NodesError> {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(call);
        }
        let mut state = self.state.lock().map_err(|_| err(node, "poisoned"))?;
        let st = state
            .get_mut(&node)
            .ok_or_else(|| err(node, "no such node"))?;
        *st = next;
        Ok(())
    }
}

fn err(node: NodeId, message: &str) -> NodesError {
    NodesError {
        node,
        message: message.to_string(),
    }
}

impl Nodes for FakeNodes {
    fn ids(&self) -> Vec<NodeId> {
        self.state
            .lock()
            .map(|s| s.keys().copied().collect())
            .unwrap_or_default()
    }

    async fn leader(&self) -> Option<NodeId> {
        self.leader
    }

    async fn kill(&self, node: NodeId) -> Result<(), NodesError> {
        if self.fail_kill == Some(node) {
            if let Ok(mut calls) = self.calls.lock() {
                calls.push(Call::Kill(node));
            }
            return Err(err(node, "kill failed on purpose"));
        }
        self.record(Call::Kill(node), node, State::Killed)
    }

    async fn restart(&self, node: NodeId) -> Result<(), NodesError> {
        self.record(Call::Restart(node), node, State::Up)
    }

    async fn pause(&self, node: NodeId) -> Result<(), NodesError> {
        self.record(Call::Pause(node), node, State::Paused)
    }

    async fn resume(&self, node: NodeId) -> Result<(), NodesError> {
        self.record(Call::Resume(node), node, State::Up)
    }
}

impl FakeNodes {
    fn push(&self, call: Call) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(call);
        }
    }
}

impl Network for FakeNodes {
    async fn partition(&self, grudge: &Grudge) -> Result<(), NetworkError> {
        self.push(Call::Partition(grudge.clone()));
        Ok(())
    }

    async fn slow(&self, nodes: &[NodeId], _: LinkDelay) -> Result<(), NetworkError> {
        self.push(Call::Slow(nodes.to_vec()));
        Ok(())
    }

    async fn heal(&self) -> Result<(), NetworkError> {
        self.push(Call::Heal);
        Ok(())
    }
}

impl Clocks for FakeNodes {
    async fn set_offset(&self, node: NodeId, offset_ms: i64) -> Result<(), ClockError> {
        self.push(Call::Clock(node, offset_ms));
        Ok(())
    }
}

fn spec(faults: Vec<FaultKind>, targets: Vec<Target>) -> ScheduleSpec {
    ScheduleSpec {
        faults,
        targets,
        shapes: Vec::new(),
        delay: LinkDelay::default(),
        clock: ClockSpec::default(),
        fault_duration: Duration::from_secs(10),
        quiet_duration: Duration::from_secs(5),
    }
}

fn all_spec() -> ScheduleSpec {
    spec(
        vec![FaultKind::Kill, FaultKind::Pause],
        vec![Target::One, Target::Leader, Target::Minority],
    )
}

/// Runs a schedule until `healed` faults have healed, then stops it; returns every event.
async fn run_for(
    nodes: &FakeNodes,
    spec: ScheduleSpec,
    seed: u64,
    healed: usize,
) -> Vec<NemesisEvent> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let runner = run_schedule(nodes, nodes, nodes, Schedule::new(spec, seed), tx, stop_rx);
    let collector = async {
        let mut events = Vec::new();
        let mut count = 0;
        while let Some(e) = rx.recv().await {
            let done = e.kind == NemesisEventKind::Healed;
            events.push(e);
            if done {
                count += 1;
                if count == healed {
                    let _ = stop_tx.send(true);
                }
            }
        }
        events
    };
    let ((), events) = tokio::join!(runner, collector);
    events
}

/// Events come in groups of Starting, Started, Healing, Healed with the same fault and targets.
fn assert_paired(events: &[NemesisEvent]) {
    assert_eq!(events.len() % 4, 0, "{events:#?}");
    for group in events.chunks(4) {
        let kinds: Vec<NemesisEventKind> = group.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                NemesisEventKind::Starting,
                NemesisEventKind::Started,
                NemesisEventKind::Healing,
                NemesisEventKind::Healed
            ]
        );
        assert!(
            group
                .iter()
                .all(|e| e.fault == group[0].fault && e.targets == group[0].targets)
        );
        assert!(!group[0].targets.is_empty());
    }
}

#[tokio::test(start_paused = true)]
async fn same_seed_same_faults_and_calls() {
    let a = FakeNodes::new(5, Some(3));
    let b = FakeNodes::new(5, Some(3));
    let ea = run_for(&a, all_spec(), 7, 40).await;
    let eb = run_for(&b, all_spec(), 7, 40).await;
    assert_eq!(ea, eb);
    assert_eq!(a.calls(), b.calls());
    assert_paired(&ea);
    // Both kinds and several target sizes show up in 40 faults.
    assert!(ea.iter().any(|e| e.fault == FaultKind::Kill));
    assert!(ea.iter().any(|e| e.fault == FaultKind::Pause));
    assert!(ea.iter().any(|e| e.targets.len() == 2));

    let c = FakeNodes::new(5, Some(3));
    let ec = run_for(&c, all_spec(), 8, 40).await;
    assert_ne!(ea, ec, "another seed, another schedule");
}

#[tokio::test(start_paused = true)]
async fn leader_changes_only_leader_picks() {
    let known = FakeNodes::new(5, Some(3));
    let unknown = FakeNodes::new(5, None);
    let ek = run_for(&known, all_spec(), 11, 30).await;
    let eu = run_for(&unknown, all_spec(), 11, 30).await;
    assert_eq!(ek.len(), eu.len());
    let mut leader_groups = 0;
    for (k, u) in ek.iter().zip(&eu) {
        assert_eq!((k.kind, k.fault), (u.kind, u.fault));
        if k.targets != u.targets {
            // Only a leader pick may differ, and then it is the leader.
            assert_eq!(k.targets, vec![3]);
            assert_eq!(u.targets.len(), 1);
            leader_groups += 1;
        }
    }
    assert!(
        leader_groups > 0,
        "seed 11 should hit a leader pick that differs"
    );
}

#[tokio::test(start_paused = true)]
async fn every_fault_heals_and_every_call_is_undone() {
    let nodes = FakeNodes::new(3, Some(1));
    let events = run_for(&nodes, all_spec(), 3, 25).await;
    assert_paired(&events);
    assert!(nodes.all_up());
    let calls = nodes.calls();
    for pair in calls.chunks(2) {
        match pair {
            [Call::Kill(a), Call::Restart(b)] | [Call::Pause(a), Call::Resume(b)] => {
                assert_eq!(a, b)
            }
            other => panic!("unpaired calls {other:?}"),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn stop_in_the_middle_of_a_fault_still_heals() {
    let nodes = FakeNodes::new(3, Some(2));
    let mut long = spec(vec![FaultKind::Pause], vec![Target::Leader]);
    long.fault_duration = Duration::from_secs(3600);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let started = tokio::time::Instant::now();
    let runner = run_schedule(&nodes, &nodes, &nodes, Schedule::new(long, 1), tx, stop_rx);
    let stopper = async {
        let mut events = Vec::new();
        while let Some(e) = rx.recv().await {
            if e.kind == NemesisEventKind::Started {
                assert!(!nodes.all_up(), "paused during the fault");
                tokio::time::sleep(Duration::from_secs(1)).await;
                let _ = stop_tx.send(true);
            }
            events.push(e);
        }
        events
    };
    let ((), events) = tokio::join!(runner, stopper);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "stop cut the fault short"
    );
    assert_paired(&events);
    assert_eq!(events.len(), 4);
    assert_eq!(events[0].targets, vec![2]);
    assert!(nodes.all_up());
    assert_eq!(nodes.calls(), vec![Call::Pause(2), Call::Resume(2)]);
}

#[tokio::test(start_paused = true)]
async fn stop_while_quiet_injects_nothing() {
    let nodes = FakeNodes::new(3, None);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let runner = run_schedule(
        &nodes,
        &nodes,
        &nodes,
        Schedule::new(all_spec(), 1),
        tx,
        stop_rx,
    );
    let stopper = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let _ = stop_tx.send(true);
    };
    tokio::join!(runner, stopper);
    assert!(rx.recv().await.is_none());
    assert!(nodes.calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_dropped_stop_sender_ends_the_schedule() {
    let nodes = FakeNodes::new(3, None);
    let (tx, _rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    drop(stop_tx);
    run_schedule(
        &nodes,
        &nodes,
        &nodes,
        Schedule::new(all_spec(), 1),
        tx,
        stop_rx,
    )
    .await;
    assert!(nodes.calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failed_kill_is_reported_and_the_run_goes_on() {
    let mut nodes = FakeNodes::new(3, Some(2));
    nodes.fail_kill = Some(2);
    let events = run_for(
        &nodes,
        spec(vec![FaultKind::Kill], vec![Target::Leader]),
        1,
        3,
    )
    .await;
    assert_paired(&events);
    assert_eq!(events.len(), 12);
    let started: Vec<&NemesisEvent> = events
        .iter()
        .filter(|e| e.kind == NemesisEventKind::Started)
        .collect();
    assert!(started.iter().all(|e| {
        e.error
            .as_deref()
            .is_some_and(|m| m.contains("n2") && m.contains("on purpose"))
    }));
    // Healing is still tried on the target.
    assert_eq!(
        nodes
            .calls()
            .iter()
            .filter(|c| **c == Call::Restart(2))
            .count(),
        3
    );
}

#[tokio::test(start_paused = true)]
async fn no_faults_idles_until_stopped() {
    let nodes = FakeNodes::new(3, None);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let runner = run_schedule(
        &nodes,
        &nodes,
        &nodes,
        Schedule::new(spec(vec![], vec![]), 1),
        tx,
        stop_rx,
    );
    let stopper = async {
        tokio::time::sleep(Duration::from_secs(600)).await;
        let _ = stop_tx.send(true);
    };
    tokio::join!(runner, stopper);
    assert!(rx.recv().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn a_two_node_minority_is_skipped() {
    let nodes = FakeNodes::new(2, None);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let s = spec(vec![FaultKind::Kill], vec![Target::Minority]);
    let runner = run_schedule(&nodes, &nodes, &nodes, Schedule::new(s, 1), tx, stop_rx);
    let stopper = async {
        tokio::time::sleep(Duration::from_secs(120)).await;
        let _ = stop_tx.send(true);
    };
    tokio::join!(runner, stopper);
    assert!(rx.recv().await.is_none());
    assert!(nodes.calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn partitions_and_delays_act_on_the_network_and_heal() {
    let nodes = FakeNodes::new(5, Some(4));
    let s = spec(
        vec![FaultKind::Partition, FaultKind::Delay],
        vec![Target::Minority],
    );
    let events = run_for(&nodes, s.clone(), 5, 12).await;
    assert_paired(&events);
    let calls = nodes.calls();
    assert_eq!(calls.len(), 24, "{calls:?}");
    for pair in calls.chunks(2) {
        assert!(
            matches!(pair, [Call::Partition(_) | Call::Slow(_), Call::Heal]),
            "{pair:?}"
        );
    }
    // The first fault dealt isolates the leader; every partition event carries its grudge.
    assert_eq!(events[0].fault, FaultKind::Partition);
    assert_eq!(events[0].grudge, Some(Grudge::isolate(4, &[1, 2, 3, 4, 5])));
    assert_eq!(events[0].shape, Some(Shape::IsolateLeader));
    for e in &events {
        match e.fault {
            FaultKind::Partition => {
                let g = e.grudge.as_ref().expect("a partition carries its grudge");
                assert_eq!(e.targets, g.nodes());
                assert!(e.shape.is_some(), "and the shape it was drawn in");
            }
            _ => assert!(e.grudge.is_none() && e.shape.is_none()),
        }
    }
    let shapes_seen = events
        .iter()
        .filter(|e| e.kind == NemesisEventKind::Started && e.fault == FaultKind::Partition)
        .count();
    assert_eq!(
        shapes_seen,
        Shape::ALL.len() * 2,
        "12 faults: 10 partitions, 2 delays"
    );
    // Same seed, same grudges.
    let again = FakeNodes::new(5, Some(4));
    assert_eq!(run_for(&again, s, 5, 12).await, events);
}

#[tokio::test(start_paused = true)]
async fn clock_faults_skew_their_targets_and_reset_them() {
    let nodes = FakeNodes::new(5, Some(2));
    let s = spec(
        vec![FaultKind::Clock],
        vec![Target::Leader, Target::Minority],
    );
    let events = run_for(&nodes, s.clone(), 21, 10).await;
    assert_paired(&events);
    let calls = nodes.calls();
    let mut strobes = 0;
    for group in events.chunks(4) {
        let change = group[0].clock.expect("a clock fault carries its change");
        assert!(group.iter().all(|e| e.clock == Some(change)));
        if matches!(change, ClockChange::Strobe { .. }) {
            strobes += 1;
        }
    }
    assert!(strobes > 0 && strobes < 10, "both kinds in 10 faults");
    // Every clock that was moved ends at 0.
    let mut last = BTreeMap::new();
    for call in &calls {
        match call {
            Call::Clock(node, offset) => {
                last.insert(*node, *offset);
            }
            other => panic!("only clocks: {other:?}"),
        }
    }
    assert!(!last.is_empty());
    assert!(last.values().all(|o| *o == 0), "{last:?}");
    // A strobe flips: some node sees offset, 0, offset within one fault.
    assert!(
        calls.windows(3).any(|w| matches!(w, [Call::Clock(a, x), Call::Clock(b, 0), Call::Clock(c, y)] if a == b && b == c && *x != 0 && x == y)),
        "{calls:?}"
    );
    let again = FakeNodes::new(5, Some(2));
    assert_eq!(run_for(&again, s, 21, 10).await, events);
}
