//! kv-append on histories of faultline's append workload, where values are lists: what the
//! model must catch (lost appends, stale reads, duplicated, reordered or invented elements) and
//! allow (concurrent appends in either order, an `info` append applied or not). Every case is
//! checked in both forms a history may take: an append's `ok` carrying its element (histories
//! recorded now) and carrying the list kvnode answered (histories recorded before); the
//! verdicts must not differ.

use faultline_checker::history::read_jsonl;
use faultline_checker::{Budget, ModelKind, Verdict, check_events};
use serde_json::{Value, json};

/// One event: process, type, f, key, value. An append's `ok` value is its element here; `run`
/// rewrites it into the list for the old form.
type Step = (u64, &'static str, &'static str, &'static str, Value);

#[derive(Clone, Copy, Debug)]
enum Form {
    /// The append's `ok` carries its element.
    Element,
    /// The append's `ok` carries the list after it, as kvnode answered (older histories).
    List,
}

/// The history as JSON Lines. In the list form an append's `ok` carries the list it would have
/// returned had the appends been applied in the order of their `ok`s, as kvnode's are when no
/// two run at once (the cases below never need more).
fn jsonl(steps: &[Step], form: Form) -> String {
    let mut lists: std::collections::HashMap<&str, Vec<Value>> = Default::default();
    let mut out = String::new();
    for (i, (process, kind, f, key, value)) in steps.iter().enumerate() {
        let value = match (form, *kind, *f) {
            (Form::List, "ok", "append") => {
                let list = lists.entry(key).or_default();
                list.push(value.clone());
                Value::from(list.clone())
            }
            _ => value.clone(),
        };
        let event = json!({
            "index": i, "time": i * 10, "process": process, "type": kind, "f": f,
            "key": key, "value": value,
        });
        out.push_str(&event.to_string());
        out.push('\n');
    }
    out
}

fn verdict(steps: &[Step], form: Form) -> Verdict {
    let events = read_jsonl(jsonl(steps, form).as_bytes()).expect("a valid history");
    check_events(&events, ModelKind::KvAppend, None, Budget::default())
        .expect("checks")
        .verdict
}

/// Checks `steps` in both forms and asserts the verdict.
fn assert_verdict(name: &str, steps: &[Step], expected: Verdict) {
    for form in [Form::Element, Form::List] {
        assert_eq!(verdict(steps, form), expected, "{name} ({form:?})");
    }
}

fn append(p: u64, key: &'static str, element: u64) -> [Step; 2] {
    [
        (p, "invoke", "append", key, json!(element)),
        (p, "ok", "append", key, json!(element)),
    ]
}

fn read(p: u64, key: &'static str, list: Value) -> [Step; 2] {
    [
        (p, "invoke", "read", key, Value::Null),
        (p, "ok", "read", key, list),
    ]
}

/// Appends of 1, 2, 3 to `k`, one after another, then a read returning `list`.
fn three_appends_then_read(list: Value) -> Vec<Step> {
    [
        append(0, "k", 1),
        append(1, "k", 2),
        append(0, "k", 3),
        read(2, "k", list),
    ]
    .concat()
}

#[test]
fn a_read_of_every_acknowledged_append_in_order_is_linearizable() {
    assert_verdict(
        "in order",
        &three_appends_then_read(json!([1, 2, 3])),
        Verdict::Linearizable,
    );
}

#[test]
fn a_missing_acknowledged_append_is_caught() {
    // The last (a stale read, or a lost write when the read is final), the first, the middle.
    for list in [json!([1, 2]), json!([2, 3]), json!([1, 3]), Value::Null] {
        assert_verdict(
            &format!("read {list}"),
            &three_appends_then_read(list),
            Verdict::NotLinearizable,
        );
    }
}

#[test]
fn duplicated_reordered_or_invented_elements_are_caught() {
    for list in [
        json!([1, 2, 3, 3]),
        json!([1, 1, 2, 3]),
        json!([1, 3, 2]),
        json!([3, 2, 1]),
        json!([1, 2, 3, 4]),
    ] {
        assert_verdict(
            &format!("read {list}"),
            &three_appends_then_read(list),
            Verdict::NotLinearizable,
        );
    }
}

#[test]
fn a_read_that_goes_back_in_time_is_caught() {
    // Two reads by one process: the second sees less than the first.
    let steps = [
        append(0, "k", 1),
        append(0, "k", 2),
        read(1, "k", json!([1, 2])),
        read(1, "k", json!([1])),
    ]
    .concat();
    assert_verdict("going back", &steps, Verdict::NotLinearizable);
}

#[test]
fn concurrent_appends_may_land_in_either_order() {
    // The model reads an append's argument only, never what its `ok` carries, so the list form's
    // [1] then [1, 2] does not rule out [2, 1] either (it never did).
    for list in [json!([1, 2]), json!([2, 1])] {
        let steps: Vec<Step> = vec![
            (0, "invoke", "append", "k", json!(1)),
            (1, "invoke", "append", "k", json!(2)),
            (0, "ok", "append", "k", json!(1)),
            (1, "ok", "append", "k", json!(2)),
            (2, "invoke", "read", "k", Value::Null),
            (2, "ok", "read", "k", list.clone()),
        ];
        assert_verdict(&format!("read {list}"), &steps, Verdict::Linearizable);
    }
}

#[test]
fn an_indeterminate_append_may_or_may_not_have_happened() {
    for list in [json!([1]), json!([1, 2])] {
        let steps = [
            append(0, "k", 1).to_vec(),
            vec![
                (1, "invoke", "append", "k", json!(2)),
                (1, "info", "append", "k", json!(2)),
            ],
            read(2, "k", list.clone()).to_vec(),
        ]
        .concat();
        assert_verdict(&format!("read {list}"), &steps, Verdict::Linearizable);
    }
}

#[test]
fn keys_are_checked_apart_and_a_fresh_key_starts_empty() {
    // After rotation the workload appends 1, 2, ... again under a new key.
    let steps = [
        append(0, "k0", 1),
        append(0, "k0", 2),
        append(1, "k1", 1),
        read(2, "k0", json!([1, 2])),
        read(2, "k1", json!([1])),
        read(2, "k2", Value::Null),
    ]
    .concat();
    assert_verdict("rotated", &steps, Verdict::Linearizable);
    let mut wrong = steps.clone();
    wrong.push((3, "invoke", "read", "k1", Value::Null));
    wrong.push((3, "ok", "read", "k1", json!([1, 2])));
    assert_verdict("k0's element in k1", &wrong, Verdict::NotLinearizable);
}
