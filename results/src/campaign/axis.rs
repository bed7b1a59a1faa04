//! What differs between the runs a page compares: the system and the options whose values are
//! not the same in every run (`Axis::of`), in one axis whose values the page sets side by side
//! (`quorum`; `etcd · serializable` when two vary). A kvnode campaign over replication modes
//! compares replication; one that crosses kvnode and etcd compares systems, and so on.
//!
//! A value's rank is its place on the page, and its rank its colour (`palette::series`). Where
//! one option varies and its values are known (replication: async, sync, quorum), the rank is
//! the value's place in that fixed order, so `async` has one colour on every page whatever
//! order a campaign file lists the modes in or which of them a page shows; other values come
//! after the known ones, alphabetically.

use std::collections::BTreeSet;

use super::setup::Setup;
use super::summary::CampaignRun;
use crate::palette::{self, Rgb};

/// Values some options are known to take, in the order pages show them.
const KNOWN_ORDERS: &[(&str, &[&str])] = &[
    ("system", &["kvnode", "etcd", "postgres-patroni"]),
    ("replication", &["async", "sync", "quorum", "sync-strict"]),
    (
        "reads",
        &[
            "leader",
            "read-index",
            "lease",
            "any",
            "linearizable",
            "serializable",
            "primary",
        ],
    ),
];

/// The value of a dimension a run lacks (an option its system does not have).
const ABSENT: &str = "–";

/// One thing runs can differ in.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Dimension {
    System,
    Option(String),
}

impl Dimension {
    fn name(&self) -> &str {
        match self {
            Dimension::System => "system",
            Dimension::Option(name) => name,
        }
    }

    fn value<'a>(&self, setup: &'a Setup) -> &'a str {
        match self {
            Dimension::System => &setup.system,
            Dimension::Option(name) => setup.option(name).unwrap_or(ABSENT),
        }
    }

    /// Where `value` sorts: its place among the known values, then the unknown ones
    /// alphabetically.
    fn key<'a>(&self, value: &'a str) -> (usize, &'a str) {
        let known = KNOWN_ORDERS
            .iter()
            .find(|(name, _)| *name == self.name())
            .map_or(&[][..], |(_, order)| *order);
        match known.iter().position(|v| *v == value) {
            Some(place) => (place, ""),
            None => (known.len(), value),
        }
    }
}

/// The option (or options) the compared runs differ in, and its values in rank order.
#[derive(Debug, Clone)]
pub struct Axis {
    dimensions: Vec<Dimension>,
    /// The values the runs have, in rank order.
    values: Vec<String>,
}

/// The runs with one value of the axis.
pub struct Group<'a> {
    pub value: String,
    pub colour: Rgb,
    pub runs: Vec<&'a CampaignRun>,
}

impl Axis {
    /// What `runs` differ in: every dimension (the system, then options by name) with more
    /// than one value among them. When nothing differs, the replication mode if the runs have
    /// one (a campaign of one mode still reads "by replication"), else the system.
    pub fn of(runs: &[CampaignRun]) -> Axis {
        let setups: Vec<&Setup> = runs.iter().map(|r| &r.setup).collect();
        let options: BTreeSet<&str> = setups
            .iter()
            .flat_map(|s| s.options.keys().map(String::as_str))
            .collect();
        // Options in the order labels spell them (replication, reads, then by name).
        let mut ordered: Vec<&str> = ["replication", "reads"]
            .into_iter()
            .filter(|o| options.contains(o))
            .collect();
        let rest: Vec<&str> = options
            .iter()
            .copied()
            .filter(|o| !ordered.contains(o))
            .collect();
        ordered.extend(rest);
        let candidates = std::iter::once(Dimension::System)
            .chain(ordered.iter().map(|o| Dimension::Option((*o).to_owned())));
        // An option varies when the runs that have it do not all agree: one only kvnode has,
        // the same in every kvnode run, does not split a campaign that crosses systems.
        let mut dimensions: Vec<Dimension> = candidates
            .filter(|d| {
                let values: BTreeSet<&str> = setups
                    .iter()
                    .map(|s| d.value(s))
                    .filter(|v| *v != ABSENT)
                    .collect();
                values.len() > 1
            })
            .collect();
        if dimensions.is_empty() {
            dimensions.push(if options.contains("replication") {
                Dimension::Option("replication".to_owned())
            } else {
                Dimension::System
            });
        }
        let mut present: Vec<Vec<&str>> = setups
            .iter()
            .map(|s| dimensions.iter().map(|d| d.value(s)).collect())
            .collect();
        present.sort_by(|a, b| {
            let key = |v: &Vec<&str>| -> Vec<(usize, String)> {
                dimensions
                    .iter()
                    .zip(v)
                    .map(|(d, v)| {
                        let (place, name) = d.key(v);
                        (place, name.to_owned())
                    })
                    .collect()
            };
            key(a).cmp(&key(b))
        });
        present.dedup();
        let values = present.iter().map(|v| v.join(" · ")).collect();
        Axis { dimensions, values }
    }

    /// The options compared, in the axis's order; `None` when it compares systems (a system's
    /// options come with it, so all of them matter to a group).
    pub fn compared_options(&self) -> Option<Vec<String>> {
        self.dimensions
            .iter()
            .map(|d| match d {
                Dimension::System => None,
                Dimension::Option(name) => Some(name.clone()),
            })
            .collect()
    }

    /// As a page names it: `replication`, `system · reads`.
    pub fn name(&self) -> String {
        let names: Vec<&str> = self.dimensions.iter().map(Dimension::name).collect();
        names.join(" · ")
    }

    /// A run's value on the axis.
    pub fn value(&self, setup: &Setup) -> String {
        let values: Vec<&str> = self.dimensions.iter().map(|d| d.value(setup)).collect();
        values.join(" · ")
    }

    /// The value's colour: by its known place when one option with known values varies (the
    /// same colour on every page), else by its rank on this page.
    pub fn colour(&self, value: &str) -> Rgb {
        let rank = match self.dimensions.as_slice() {
            [single] => {
                let (place, _) = single.key(value);
                let unknown_before = self
                    .values
                    .iter()
                    .filter(|v| single.key(v).0 == place && v.as_str() < value)
                    .count();
                place + unknown_before
            }
            _ => self.rank(value),
        };
        palette::series(rank)
    }

    /// The value's place on the page (values the runs do not have come last).
    pub fn rank(&self, value: &str) -> usize {
        self.values
            .iter()
            .position(|v| v == value)
            .unwrap_or(self.values.len())
    }

    /// The runs grouped by their value, in rank order, each group with its colour.
    pub fn groups<'a>(&self, runs: &'a [CampaignRun]) -> Vec<Group<'a>> {
        let mut groups: Vec<Group<'a>> = self
            .values
            .iter()
            .map(|value| Group {
                value: value.clone(),
                colour: self.colour(value),
                runs: Vec::new(),
            })
            .collect();
        for run in runs {
            let value = self.value(&run.setup);
            if let Some(group) = groups.iter_mut().find(|g| g.value == value) {
                group.runs.push(run);
            }
        }
        groups
    }
}
