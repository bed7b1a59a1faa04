//! Seeded fault schedules: quiet and fault intervals alternating, which fault and which targets
//! chosen from the seed, every start and heal reported as an event.

use std::time::Duration;

use crate::clock::{ClockChange, ClockSpec};
use crate::fault::{Aim, FaultKind, Target};
use crate::grudge::{Grudge, Shape};
use crate::network::LinkDelay;
use crate::nodes::NodeId;

/// What a schedule may do.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScheduleSpec {
    pub faults: Vec<FaultKind>,
    /// Whom node faults (kill, pause, delay) hit; `one` when empty.
    pub targets: Vec<Target>,
    /// The shapes partitions take; every shape when empty.
    #[serde(default)]
    pub shapes: Vec<Shape>,
    /// How a delay fault slows links.
    #[serde(default)]
    pub delay: LinkDelay,
    /// How far clock faults skew.
    #[serde(default)]
    pub clock: ClockSpec,
    /// How long a fault lasts before it heals.
    pub fault_duration: Duration,
    /// How long the cluster is left alone between faults.
    pub quiet_duration: Duration,
}

/// The seeded decisions of a schedule, drawn one fault at a time (targets like "the leader"
/// depend on the cluster at that moment).
///
/// Faults come from a deck of every (fault, target) combination (for partitions: every shape), shuffled from the seed and
/// dealt one by one; leader-targeted combinations are dealt first in each deck. So a run sees
/// every combination before any repeats, and even a short run hits the leader with each kind of
/// fault: on a leader-based store those are the faults that exercise failover.
pub struct Schedule {
    spec: ScheduleSpec,
    rng: fastrand::Rng,
    deck: Vec<(FaultKind, Aim)>,
}

impl Schedule {
    pub fn new(spec: ScheduleSpec, seed: u64) -> Self {
        Schedule {
            spec,
            rng: fastrand::Rng::with_seed(seed),
            deck: Vec::new(),
        }
    }

    pub fn spec(&self) -> &ScheduleSpec {
        &self.spec
    }

    /// The next fault and how to pick its targets.
    pub fn next_fault(&mut self) -> Option<(FaultKind, Aim)> {
        if self.deck.is_empty() {
            let targets: Vec<Aim> = if self.spec.targets.is_empty() {
                vec![Aim::Nodes(Target::One)]
            } else {
                self.spec.targets.iter().map(|&t| Aim::Nodes(t)).collect()
            };
            let shapes: Vec<Aim> = if self.spec.shapes.is_empty() {
                Shape::ALL.iter().map(|&s| Aim::Grudge(s)).collect()
            } else {
                self.spec.shapes.iter().map(|&s| Aim::Grudge(s)).collect()
            };
            let combos = self.spec.faults.iter().flat_map(|&f| {
                let aims = if f == FaultKind::Partition {
                    &shapes
                } else {
                    &targets
                };
                aims.iter().map(move |&a| (f, a))
            });
            let (mut leader, mut rest): (Vec<_>, Vec<_>) =
                combos.partition(|&(_, a)| a.at_leader());
            self.rng.shuffle(&mut leader);
            self.rng.shuffle(&mut rest);
            // Dealt from the back: the leader combinations go last into the vector.
            rest.reverse();
            leader.reverse();
            self.deck = rest;
            self.deck.extend(leader);
        }
        self.deck.pop()
    }

    /// A clock fault's change, from the schedule's seed. Aimed at the leader, it sets the clock
    /// back: a leader's clock running ahead only shortens its lease, set back it lengthens the
    /// lease past the followers' patience, which is the skew that can break lease reads
    /// (Jepsen's clock nemesis draws both ways and leaves it to chance).
    pub fn clock_change(&mut self, aim: Aim) -> ClockChange {
        let change = ClockChange::draw(&self.spec.clock, &mut self.rng);
        if aim.at_leader() {
            change.set_back()
        } else {
            change
        }
    }

    /// A grudge of `shape` over `ids`, from the schedule's seed (draws independent of
    /// `leader`, as with `pick`).
    pub fn grudge(&mut self, shape: Shape, ids: &[NodeId], leader: Option<NodeId>) -> Grudge {
        shape.grudge(ids, leader, &mut self.rng)
    }

    /// Random choice among `ids` for a target, from the schedule's seed.
    ///
    /// The number of random draws depends only on `target` and `ids.len()`, never on `leader`:
    /// a leader-dependent pick must not shift every later draw, so that the same seed gives the
    /// same sequence of faults and picks whatever the cluster did. An empty answer means the
    /// target has no node to hit (no ids, or a minority of fewer than three nodes is empty).
    pub fn pick(&mut self, target: Target, ids: &[NodeId], leader: Option<NodeId>) -> Vec<NodeId> {
        // Sorted so that the answer does not depend on the order the cluster lists its nodes.
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Vec::new();
        }
        match target {
            Target::One => vec![ids[self.rng.usize(..ids.len())]],
            Target::Leader => {
                // Drawn even when the leader is known: see above.
                let random = ids[self.rng.usize(..ids.len())];
                match leader {
                    Some(l) if ids.contains(&l) => vec![l],
                    _ => vec![random],
                }
            }
            Target::Minority => {
                let max = (ids.len() - 1) / 2;
                if max == 0 {
                    return Vec::new();
                }
                let count = self.rng.usize(1..=max);
                // Partial Fisher-Yates: the first `count` slots end up a uniform random subset.
                for i in 0..count {
                    let j = self.rng.usize(i..ids.len());
                    ids.swap(i, j);
                }
                ids.truncate(count);
                ids.sort_unstable();
                ids
            }
        }
    }
}

/// A fault starting or healing, for the history.
#[derive(Debug, Clone, PartialEq)]
pub struct NemesisEvent {
    pub kind: NemesisEventKind,
    pub fault: FaultKind,
    pub targets: Vec<NodeId>,
    /// A partition's grudge (who cannot hear from whom); None for other faults.
    pub grudge: Option<Grudge>,
    /// The shape the grudge was drawn in; None for other faults. (On three nodes halves and
    /// isolate-one draw the same grudges: only the shape says which was meant.)
    pub shape: Option<Shape>,
    /// A clock fault's skew; None for other faults.
    pub clock: Option<ClockChange>,
    /// The leader when the fault was chosen, as the cluster reported it.
    pub leader: Option<NodeId>,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ScheduleSpec {
        ScheduleSpec {
            faults: vec![FaultKind::Kill, FaultKind::Pause],
            targets: vec![Target::One, Target::Leader, Target::Minority],
            shapes: Vec::new(),
            delay: LinkDelay::default(),
            clock: ClockSpec::default(),
            fault_duration: Duration::from_secs(1),
            quiet_duration: Duration::from_secs(1),
        }
    }

    #[test]
    fn every_combination_is_dealt_before_any_repeats_leader_first() {
        let mut s = Schedule::new(spec(), 3);
        let first: Vec<_> = (0..6).map(|_| s.next_fault().expect("fault")).collect();
        assert!(first[..2].iter().all(|&(_, a)| a.at_leader()), "{first:?}");
        let mut kinds: Vec<_> = first[..2].iter().map(|&(f, _)| f).collect();
        kinds.sort_by_key(|k| k.name());
        assert_eq!(kinds, [FaultKind::Kill, FaultKind::Pause]);
        let mut all = first.clone();
        all.sort_by_key(|&(f, a)| (f.name(), format!("{a:?}")));
        all.dedup();
        assert_eq!(all.len(), 6, "{first:?}");
    }

    #[test]
    fn partitions_are_dealt_once_per_shape_isolate_leader_first() {
        let mut sp = spec();
        sp.faults = vec![FaultKind::Partition, FaultKind::Kill];
        sp.targets = vec![Target::One];
        let mut s = Schedule::new(sp, 9);
        let first: Vec<_> = (0..6).map(|_| s.next_fault().expect("fault")).collect();
        assert_eq!(
            first[0],
            (FaultKind::Partition, Aim::Grudge(Shape::IsolateLeader))
        );
        let shapes: std::collections::BTreeSet<&str> = first
            .iter()
            .filter_map(|&(_, a)| match a {
                Aim::Grudge(shape) => Some(shape.name()),
                Aim::Nodes(_) => None,
            })
            .collect();
        assert_eq!(shapes.len(), Shape::ALL.len(), "{first:?}");
        assert!(first.contains(&(FaultKind::Kill, Aim::Nodes(Target::One))));
    }

    #[test]
    fn one_picks_a_single_member() {
        let mut s = Schedule::new(spec(), 1);
        for _ in 0..200 {
            let p = s.pick(Target::One, &[1, 2, 3], None);
            assert_eq!(p.len(), 1);
            assert!([1, 2, 3].contains(&p[0]));
        }
    }

    #[test]
    fn leader_picks_the_leader_or_one_random_node() {
        let mut s = Schedule::new(spec(), 2);
        for _ in 0..100 {
            assert_eq!(s.pick(Target::Leader, &[1, 2, 3], Some(2)), vec![2]);
            let p = s.pick(Target::Leader, &[1, 2, 3], None);
            assert_eq!(p.len(), 1);
            // A leader that is not a member is treated as unknown.
            assert_ne!(s.pick(Target::Leader, &[1, 2, 3], Some(9)), vec![9]);
        }
    }

    #[test]
    fn minority_sizes_are_between_one_and_less_than_half() {
        let mut s = Schedule::new(spec(), 3);
        for n in 1..=9u32 {
            let ids: Vec<NodeId> = (1..=n).collect();
            let max = (n as usize - 1) / 2;
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..300 {
                let p = s.pick(Target::Minority, &ids, None);
                seen.insert(p.len());
                assert!(p.len() <= max, "n={n}: {p:?}");
                assert!(p.windows(2).all(|w| w[0] < w[1]), "sorted, distinct: {p:?}");
                assert!(p.iter().all(|id| ids.contains(id)));
            }
            let expected: std::collections::BTreeSet<usize> = if max == 0 {
                [0].into()
            } else {
                (1..=max).collect()
            };
            assert_eq!(seen, expected, "n={n}");
        }
    }

    #[test]
    fn no_ids_no_targets() {
        let mut s = Schedule::new(spec(), 4);
        for t in [Target::One, Target::Leader, Target::Minority] {
            assert!(s.pick(t, &[], Some(1)).is_empty());
        }
    }

    #[test]
    fn the_leader_does_not_shift_later_draws() {
        let ids = [3, 1, 2, 5, 4];
        let mut with_partitions = spec();
        with_partitions.faults.push(FaultKind::Partition);
        let draw = |leader: Option<NodeId>| {
            let mut s = Schedule::new(with_partitions.clone(), 42);
            let mut out = Vec::new();
            for _ in 0..50 {
                let (f, a) = s
                    .next_fault()
                    .unwrap_or((FaultKind::Kill, Aim::Nodes(Target::One)));
                let p = match a {
                    Aim::Nodes(t) => s.pick(t, &ids, leader),
                    Aim::Grudge(shape) => s
                        .grudge(shape, &ids, leader)
                        .links()
                        .into_iter()
                        .flat_map(|(x, y)| [x, y])
                        .collect(),
                };
                out.push((f, a, if a.at_leader() { Vec::new() } else { p }));
            }
            out
        };
        assert_eq!(draw(None), draw(Some(4)));
    }

    #[test]
    fn clock_faults_set_the_leaders_clock_back_and_others_either_way() {
        let mut s = Schedule::new(spec(), 9);
        let at_leader: Vec<i64> = (0..100)
            .map(|_| s.clock_change(Aim::Nodes(Target::Leader)).offset_ms())
            .collect();
        assert!(at_leader.iter().all(|&o| o < 0), "{at_leader:?}");
        let elsewhere: Vec<i64> = (0..100)
            .map(|_| s.clock_change(Aim::Nodes(Target::One)).offset_ms())
            .collect();
        assert!(elsewhere.iter().any(|&o| o < 0), "{elsewhere:?}");
        assert!(elsewhere.iter().any(|&o| o > 0), "{elsewhere:?}");
    }

    #[test]
    fn node_order_does_not_matter() {
        let mut a = Schedule::new(spec(), 5);
        let mut b = Schedule::new(spec(), 5);
        for _ in 0..50 {
            assert_eq!(
                a.pick(Target::Minority, &[1, 2, 3, 4, 5], None),
                b.pick(Target::Minority, &[5, 3, 1, 4, 2], None)
            );
        }
    }
}
