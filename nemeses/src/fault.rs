//! The faults a schedule can inject and whom they target.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// SIGKILL, then restart when the fault heals.
    Kill,
    /// SIGSTOP, then SIGCONT when the fault heals.
    Pause,
    /// A network partition shaped as a grudge (its targets are shapes, not nodes).
    Partition,
    /// Delay, jitter and loss on every link of the target nodes.
    Delay,
    /// The targets' wall clocks bumped or strobed, reset when the fault heals.
    Clock,
}

impl FaultKind {
    pub const ALL: [FaultKind; 5] = [
        FaultKind::Kill,
        FaultKind::Pause,
        FaultKind::Partition,
        FaultKind::Delay,
        FaultKind::Clock,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Kill => "kill",
            FaultKind::Pause => "pause",
            FaultKind::Partition => "partition",
            FaultKind::Delay => "delay",
            FaultKind::Clock => "clock",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FaultKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FaultKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = FaultKind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown nemesis \"{s}\"; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Which nodes a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// One node chosen at random.
    One,
    /// The current leader (a random node when none is known).
    Leader,
    /// A random minority: up to (n - 1) / 2 nodes.
    Minority,
}

impl FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "one" => Ok(Target::One),
            "leader" => Ok(Target::Leader),
            "minority" => Ok(Target::Minority),
            other => Err(format!(
                "unknown target \"{other}\"; expected one of one, leader, minority"
            )),
        }
    }
}

/// The faults split into lanes, one schedule each: faults of one family act on the same thing
/// (processes, the network, clocks) and take turns, faults of different families overlap, as
/// Jepsen's composed nemeses do. Overlap is the point: a leader whose clock is set back while
/// it is cut off from the majority is what breaks lease reads, and neither fault does alone.
/// Lanes come in a fixed order (process, network, clock), each fault once.
pub fn lanes(faults: &[FaultKind]) -> Vec<Vec<FaultKind>> {
    let families: [&[FaultKind]; 3] = [
        &[FaultKind::Kill, FaultKind::Pause],
        &[FaultKind::Partition, FaultKind::Delay],
        &[FaultKind::Clock],
    ];
    families
        .iter()
        .map(|family| {
            let mut lane: Vec<FaultKind> = Vec::new();
            for f in faults {
                if family.contains(f) && !lane.contains(f) {
                    lane.push(*f);
                }
            }
            lane
        })
        .filter(|lane| !lane.is_empty())
        .collect()
}

/// How a dealt fault chooses what it hits: nodes for process and delay faults, a grudge shape
/// for partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Aim {
    Nodes(Target),
    Grudge(crate::grudge::Shape),
}

#[cfg(test)]
#[test]
fn lanes_group_faults_by_what_they_act_on() {
    use FaultKind::*;
    assert_eq!(
        lanes(&[Clock, Partition, Kill, Pause, Kill]),
        vec![vec![Kill, Pause], vec![Partition], vec![Clock]]
    );
    assert_eq!(lanes(&[Delay]), vec![vec![Delay]]);
    assert!(lanes(&[]).is_empty());
}

impl Aim {
    /// Whether this aim hits the current leader: such faults are dealt first.
    pub fn at_leader(self) -> bool {
        matches!(
            self,
            Aim::Nodes(Target::Leader) | Aim::Grudge(crate::grudge::Shape::IsolateLeader)
        )
    }
}
