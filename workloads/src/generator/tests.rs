use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::workload::DEFAULT_MAX_WRITES_PER_KEY;

fn spec(kind: WorkloadKind) -> WorkloadSpec {
    WorkloadSpec::defaults(kind)
}

fn take(spec: WorkloadSpec, seed: u64, n: usize) -> Vec<Invocation> {
    let mut g = Generator::new(spec, seed);
    (0..n).map(|_| g.next_invocation()).collect()
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
fn register_uses_key_r_and_mixes_read_write_cas() {
    let ops = take(spec(WorkloadKind::Register), 7, 300);
    assert!(ops.iter().all(|op| op.key.as_deref() == Some("r")));
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
    let finals = Generator::new(spec(WorkloadKind::Register), 7).final_reads();
    assert_eq!(
        finals,
        vec![Invocation {
            f: "read".into(),
            key: Some("r".into()),
            value: Value::Null
        }]
    );
}

#[test]
fn cas_compares_with_a_recent_value_of_the_same_key() {
    let ops = take(spec(WorkloadKind::Kv), 3, 2000);
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
    let finals = Generator::new(s, 1).final_reads();
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

/// Generates `n` operations and returns them with the final reads of the same generator.
fn take_with_finals(spec: WorkloadSpec, seed: u64, n: usize) -> (Vec<Invocation>, Vec<String>) {
    let mut g = Generator::new(spec, seed);
    let ops = (0..n).map(|_| g.next_invocation()).collect();
    let finals = g
        .final_reads()
        .into_iter()
        .filter_map(|op| op.key)
        .collect();
    (ops, finals)
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

fn any_spec() -> impl Strategy<Value = WorkloadSpec> {
    (
        prop::sample::select(WorkloadKind::ALL.to_vec()),
        1usize..20,
        prop_oneof![
            Just(KeyDistribution::Uniform),
            (0.0f64..3.0).prop_map(|exponent| KeyDistribution::Zipfian { exponent }),
        ],
        prop::option::of(1u64..40),
        0u32..5,
        0u32..5,
        0u32..5,
    )
        .prop_map(
            |(kind, keys, key_distribution, max_writes_per_key, r, w, c)| WorkloadSpec {
                kind,
                keys,
                key_distribution,
                max_writes_per_key,
                read_weight: r,
                write_weight: w,
                cas_weight: c,
            },
        )
}

proptest! {
    #[test]
    fn same_seed_same_ops_and_values_never_repeat_in_a_key(spec in any_spec(), seed: u64) {
        let (a, finals) = take_with_finals(spec.clone(), seed, 300);
        let b = take(spec.clone(), seed, 300);
        prop_assert_eq!(&a, &b);
        let values: Vec<(Option<String>, String)> =
            introduced(&a).into_iter().map(|(k, v)| (k, v.to_string())).collect();
        let distinct: HashSet<&(Option<String>, String)> = values.iter().collect();
        prop_assert_eq!(distinct.len(), values.len());
        prop_assert!(a.iter().all(|op| op.key.as_ref().is_some_and(|k| finals.contains(k))));
        if let Some(max) = spec.max_writes_per_key {
            prop_assert!(writes_per_key(&a).iter().all(|(_, n)| *n <= max));
        }
    }
}
