//! What differs between the runs a page compares: the option whose values it sets side by side.
//! Today that is the replication mode; another option (read mode, nemesis, ...) is another
//! `Axis` constant, and every chart of the page follows it.
//!
//! A value's place in the axis's fixed order is its rank, and its rank its colour
//! (`palette::series`), so `async` has one colour on every page whatever order a campaign file
//! lists the modes in or which of them a page shows.

use super::summary::CampaignRun;
use crate::palette::{self, Rgb};

/// An option the compared runs differ in.
pub struct Axis {
    /// As a page names it ("replication").
    pub name: &'static str,
    /// Its known values in their fixed order; values it does not know come after them.
    pub order: &'static [&'static str],
    /// A run's value of it.
    pub value: fn(&CampaignRun) -> &str,
}

/// The replication mode: async, sync, quorum.
pub const REPLICATION: Axis = Axis {
    name: "replication",
    order: &["async", "sync", "quorum"],
    value: |run| &run.replication,
};

/// The runs with one value of the axis.
pub struct Group<'a> {
    pub value: String,
    pub colour: Rgb,
    pub runs: Vec<&'a CampaignRun>,
}

impl Axis {
    /// Where `value` comes among `values` (those a page shows): known values by their place in
    /// `order`, unknown ones after every known one, alphabetically.
    pub fn rank(&self, value: &str, values: &[&str]) -> usize {
        match self.order.iter().position(|v| *v == value) {
            Some(rank) => rank,
            None => {
                let mut unknown: Vec<&str> = values
                    .iter()
                    .copied()
                    .filter(|v| !self.order.contains(v))
                    .collect();
                unknown.sort_unstable();
                unknown.dedup();
                self.order.len() + unknown.iter().position(|v| *v == value).unwrap_or(0)
            }
        }
    }

    /// The runs grouped by their value, in rank order, each group with its colour.
    pub fn groups<'a>(&self, runs: &'a [CampaignRun]) -> Vec<Group<'a>> {
        let values: Vec<&str> = runs.iter().map(|r| (self.value)(r)).collect();
        let mut groups: Vec<(usize, Group<'a>)> = Vec::new();
        for run in runs {
            let value = (self.value)(run);
            match groups.iter_mut().find(|(_, g)| g.value == value) {
                Some((_, g)) => g.runs.push(run),
                None => {
                    let rank = self.rank(value, &values);
                    groups.push((
                        rank,
                        Group {
                            value: value.to_owned(),
                            colour: palette::series(rank),
                            runs: vec![run],
                        },
                    ));
                }
            }
        }
        groups.sort_by_key(|(rank, _)| *rank);
        groups.into_iter().map(|(_, g)| g).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_keep_their_rank_whatever_else_a_page_shows() {
        let a = REPLICATION.rank("async", &["quorum", "async"]);
        let b = REPLICATION.rank("async", &["async", "sync", "chain", "quorum"]);
        assert_eq!((a, b), (0, 0));
        assert_eq!(REPLICATION.rank("quorum", &["quorum"]), 2);
        let shown = ["zeta", "sync", "chain"];
        assert_eq!(REPLICATION.rank("chain", &shown), 3);
        assert_eq!(REPLICATION.rank("zeta", &shown), 4);
    }
}
