use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn spec(kind: WorkloadKind) -> WorkloadSpec {
    WorkloadSpec::defaults(kind)
}

fn take(spec: WorkloadSpec, seed: u64, n: usize) -> Vec<Invocation> {
    let mut g = Generator::new(spec, seed);
    (0..n).map(|_| g.next_invocation()).collect()
}

/// Every value a write-like op introduces (write values, cas targets, appended and added
/// elements); none of them may repeat.
fn introduced(ops: &[Invocation]) -> Vec<Value> {
    ops.iter()
        .filter_map(|op| match op.f.as_str() {
            "write" | "append" | "add" => Some(op.value.clone()),
            "cas" => Some(op.value[1].clone()),
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
fn append_appends_unique_strings_and_reads() {
    let ops = take(spec(WorkloadKind::Append), 2, 500);
    let fs: HashSet<&str> = ops.iter().map(|op| op.f.as_str()).collect();
    assert_eq!(fs, HashSet::from(["read", "append"]));
    for op in ops.iter().filter(|op| op.f == "append") {
        let s = op.value.as_str().unwrap_or_default();
        assert!(s.starts_with('e') && s[1..].parse::<u64>().is_ok(), "{s}");
    }
}

#[test]
fn set_only_adds_to_one_key_and_reads_it_at_the_end() {
    let ops = take(spec(WorkloadKind::Set), 9, 100);
    assert!(
        ops.iter()
            .all(|op| op.f == "add" && op.key.as_deref() == Some("s") && op.value.is_u64())
    );
    assert_eq!(introduced(&ops).first(), Some(&json!(1)));
    let finals = Generator::new(spec(WorkloadKind::Set), 9).final_reads();
    assert_eq!(finals.len(), 1);
    assert_eq!(finals[0].key.as_deref(), Some("s"));
}

fn any_spec() -> impl Strategy<Value = WorkloadSpec> {
    (
        prop::sample::select(WorkloadKind::ALL.to_vec()),
        1usize..20,
        prop_oneof![
            Just(KeyDistribution::Uniform),
            (0.0f64..3.0).prop_map(|exponent| KeyDistribution::Zipfian { exponent }),
        ],
        0u32..5,
        0u32..5,
        0u32..5,
    )
        .prop_map(|(kind, keys, key_distribution, r, w, c)| WorkloadSpec {
            kind,
            keys,
            key_distribution,
            read_weight: r,
            write_weight: w,
            cas_weight: c,
        })
}

proptest! {
    #[test]
    fn same_seed_same_ops_and_values_never_repeat(spec in any_spec(), seed: u64) {
        let a = take(spec.clone(), seed, 300);
        let b = take(spec.clone(), seed, 300);
        prop_assert_eq!(&a, &b);
        let values = introduced(&a);
        let distinct: HashSet<String> = values.iter().map(|v| v.to_string()).collect();
        prop_assert_eq!(distinct.len(), values.len());
        let keys: HashSet<Option<String>> =
            Generator::new(spec, seed).final_reads().into_iter().map(|op| op.key).collect();
        prop_assert!(a.iter().all(|op| keys.contains(&op.key)));
    }
}
