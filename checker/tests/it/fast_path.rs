//! The fast path on the classic anomalies (stale read, lost write, cas branch, read of an
//! unwritten value, lost append, non-prefix reads), each beside a linearizable neighbour that
//! differs in one overlap; how it explains a failure when the search cannot; and a long history
//! with fifty clients always in flight, which only the fast path decides.

use faultline_checker::history::{Event, EventType, read_jsonl};
use faultline_checker::{Budget, CheckResult, Method, ModelKind, Verdict, check_events_with};
use serde_json::{Value, json};

use crate::support::schedule::Schedule;
use crate::support::unique::{UniqueObject, UniqueSimulation, simulate_unique};

/// One event: process, type, f, value (one key, "k"). Indices are positions in the list.
type Step = (u64, &'static str, &'static str, Value);

fn events(steps: &[Step]) -> Vec<Event> {
    let text: String = steps
        .iter()
        .enumerate()
        .map(|(i, (process, kind, f, value))| {
            let event = json!({
                "index": i, "time": i * 10, "process": process, "type": kind, "f": f,
                "key": "k", "value": value,
            });
            format!("{event}\n")
        })
        .collect();
    read_jsonl(text.as_bytes()).expect("a valid history")
}

/// Checks with the fast path, which must decide, and with the search, which must agree.
fn check(steps: &[Step], model: ModelKind, budget: Budget) -> CheckResult {
    let events = events(steps);
    let result = check_events_with(&events, model, None, budget, Method::Auto).expect("checks");
    assert_eq!(result.decided.fast, 1, "the fast path decides {steps:?}");
    let search = check_events_with(&events, model, None, budget, Method::Search).expect("checks");
    assert_eq!(
        search.verdict, result.verdict,
        "the search agrees on {steps:?}"
    );
    result
}

/// Asserts `steps` is not linearizable and that the explanation blames the op invoked at
/// `blamed`; and that `neighbour` is linearizable.
fn assert_caught(name: &str, model: ModelKind, steps: &[Step], blamed: u64, neighbour: &[Step]) {
    let result = check(steps, model, Budget::default());
    assert_eq!(result.verdict, Verdict::NotLinearizable, "{name}");
    let explanation = result.explanation.expect("explained");
    assert_eq!(explanation.op.invoke_index, blamed, "{name}: {explanation}");
    let result = check(neighbour, model, Budget::default());
    assert_eq!(result.verdict, Verdict::Linearizable, "{name}'s neighbour");
}

fn op(p: u64, f: &'static str, input: Value, output: Value) -> [Step; 2] {
    [(p, "invoke", f, input), (p, "ok", f, output)]
}

fn read(p: u64, value: Value) -> [Step; 2] {
    op(p, "read", Value::Null, value)
}

fn write(p: u64, value: Value) -> [Step; 2] {
    op(p, "write", value.clone(), value)
}

fn cas(p: u64, from: i64, to: i64) -> [Step; 2] {
    op(p, "cas", json!([from, to]), json!([from, to]))
}

fn append(p: u64, element: i64) -> [Step; 2] {
    op(p, "append", json!(element), json!(element))
}

fn seq(parts: &[[Step; 2]]) -> Vec<Step> {
    parts.iter().flatten().cloned().collect()
}

#[test]
fn stale_read() {
    // The read of 1 starts after the write of 2 finished.
    let stale = seq(&[write(0, json!(1)), write(0, json!(2)), read(1, json!(1))]);
    // The read overlaps the write of 2: it may come first.
    let [w, w_ok] = write(0, json!(2));
    let [r, r_ok] = read(1, json!(1));
    let overlapping = [seq(&[write(0, json!(1))]), vec![w, r, r_ok, w_ok]].concat();
    assert_caught(
        "stale read",
        ModelKind::CasRegister,
        &stale,
        4,
        &overlapping,
    );
}

#[test]
fn lost_write() {
    // The write of 2 was acknowledged, yet a read after it sees 1, and then 3 is written.
    let lost = seq(&[
        write(0, json!(1)),
        write(1, json!(2)),
        read(2, json!(1)),
        write(0, json!(3)),
        read(2, json!(3)),
    ]);
    // The same with the write of 2 never acknowledged (info): it may never have happened.
    let mut unacknowledged = lost.clone();
    unacknowledged[3].1 = "info";
    assert_caught("lost write", ModelKind::Register, &lost, 4, &unacknowledged);
}

#[test]
fn cas_branch() {
    // Two compare-and-sets from 1 both succeeded.
    let branch = seq(&[write(0, json!(1)), cas(1, 1, 2), cas(2, 1, 3)]);
    let chain = seq(&[write(0, json!(1)), cas(1, 1, 2), cas(2, 2, 3)]);
    assert_caught("cas branch", ModelKind::CasRegister, &branch, 4, &chain);
}

#[test]
fn read_of_an_unwritten_value() {
    let invented = seq(&[write(0, json!(1)), read(1, json!(7))]);
    // A write of 7 that timed out, concurrent with the read: it happened.
    let mut timed_out = seq(&[write(0, json!(1))]);
    timed_out.push((2, "invoke", "write", json!(7)));
    timed_out.extend(read(1, json!(7)));
    timed_out.push((2, "info", "write", json!(7)));
    assert_caught(
        "unwritten",
        ModelKind::CasRegister,
        &invented,
        2,
        &timed_out,
    );
}

#[test]
fn lost_append() {
    // The append of 1 was acknowledged before the read started, which shows only 2.
    let lost = seq(&[append(0, 1), append(1, 2), read(2, json!([2]))]);
    // With the append of 1 unacknowledged it may never have happened.
    let mut unacknowledged = lost.clone();
    unacknowledged[1].1 = "info";
    assert_caught(
        "lost append",
        ModelKind::KvAppend,
        &lost,
        4,
        &unacknowledged,
    );
}

#[test]
fn non_prefix_reads() {
    let [a1, a1_ok] = append(0, 1);
    let [a2, a2_ok] = append(1, 2);
    let concurrent = vec![a1, a2, a1_ok, a2_ok];
    let diverging = [
        concurrent.clone(),
        seq(&[read(2, json!([1, 2])), read(3, json!([2, 1]))]),
    ]
    .concat();
    let growing = [
        concurrent,
        seq(&[read(2, json!([2, 1])), read(3, json!([2, 1]))]),
    ]
    .concat();
    assert_caught("non-prefix", ModelKind::KvAppend, &diverging, 6, &growing);
}

#[test]
fn without_the_search_the_witness_explains() {
    // A memory budget too small for the search's first configuration: the verdict still comes
    // from the fast path, and the explanation from its witness.
    let stale = seq(&[write(0, json!(1)), write(0, json!(2)), read(1, json!(1))]);
    let budget = Budget {
        timeout: None,
        memory_limit: Some(1),
    };
    let text = check_events_with(
        &events(&stale),
        ModelKind::CasRegister,
        None,
        budget,
        Method::Auto,
    )
    .expect("checks");
    assert_eq!(text.verdict, Verdict::NotLinearizable);
    let explanation = text.explanation.expect("explained by the witness");
    assert_eq!(explanation.op.invoke_index, 4, "{explanation}");
    let reason = explanation.reason.as_deref().expect("a reason in words");
    assert!(reason.contains("the write of 2"), "{reason}");
    assert_eq!(
        explanation.conflict.map(|c| c.invoke_index),
        Some(2),
        "the write of 2 is what the read conflicts with"
    );
    assert_eq!(explanation.state, json!(1), "the state the read needed");
}

/// 200 000 operations on one key from 50 clients always in flight, 1% `info`: every pending
/// write stays concurrent with everything after it, which the search cannot get through.
fn crowded() -> Vec<Event> {
    let sim = UniqueSimulation {
        object: UniqueObject::CasRegister,
        schedule: Schedule {
            clients: 50,
            ops: 200_000,
            keys: vec![],
            info_percent: 1,
            think_percent: 0,
        },
        init: None,
    };
    simulate_unique(&sim, 7)
}

#[test]
fn a_crowded_long_history_is_decided_both_ways() {
    let mut events = crowded();
    let budget = Budget::default();
    let valid = check_events_with(&events, ModelKind::CasRegister, None, budget, Method::Auto)
        .expect("fits");
    assert_eq!(valid.verdict, Verdict::Linearizable, "{:?}", valid.reason);
    assert_eq!(valid.decided.fast, 1);
    // One bad read in the middle: it returns the first value ever written.
    let first = events
        .iter()
        .find(|e| e.f == "write")
        .map(|e| e.value.clone())
        .expect("a write");
    let middle = events.len() / 2;
    let bad = (middle..events.len())
        .find(|&i| {
            events[i].f == "read" && events[i].kind == EventType::Ok && events[i].value != first
        })
        .expect("a read after the middle");
    events[bad].value = first;
    let invalid = check_events_with(&events, ModelKind::CasRegister, None, budget, Method::Auto)
        .expect("fits");
    assert_eq!(invalid.verdict, Verdict::NotLinearizable);
    let explanation = invalid.explanation.expect("explained");
    assert_eq!(
        explanation.op.complete_index,
        Some(events[bad].index),
        "{explanation}"
    );
}

#[test]
fn an_empty_string_appended_to_string_values_is_left_to_the_search() {
    // Porcupine's kv-append values are strings: appending "" leaves the value as it was, so a
    // read of nothing after it is fine. The fast path treats an element as something a read
    // would show, which "" is not here: it must leave such a key to the search.
    let steps = seq(&[op(0, "append", json!(""), json!("")), read(1, Value::Null)]);
    let events = events(&steps);
    for method in [Method::Auto, Method::Search] {
        let result = check_events_with(
            &events,
            ModelKind::KvAppend,
            None,
            Budget::default(),
            method,
        )
        .expect("checks");
        assert_eq!(result.verdict, Verdict::Linearizable, "{}", method.name());
    }
}
