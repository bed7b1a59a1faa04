//! A partition's shape in words, from the grudge its start event carries (`node → nodes it
//! cannot hear from`; nodes that hear everyone are absent, docs/history-format.md).
//!
//! A clean split reads `n1 | n2 n3` (each side hears only itself). Anything else lists the cut
//! links: `n2-n3 cut` for both directions, `n2 cannot hear n1` for one. Nodes not named hear
//! everyone; the leader of the moment is named when it is one of them (`n1 hears all`), since a
//! leader in the middle is what lets a bridge keep writing.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::nodes::node_name;

type Grudge = BTreeMap<u64, BTreeSet<u64>>;

fn parse(value: &Value) -> Option<Grudge> {
    let mut grudge = Grudge::new();
    for (node, deaf_to) in value.as_object()? {
        let node: u64 = node.parse().ok()?;
        let from = deaf_to.as_array()?.iter().map(Value::as_u64);
        grudge
            .entry(node)
            .or_default()
            .extend(from.collect::<Option<Vec<u64>>>()?);
    }
    Some(grudge)
}

fn names(nodes: impl IntoIterator<Item = u64>) -> String {
    nodes
        .into_iter()
        .map(node_name)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The grudge in words; `None` when `value` is not a grudge.
pub fn in_words(value: &Value, leader: Option<u64>) -> Option<String> {
    let grudge = parse(value)?;
    let cannot_hear = |a: u64, b: u64| grudge.get(&a).is_some_and(|s| s.contains(&b));
    let cut = |a: u64, b: u64| cannot_hear(a, b) || cannot_hear(b, a);
    let nodes: BTreeSet<u64> = grudge
        .iter()
        .flat_map(|(n, deaf_to)| std::iter::once(*n).chain(deaf_to.iter().copied()))
        .collect();

    // Sides: groups of nodes that hear each other, grown from each node in id order.
    let mut sides: Vec<Vec<u64>> = Vec::new();
    for &n in &nodes {
        match sides
            .iter_mut()
            .find(|side| side.iter().all(|&m| !cut(n, m)))
        {
            Some(side) => side.push(n),
            None => sides.push(vec![n]),
        }
    }
    let clean_split = sides.len() > 1
        && sides.iter().enumerate().all(|(i, side)| {
            side.iter().all(|&a| {
                sides
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .flat_map(|(_, other)| other)
                    .all(|&b| cannot_hear(a, b) && cannot_hear(b, a))
            })
        });
    let mut words = if clean_split {
        sides
            .iter()
            .map(|side| names(side.iter().copied()))
            .collect::<Vec<_>>()
            .join(" | ")
    } else {
        let mut both = Vec::new();
        let mut one_way = Vec::new();
        for (&a, deaf_to) in &grudge {
            for &b in deaf_to {
                if !cannot_hear(b, a) {
                    one_way.push(format!("{} cannot hear {}", node_name(a), node_name(b)));
                } else if a < b {
                    both.push(format!("{}-{}", node_name(a), node_name(b)));
                }
            }
        }
        let mut parts = Vec::new();
        if !both.is_empty() {
            parts.push(format!("{} cut", both.join(", ")));
        }
        parts.extend(one_way);
        parts.join(", ")
    };
    if let Some(l) = leader.filter(|l| !nodes.contains(l)) {
        words.push_str(&format!("; {} hears all", node_name(l)));
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn words(grudge: Value, leader: u64) -> String {
        in_words(&grudge, Some(leader)).unwrap_or_default()
    }

    #[test]
    fn every_shape_reads_as_who_is_cut_from_whom() {
        // halves / isolate-one of three
        assert_eq!(
            words(json!({"1": [2, 3], "2": [1], "3": [1]}), 1),
            "n1 | n2 n3"
        );
        assert_eq!(
            words(
                json!({"1": [4, 5], "2": [4, 5], "3": [4, 5], "4": [1, 2, 3], "5": [1, 2, 3]}),
                4
            ),
            "n1 n2 n3 | n4 n5"
        );
        // bridge: the leader in the middle hears both sides
        assert_eq!(
            words(json!({"2": [3], "3": [2]}), 1),
            "n2 | n3; n1 hears all"
        );
        // majorities-ring of five: every node hears its two neighbours
        assert_eq!(
            words(
                json!({"1": [3, 4], "2": [4, 5], "3": [1, 5], "4": [1, 2], "5": [2, 3]}),
                1
            ),
            "n1-n3, n1-n4, n2-n4, n2-n5, n3-n5 cut"
        );
        // one direction only
        assert_eq!(words(json!({"2": [1]}), 1), "n2 cannot hear n1");
        assert_eq!(in_words(&json!(null), None), None);
        assert_eq!(in_words(&json!({"x": [1]}), None), None);
    }
}
