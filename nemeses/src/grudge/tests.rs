//! Each shape's defining property, over cluster sizes 3..=7 and any seed.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

fn ids(n: u32) -> Vec<NodeId> {
    (1..=n).collect()
}

/// The nodes `node` hears, itself included.
fn sees(g: &Grudge, node: NodeId, ids: &[NodeId]) -> BTreeSet<NodeId> {
    ids.iter().copied().filter(|&o| !g.drops(o, node)).collect()
}

/// Only members, nobody against itself.
fn well_formed(g: &Grudge, ids: &[NodeId]) {
    for (from, to) in g.links() {
        assert!(ids.contains(&from) && ids.contains(&to), "{g:?}");
        assert_ne!(from, to, "{g:?}");
    }
}

/// Two non-empty sides, every link between them cut both ways, none inside a side.
fn two_sides(g: &Grudge, members: &[NodeId]) -> (BTreeSet<NodeId>, BTreeSet<NodeId>) {
    let first = members[0];
    let a: BTreeSet<NodeId> = members
        .iter()
        .copied()
        .filter(|&x| !g.drops(first, x))
        .collect();
    let b: BTreeSet<NodeId> = members.iter().copied().filter(|x| !a.contains(x)).collect();
    assert!(!b.is_empty(), "{g:?}");
    for &x in members {
        for &y in members {
            let same = a.contains(&x) == a.contains(&y);
            assert_eq!(g.drops(x, y), !same && x != y, "{x}->{y} in {g:?}");
        }
    }
    (a, b)
}

proptest! {
    #[test]
    fn halves_split_the_cluster_in_two_near_equal_sides(n in 3u32..=7, seed: u64) {
        let ids = ids(n);
        let g = Shape::Halves.grudge(&ids, None, &mut fastrand::Rng::with_seed(seed));
        well_formed(&g, &ids);
        let (a, b) = two_sides(&g, &ids);
        prop_assert!(a.len().abs_diff(b.len()) <= 1, "{:?}", g);
        prop_assert_eq!(g.nodes(), ids);
    }

    #[test]
    fn isolate_one_cuts_exactly_one_node_off_both_ways(n in 3u32..=7, seed: u64) {
        let ids = ids(n);
        let g = Shape::IsolateOne.grudge(&ids, Some(1), &mut fastrand::Rng::with_seed(seed));
        well_formed(&g, &ids);
        let (a, b) = two_sides(&g, &ids);
        prop_assert!(a.len() == 1 || b.len() == 1, "{:?}", g);
    }

    #[test]
    fn isolate_leader_cuts_off_the_leader(n in 3u32..=7, seed: u64, pick in 0usize..7) {
        let ids = ids(n);
        let leader = ids[pick % ids.len()];
        let g = Shape::IsolateLeader.grudge(&ids, Some(leader), &mut fastrand::Rng::with_seed(seed));
        well_formed(&g, &ids);
        prop_assert_eq!(sees(&g, leader, &ids), BTreeSet::from([leader]));
        for &o in ids.iter().filter(|&&o| o != leader) {
            prop_assert!(g.drops(leader, o));
            prop_assert_eq!(g.cannot_hear(o), BTreeSet::from([leader]));
        }
        // Unknown leader: still one node isolated.
        let g = Shape::IsolateLeader.grudge(&ids, None, &mut fastrand::Rng::with_seed(seed));
        let (a, b) = two_sides(&g, &ids);
        prop_assert!(a.len() == 1 || b.len() == 1, "{:?}", g);
    }

    #[test]
    fn majorities_ring_every_node_sees_its_own_majority(n in 3u32..=7, seed: u64) {
        let ids = ids(n);
        let g = Shape::MajoritiesRing.grudge(&ids, None, &mut fastrand::Rng::with_seed(seed));
        well_formed(&g, &ids);
        let majority = ids.len() / 2 + 1;
        let views: Vec<BTreeSet<NodeId>> = ids.iter().map(|&x| sees(&g, x, &ids)).collect();
        for (x, view) in ids.iter().zip(&views) {
            prop_assert!(view.contains(x));
            prop_assert_eq!(view.len(), majority, "node {} in {:?}", x, g);
        }
        let distinct: BTreeSet<&BTreeSet<NodeId>> = views.iter().collect();
        prop_assert_eq!(distinct.len(), ids.len(), "{:?}", g);
    }

    #[test]
    fn bridge_joins_two_halves_through_one_node(n in 3u32..=7, seed: u64) {
        let ids = ids(n);
        let g = Shape::Bridge.grudge(&ids, None, &mut fastrand::Rng::with_seed(seed));
        well_formed(&g, &ids);
        let bridges: Vec<NodeId> = ids
            .iter()
            .copied()
            .filter(|&x| sees(&g, x, &ids).len() == ids.len())
            .collect();
        prop_assert_eq!(bridges.len(), 1, "{:?}", g);
        let bridge = bridges[0];
        for &o in &ids {
            prop_assert!(!g.drops(bridge, o));
        }
        let rest: Vec<NodeId> = ids.iter().copied().filter(|&x| x != bridge).collect();
        two_sides(&g, &rest);
    }

    #[test]
    fn draws_do_not_depend_on_the_leader(n in 3u32..=7, seed: u64, leader in 1u32..=7) {
        let ids = ids(n);
        for shape in Shape::ALL {
            let mut a = fastrand::Rng::with_seed(seed);
            let mut b = fastrand::Rng::with_seed(seed);
            shape.grudge(&ids, Some(leader), &mut a);
            shape.grudge(&ids, None, &mut b);
            prop_assert_eq!(a.u64(..), b.u64(..), "{}", shape);
        }
    }
}

#[test]
fn too_few_nodes_give_nothing_to_cut() {
    let mut rng = fastrand::Rng::with_seed(1);
    for shape in Shape::ALL {
        assert!(shape.grudge(&[], None, &mut rng).is_empty());
        assert!(shape.grudge(&[4], Some(4), &mut rng).is_empty());
    }
    assert!(Shape::Bridge.grudge(&[1, 2], None, &mut rng).is_empty());
}

#[test]
fn names_round_trip_and_grudges_serialise_as_objects() {
    for shape in Shape::ALL {
        assert_eq!(shape.name().parse::<Shape>(), Ok(shape));
    }
    assert!("ring".parse::<Shape>().is_err());
    let g = Grudge::isolate(1, &[1, 2, 3]);
    assert_eq!(
        serde_json::to_string(&g).ok().as_deref(),
        Some(r#"{"1":[2,3],"2":[1],"3":[1]}"#)
    );
    assert_eq!(g.links(), vec![(1, 2), (1, 3), (2, 1), (3, 1)]);
}
