use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::workload::{DEFAULT_MAX_WRITES_PER_KEY, DEFAULT_OPS_PER_KEY, DEFAULT_THREADS_PER_KEY};

fn spec(kind: WorkloadKind) -> WorkloadSpec {
    WorkloadSpec::defaults(kind)
}

/// `n` operations of a single worker.
fn take(spec: WorkloadSpec, seed: u64, n: usize) -> Vec<Invocation> {
    let mut g = Generator::new(spec, 1, seed);
    (0..n).map(|_| g.next_invocation(0)).collect()
}

/// `n` operations of `workers` workers asking in a seeded random order, each with the worker
/// that asked, and the generator's final reads' keys.
fn take_from_workers(
    spec: WorkloadSpec,
    workers: usize,
    seed: u64,
    n: usize,
) -> (Vec<(usize, Invocation)>, Vec<String>) {
    let mut g = Generator::new(spec, workers, seed);
    let mut order = fastrand::Rng::with_seed(seed.wrapping_add(1));
    let ops = (0..n)
        .map(|_| {
            let w = order.usize(..workers);
            (w, g.next_invocation(w))
        })
        .collect();
    let finals = g
        .final_reads()
        .into_iter()
        .filter_map(|op| op.key)
        .collect();
    (ops, finals)
}

/// Per key, the distinct workers that invoked an operation on it.
fn workers_per_key(ops: &[(usize, Invocation)]) -> HashMap<String, HashSet<usize>> {
    let mut per_key: HashMap<String, HashSet<usize>> = HashMap::new();
    for (w, op) in ops {
        per_key
            .entry(op.key.clone().unwrap_or_default())
            .or_default()
            .insert(*w);
    }
    per_key
}

/// Operations per key, in the order the keys first appear.
fn ops_per_key(ops: &[Invocation]) -> Vec<(String, u64)> {
    let mut counts: Vec<(String, u64)> = Vec::new();
    for op in ops {
        let key = op.key.clone().unwrap_or_default();
        match counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => counts.push((key, 1)),
        }
    }
    counts
}

/// Every value a write-like op introduces (write values, cas targets, appended and added
/// elements) with its key; none of them may repeat.
fn introduced(ops: &[Invocation]) -> Vec<(Option<String>, Value)> {
    ops.iter()
        .filter_map(|op| match op.f.as_str() {
            "write" | "append" | "add" => Some((op.key.clone(), op.value.clone())),
            "cas" => Some((op.key.clone(), op.value[1].clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn register_uses_key_r0_and_mixes_read_write_cas() {
    let ops = take(spec(WorkloadKind::Register), 7, 300);
    assert!(ops.iter().all(|op| op.key.as_deref() == Some("r0")));
    let fs: HashSet<&str> = ops.iter().map(|op| op.f.as_str()).collect();
    assert_eq!(fs, HashSet::from(["read", "write", "cas"]));
    for op in &ops {
        match op.f.as_str() {
            "read" => assert_eq!(op.value, Value::Null),
            "write" => assert!(op.value.is_u64()),
            "cas" => assert!(op.value.as_array().is_some_and(|a| a.len() == 2)),
            other => panic!("unexpected f {other}"),
        }
    }
    let finals = Generator::new(spec(WorkloadKind::Register), 1, 7).final_reads();
    assert_eq!(
        finals,
        vec![Invocation {
            f: "read".into(),
            key: Some("r0".into()),
            value: Value::Null
        }]
    );
}

#[test]
fn cas_compares_with_a_recent_value_of_the_same_key() {
    // Keys move on every 20 operations: a fresh key's first cas never compares with a value
    // written to the key its slot held before.
    let mut s = spec(WorkloadKind::Kv);
    s.ops_per_key = Some(20);
    let ops = take(s, 3, 2000);
    let mut written: HashMap<String, Vec<Value>> = HashMap::new();
    let mut cas_count = 0;
    for op in &ops {
        let key = op.key.clone().unwrap_or_default();
        match op.f.as_str() {
            "write" => written.entry(key).or_default().push(op.value.clone()),
            "cas" => {
                cas_count += 1;
                let history = written.entry(key).or_default();
                let recent = &history[history.len().saturating_sub(RECENT_VALUES)..];
                assert!(recent.contains(&op.value[0]), "{op:?} after {history:?}");
                history.push(op.value[1].clone());
            }
            _ => {}
        }
    }
    assert!(cas_count > 400, "{cas_count}");
}

#[test]
fn weights_set_the_mix() {
    let mut s = spec(WorkloadKind::Kv);
    (s.read_weight, s.write_weight, s.cas_weight) = (3, 1, 0);
    let ops = take(s.clone(), 11, 4000);
    let reads = ops.iter().filter(|op| op.f == "read").count();
    assert!((2800..3200).contains(&reads), "{reads}");
    assert!(ops.iter().all(|op| op.f != "cas"));

    (s.read_weight, s.write_weight, s.cas_weight) = (0, 0, 0);
    let ops = take(s, 11, 300);
    assert!(ops.iter().any(|op| op.f == "read") && ops.iter().any(|op| op.f == "write"));
}

#[test]
fn kv_spreads_over_its_keys_and_reads_each_at_the_end() {
    let mut s = spec(WorkloadKind::Kv);
    s.keys = 5;
    let ops = take(s.clone(), 1, 1000);
    let keys: HashSet<String> = ops.iter().filter_map(|op| op.key.clone()).collect();
    assert_eq!(keys.len(), 5);
    let finals = Generator::new(s, 1, 1).final_reads();
    let final_keys: Vec<String> = finals.iter().filter_map(|op| op.key.clone()).collect();
    assert_eq!(final_keys, ["k0", "k1", "k2", "k3", "k4"]);
    assert!(finals.iter().all(|op| op.f == "read" && op.value.is_null()));
}

#[test]
fn zipfian_kv_prefers_the_first_key() {
    let mut s = spec(WorkloadKind::Kv);
    s.key_distribution = KeyDistribution::Zipfian { exponent: 1.2 };
    let ops = take(s, 5, 2000);
    let k0 = ops
        .iter()
        .filter(|op| op.key.as_deref() == Some("k0"))
        .count();
    let k9 = ops
        .iter()
        .filter(|op| op.key.as_deref() == Some("k9"))
        .count();
    assert!(k0 > 5 * k9, "k0 {k0}, k9 {k9}");
}

#[test]
fn append_appends_numbers_unique_per_key_and_reads() {
    let ops = take(spec(WorkloadKind::Append), 2, 500);
    let fs: HashSet<&str> = ops.iter().map(|op| op.f.as_str()).collect();
    assert_eq!(fs, HashSet::from(["read", "append"]));
    // Each key's elements are 1, 2, 3, ... in the order they are invoked.
    let mut last: HashMap<Option<String>, u64> = HashMap::new();
    for op in ops.iter().filter(|op| op.f == "append") {
        let previous = last.entry(op.key.clone()).or_default();
        assert_eq!(op.value, json!(*previous + 1), "{op:?}");
        *previous += 1;
    }
}

/// `n` operations of a single worker and the generator's final reads' keys.
fn take_with_finals(spec: WorkloadSpec, seed: u64, n: usize) -> (Vec<Invocation>, Vec<String>) {
    let (ops, finals) = take_from_workers(spec, 1, seed, n);
    (ops.into_iter().map(|(_, op)| op).collect(), finals)
}

/// Appends or adds per key, in the order the keys first appear.
fn writes_per_key(ops: &[Invocation]) -> Vec<(String, u64)> {
    let mut counts: Vec<(String, u64)> = Vec::new();
    for op in ops.iter().filter(|op| op.f == "append" || op.f == "add") {
        let key = op.key.clone().unwrap_or_default();
        match counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => counts.push((key, 1)),
        }
    }
    counts
}

#[test]
fn append_moves_a_slot_to_a_fresh_key_after_max_writes_per_key() {
    let mut s = spec(WorkloadKind::Append);
    (s.keys, s.max_writes_per_key) = (3, Some(5));
    let (ops, finals) = take_with_finals(s, 4, 600);
    let counts = writes_per_key(&ops);
    // About 300 appends over keys of 5 each: k0..k2 first, then fresh keys k3, k4, ...
    assert!(counts.len() >= 55, "{counts:?}");
    assert!(counts.iter().all(|(_, n)| *n <= 5), "{counts:?}");
    // Every key but those of the three slots still in use got its five.
    assert!(
        counts.iter().filter(|(_, n)| *n < 5).count() <= 3,
        "{counts:?}"
    );
    // Reads go to the keys in use only: never to a key that is full.
    let mut full: HashSet<String> = HashSet::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for op in &ops {
        let key = op.key.clone().unwrap_or_default();
        assert!(!full.contains(&key), "{op:?} after its key was retired");
        if op.f == "append" {
            let n = seen.entry(key.clone()).or_default();
            *n += 1;
            if *n == 5 {
                full.insert(key);
            }
        }
    }
    // The final reads name every key, retired ones included, in order.
    let expected: Vec<String> = (0..finals.len()).map(|k| format!("k{k}")).collect();
    assert_eq!(finals, expected);
    assert!(counts.iter().all(|(k, _)| finals.contains(k)));
}

#[test]
fn set_adds_to_one_key_at_a_time_and_reads_every_key_at_the_end() {
    let (ops, finals) = take_with_finals(spec(WorkloadKind::Set), 9, 100);
    assert!(ops.iter().all(|op| op.f == "add" && op.value.is_u64()));
    let counts = writes_per_key(&ops);
    let max = DEFAULT_MAX_WRITES_PER_KEY;
    assert_eq!(
        counts,
        [
            ("s0".into(), max),
            ("s1".into(), max),
            ("s2".into(), max),
            ("s3".into(), 100 - 3 * max)
        ]
    );
    assert_eq!(finals, ["s0", "s1", "s2", "s3"]);
    assert_eq!(ops[0].value, json!(1));
    assert_eq!(ops[max as usize].value, json!(1));
}

#[test]
fn without_a_bound_the_keys_never_change() {
    let mut s = spec(WorkloadKind::Set);
    s.max_writes_per_key = None;
    let (ops, finals) = take_with_finals(s, 9, 500);
    assert_eq!(writes_per_key(&ops), [("s0".into(), 500)]);
    assert_eq!(finals, ["s0"]);
}

#[test]
fn register_and_kv_are_not_bounded() {
    for kind in [WorkloadKind::Register, WorkloadKind::Kv] {
        assert_eq!(spec(kind).max_writes_per_key, None, "{kind}");
    }
    for kind in [WorkloadKind::Append, WorkloadKind::Set] {
        assert_eq!(
            spec(kind).max_writes_per_key,
            Some(DEFAULT_MAX_WRITES_PER_KEY),
            "{kind}"
        );
    }
}

#[test]
fn no_key_is_ever_used_by_more_workers_than_a_group_holds() {
    for kind in [
        WorkloadKind::Register,
        WorkloadKind::Kv,
        WorkloadKind::Append,
    ] {
        let mut s = spec(kind);
        (s.threads_per_key, s.ops_per_key) = (Some(5), Some(100));
        // 23 workers: groups 0-4, 5-9, 10-14, 15-19 and 20-22.
        let (ops, _) = take_from_workers(s, 23, 4, 20_000);
        let per_key = workers_per_key(&ops);
        assert!(per_key.len() > 20, "{kind}: keys never moved on");
        for (key, workers) in &per_key {
            assert!(workers.len() <= 5, "{kind}: {key} used by {workers:?}");
            let groups: HashSet<usize> = workers.iter().map(|w| w / 5).collect();
            assert_eq!(
                groups.len(),
                1,
                "{kind}: {key} shared by groups: {workers:?}"
            );
        }
        // Every group had keys of its own, the short last group too.
        let groups_seen: HashSet<usize> = per_key
            .values()
            .flat_map(|ws| ws.iter().map(|w| w / 5))
            .collect();
        assert_eq!(groups_seen, HashSet::from([0, 1, 2, 3, 4]), "{kind}");
    }
}

#[test]
fn without_groups_every_worker_shares_the_keys() {
    // A spec recorded before groups existed (no threads_per_key): one group of everyone, as
    // runs were then; and a bound above the concurrency is one group too.
    for threads in [None, Some(50)] {
        let mut s = spec(WorkloadKind::Register);
        (s.threads_per_key, s.ops_per_key) = (threads, None);
        let g = Generator::new(s.clone(), 12, 1);
        assert_eq!(g.groups(), 1, "{threads:?}");
        let (ops, finals) = take_from_workers(s, 12, 1, 2000);
        assert_eq!(workers_per_key(&ops)["r0"].len(), 12, "{threads:?}");
        assert_eq!(finals, ["r0"], "{threads:?}");
    }
}

#[test]
fn groups_are_consecutive_workers_and_the_last_may_be_smaller() {
    let mut s = spec(WorkloadKind::Kv);
    (s.keys, s.threads_per_key, s.ops_per_key) = (1, Some(3), Some(0));
    let g = Generator::new(s.clone(), 7, 9);
    assert_eq!(g.groups(), 3);
    let (ops, finals) = take_from_workers(s, 7, 9, 700);
    let mut groups: Vec<Vec<usize>> = workers_per_key(&ops)
        .into_values()
        .map(|ws| {
            let mut ws: Vec<usize> = ws.into_iter().collect();
            ws.sort_unstable();
            ws
        })
        .collect();
    groups.sort();
    assert_eq!(groups, [vec![0, 1, 2], vec![3, 4, 5], vec![6]]);
    assert_eq!(finals, ["k0", "k1", "k2"]);
}

#[test]
fn a_slot_moves_to_a_fresh_key_after_exactly_ops_per_key_operations() {
    // One key per group: each key gets exactly N operations, the last of each group fewer.
    let mut s = spec(WorkloadKind::Register);
    (s.threads_per_key, s.ops_per_key) = (Some(2), Some(7));
    let (ops, finals) = take_from_workers(s, 4, 2, 1000);
    // Fresh keys are never-used keys: once a group left a key it never comes back to it.
    for group in [0, 1] {
        let keys: Vec<&str> = ops
            .iter()
            .filter(|(w, _)| w / 2 == group)
            .filter_map(|(_, op)| op.key.as_deref())
            .collect();
        let mut runs: Vec<&str> = keys.clone();
        runs.dedup();
        let distinct: HashSet<&&str> = runs.iter().collect();
        assert_eq!(
            distinct.len(),
            runs.len(),
            "group {group} went back: {runs:?}"
        );
    }
    let ops: Vec<Invocation> = ops.into_iter().map(|(_, op)| op).collect();
    let counts = ops_per_key(&ops);
    assert!(counts.len() > 100, "{counts:?}");
    assert!(counts.iter().all(|(_, n)| *n <= 7), "{counts:?}");
    assert!(
        counts.iter().filter(|(_, n)| *n < 7).count() <= 2,
        "{counts:?}"
    );
    // Reads count: keys move on after N operations whatever their kind.
    assert!(ops.iter().any(|op| op.f == "read"));
    // Every key used is read at the end, in order of number, and besides them at most the
    // fresh key each group's slot holds now.
    let number = |k: &String| k[1..].parse::<usize>().unwrap_or(usize::MAX);
    let used: HashSet<&String> = counts.iter().map(|(k, _)| k).collect();
    assert!(used.iter().all(|k| finals.contains(k)), "{finals:?}");
    assert!(
        finals.iter().filter(|k| !used.contains(k)).count() <= 2,
        "{finals:?}"
    );
    assert!(
        finals.windows(2).all(|w| number(&w[0]) < number(&w[1])),
        "{finals:?}"
    );

    // kv: every slot counts its own key's operations.
    let mut s = spec(WorkloadKind::Kv);
    (s.keys, s.ops_per_key) = (3, Some(10));
    let counts = ops_per_key(&take(s, 5, 3000));
    assert!(counts.len() >= 298, "{counts:?}");
    assert!(counts.iter().all(|(_, n)| *n <= 10), "{counts:?}");
    assert!(
        counts.iter().filter(|(_, n)| *n < 10).count() <= 3,
        "{counts:?}"
    );
}

#[test]
fn an_append_key_moves_on_at_whichever_bound_comes_first() {
    // ops_per_key first: 10 operations, reads included.
    let mut s = spec(WorkloadKind::Append);
    (s.keys, s.ops_per_key, s.max_writes_per_key) = (1, Some(10), Some(32));
    let counts = ops_per_key(&take(s, 6, 1000));
    assert_eq!(counts.len(), 100, "{counts:?}");
    assert!(counts.iter().all(|(_, n)| *n == 10), "{counts:?}");
    // max_writes_per_key first: 5 appends, however many reads went to the key.
    let mut s = spec(WorkloadKind::Append);
    (s.keys, s.ops_per_key, s.max_writes_per_key) = (1, Some(1000), Some(5));
    let ops = take(s, 6, 1000);
    let writes = writes_per_key(&ops);
    assert!(writes.len() > 50, "{writes:?}");
    assert!(writes.iter().all(|(_, n)| *n == 5) || writes.last().is_some_and(|(_, n)| *n < 5));
    assert!(
        writes.iter().rev().skip(1).all(|(_, n)| *n == 5),
        "{writes:?}"
    );
}

#[test]
fn ops_per_key_zero_keeps_one_key_for_the_whole_run() {
    let mut s = spec(WorkloadKind::Register);
    (s.threads_per_key, s.ops_per_key) = (Some(50), Some(0));
    let (ops, finals) = take_from_workers(s, 50, 3, 10_000);
    assert!(ops.iter().all(|(_, op)| op.key.as_deref() == Some("r0")));
    assert_eq!(workers_per_key(&ops)["r0"].len(), 50);
    assert_eq!(finals, ["r0"]);
}

#[test]
fn values_are_unique_across_the_run_and_elements_count_per_key() {
    for kind in [WorkloadKind::Register, WorkloadKind::Kv] {
        let mut s = spec(kind);
        (s.threads_per_key, s.ops_per_key) = (Some(4), Some(30));
        let (ops, _) = take_from_workers(s, 17, 8, 20_000);
        let ops: Vec<Invocation> = ops.into_iter().map(|(_, op)| op).collect();
        let values: Vec<Value> = introduced(&ops).into_iter().map(|(_, v)| v).collect();
        let distinct: HashSet<String> = values.iter().map(Value::to_string).collect();
        assert_eq!(distinct.len(), values.len(), "{kind}");
    }
    let mut s = spec(WorkloadKind::Append);
    (s.threads_per_key, s.ops_per_key) = (Some(4), Some(30));
    let (ops, _) = take_from_workers(s, 17, 8, 20_000);
    let mut last: HashMap<Option<String>, u64> = HashMap::new();
    for (_, op) in ops.iter().filter(|(_, op)| op.f == "append") {
        let previous = last.entry(op.key.clone()).or_default();
        assert_eq!(op.value, json!(*previous + 1), "{op:?}");
        *previous += 1;
    }
}

#[test]
fn a_groups_operations_do_not_depend_on_how_the_other_groups_interleave() {
    let mut s = spec(WorkloadKind::Kv);
    (s.threads_per_key, s.ops_per_key) = (Some(2), Some(5));
    let per_worker = |order: &[usize]| {
        let mut g = Generator::new(s.clone(), 4, 11);
        let mut ops: Vec<Vec<Invocation>> = vec![Vec::new(); 4];
        for &w in order {
            ops[w].push(g.next_invocation(w));
        }
        (ops, g.final_reads())
    };
    // Groups {0, 1} and {2, 3}: round robin, then group 1 first; each group's own order is the
    // same in both.
    let round_robin: Vec<usize> = (0..400).map(|i| i % 4).collect();
    let mut group_1_first: Vec<usize> = round_robin.iter().copied().filter(|w| *w >= 2).collect();
    group_1_first.extend(round_robin.iter().copied().filter(|w| *w < 2));
    let (a, finals_a) = per_worker(&round_robin);
    let (b, finals_b) = per_worker(&group_1_first);
    assert_eq!(a, b);
    assert_eq!(finals_a, finals_b);
    // And the same seed gives the same operations per worker.
    assert_eq!(per_worker(&round_robin).0, a);
}

#[test]
fn the_default_groups_bound_fifty_clients_to_ten_per_key() {
    for kind in [
        WorkloadKind::Register,
        WorkloadKind::Kv,
        WorkloadKind::Append,
    ] {
        let s = spec(kind);
        assert_eq!(s.threads_per_key, Some(DEFAULT_THREADS_PER_KEY));
        assert_eq!(s.ops_per_key, Some(DEFAULT_OPS_PER_KEY));
        assert_eq!(Generator::new(s.clone(), 50, 1).groups(), 5, "{kind}");
        let (ops, _) = take_from_workers(s, 50, 1, 30_000);
        assert!(
            workers_per_key(&ops).values().all(|ws| ws.len() <= 10),
            "{kind}"
        );
    }
    // set ignores groups: one list at a time for everyone.
    let s = spec(WorkloadKind::Set);
    assert_eq!((s.threads_per_key, s.ops_per_key), (None, None));
    assert_eq!(Generator::new(s, 50, 1).groups(), 1);
}

fn any_spec() -> impl Strategy<Value = WorkloadSpec> {
    (
        prop::sample::select(WorkloadKind::ALL.to_vec()),
        1usize..20,
        prop_oneof![
            Just(KeyDistribution::Uniform),
            (0.0f64..3.0).prop_map(|exponent| KeyDistribution::Zipfian { exponent }),
        ],
        prop::option::of(1u64..40),
        prop::option::of(1usize..8),
        prop::option::of(0u64..60),
        (0u32..5, 0u32..5, 0u32..5),
    )
        .prop_map(
            |(kind, keys, key_distribution, max_writes_per_key, threads, ops, (r, w, c))| {
                WorkloadSpec {
                    kind,
                    keys,
                    key_distribution,
                    max_writes_per_key,
                    threads_per_key: threads,
                    ops_per_key: ops,
                    read_weight: r,
                    write_weight: w,
                    cas_weight: c,
                }
            },
        )
}

proptest! {
    #[test]
    fn same_seed_same_ops_and_values_never_repeat(
        spec in any_spec(),
        workers in 1usize..20,
        seed: u64,
    ) {
        let (a, finals) = take_from_workers(spec.clone(), workers, seed, 300);
        let (b, _) = take_from_workers(spec.clone(), workers, seed, 300);
        prop_assert_eq!(&a, &b);
        let ops: Vec<Invocation> = a.iter().map(|(_, op)| op.clone()).collect();
        let values: Vec<(Option<String>, String)> =
            introduced(&ops).into_iter().map(|(k, v)| (k, v.to_string())).collect();
        let distinct: HashSet<&(Option<String>, String)> = values.iter().collect();
        prop_assert_eq!(distinct.len(), values.len());
        // Write values (not elements, which count per key) are unique across keys too.
        let written: Vec<String> = ops
            .iter()
            .filter_map(|op| match op.f.as_str() {
                "write" => Some(op.value.to_string()),
                "cas" => Some(op.value[1].to_string()),
                _ => None,
            })
            .collect();
        prop_assert_eq!(written.iter().collect::<HashSet<_>>().len(), written.len());
        prop_assert!(ops.iter().all(|op| op.key.as_ref().is_some_and(|k| finals.contains(k))));
        let mut sorted_finals = finals.clone();
        sorted_finals.dedup();
        prop_assert_eq!(sorted_finals.len(), finals.len());
        if let Some(max) = spec.max_writes_per_key.filter(|_| spec.kind.grows_lists()) {
            prop_assert!(writes_per_key(&ops).iter().all(|(_, n)| *n <= max));
        }
        if let Some(max) = spec.ops_per_key.filter(|n| *n > 0 && spec.kind.groups_clients()) {
            prop_assert!(ops_per_key(&ops).iter().all(|(_, n)| *n <= max));
        }
        if let Some(t) = spec.threads_per_key.filter(|_| spec.kind.groups_clients()) {
            prop_assert!(workers_per_key(&a).values().all(|ws| ws.len() <= t));
        }
    }
}
