//! Partitions as grudges: a map "node → the nodes it cannot hear from", drawn in one of a few
//! shapes. Pure functions of (node ids, leader, rng): a backend (nftables, proxy) turns a grudge
//! into dropped traffic; this module only decides who is cut off from whom.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::nodes::NodeId;

/// The shapes a partition can take (Jepsen's grudges).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// Two random halves that cannot hear each other.
    Halves,
    /// One random node cut off from all others, both ways.
    IsolateOne,
    /// The current leader cut off from all others (a random node when none is known).
    IsolateLeader,
    /// Every node sees a majority (itself included), and no two see the same one.
    MajoritiesRing,
    /// Two halves that cannot hear each other, joined by one node that hears and is heard by
    /// everyone.
    Bridge,
}

impl Shape {
    pub const ALL: [Shape; 5] = [
        Shape::Halves,
        Shape::IsolateOne,
        Shape::IsolateLeader,
        Shape::MajoritiesRing,
        Shape::Bridge,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Shape::Halves => "halves",
            Shape::IsolateOne => "isolate-one",
            Shape::IsolateLeader => "isolate-leader",
            Shape::MajoritiesRing => "majorities-ring",
            Shape::Bridge => "bridge",
        }
    }

    /// Draws a grudge of this shape over `ids`.
    ///
    /// As with `Schedule::pick`, the number of random draws depends only on the shape and the
    /// number of nodes, never on `leader`, so that one seed gives one sequence of partitions
    /// whatever the cluster did. Too few nodes for a shape (a bridge needs three) give an empty
    /// grudge: nothing to cut.
    pub fn grudge(self, ids: &[NodeId], leader: Option<NodeId>, rng: &mut fastrand::Rng) -> Grudge {
        // Sorted so that the answer does not depend on the order the cluster lists its nodes.
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() < 2 {
            return Grudge::default();
        }
        match self {
            Shape::Halves => {
                rng.shuffle(&mut ids);
                let (a, b) = ids.split_at(ids.len() / 2);
                Grudge::between(a, b)
            }
            Shape::IsolateOne => {
                let one = ids[rng.usize(..ids.len())];
                Grudge::isolate(one, &ids)
            }
            Shape::IsolateLeader => {
                // Drawn even when the leader is known: see above.
                let random = ids[rng.usize(..ids.len())];
                let one = leader.filter(|l| ids.contains(l)).unwrap_or(random);
                Grudge::isolate(one, &ids)
            }
            Shape::MajoritiesRing => {
                rng.shuffle(&mut ids);
                majorities_ring(&ids)
            }
            Shape::Bridge => {
                rng.shuffle(&mut ids);
                if ids.len() < 3 {
                    return Grudge::default();
                }
                // The first node bridges; the rest split into two halves.
                let rest = &ids[1..];
                let (a, b) = rest.split_at(rest.len() / 2);
                Grudge::between(a, b)
            }
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Shape {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Shape::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Shape::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown partition shape \"{s}\"; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Who cannot hear from whom: `node → nodes whose packets it drops`. Nodes that hear everyone
/// are absent. Serialised as a JSON object, e.g. `{"1":[2,3],"2":[1],"3":[1]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Grudge(BTreeMap<NodeId, BTreeSet<NodeId>>);

impl Grudge {
    /// Nobody in `a` hears anybody in `b`, and the other way round.
    pub fn between(a: &[NodeId], b: &[NodeId]) -> Grudge {
        let mut g = Grudge::default();
        for &x in a {
            for &y in b {
                g.cut(x, y);
                g.cut(y, x);
            }
        }
        g
    }

    /// `node` hears none of `ids` and none of them hears it.
    pub fn isolate(node: NodeId, ids: &[NodeId]) -> Grudge {
        let others: Vec<NodeId> = ids.iter().copied().filter(|&i| i != node).collect();
        Grudge::between(&[node], &others)
    }

    /// `to` stops hearing from `from` (a node never holds a grudge against itself).
    pub fn cut(&mut self, from: NodeId, to: NodeId) {
        if from != to {
            self.0.entry(to).or_default().insert(from);
        }
    }

    /// Whether traffic from `from` to `to` is dropped.
    pub fn drops(&self, from: NodeId, to: NodeId) -> bool {
        self.0.get(&to).is_some_and(|s| s.contains(&from))
    }

    /// Every dropped direction as (from, to), sorted.
    pub fn links(&self) -> Vec<(NodeId, NodeId)> {
        let mut links: Vec<(NodeId, NodeId)> = self
            .0
            .iter()
            .flat_map(|(&to, froms)| froms.iter().map(move |&from| (from, to)))
            .collect();
        links.sort_unstable();
        links
    }

    /// The nodes that cannot hear from someone, sorted: the partition's "targets".
    pub fn nodes(&self) -> Vec<NodeId> {
        self.0
            .iter()
            .filter(|(_, s)| !s.is_empty())
            .map(|(&n, _)| n)
            .collect()
    }

    /// The nodes `node` cannot hear from.
    pub fn cannot_hear(&self, node: NodeId) -> BTreeSet<NodeId> {
        self.0.get(&node).cloned().unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.0.values().all(BTreeSet::is_empty)
    }
}

/// `ring` in ring order: each node sees the window of a majority of consecutive nodes that it
/// sits in the middle of (Jepsen's majorities-ring), and holds a grudge against everyone else.
/// Windows start at different places, so no two nodes see the same majority.
fn majorities_ring(ring: &[NodeId]) -> Grudge {
    let n = ring.len();
    let m = n / 2 + 1;
    let mut g = Grudge::default();
    for start in 0..n {
        let window: Vec<NodeId> = (0..m).map(|k| ring[(start + k) % n]).collect();
        let me = window[m / 2];
        for &other in ring {
            if !window.contains(&other) {
                g.cut(other, me);
            }
        }
    }
    g
}

#[cfg(test)]
mod tests;
