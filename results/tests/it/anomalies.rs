//! What results.json and the report say about each anomaly: the read, the node that answered
//! it, when, the faults in force, the write it missed and the node that acknowledged that write.
//!
//! The assertions read results.json as JSON, the form users and tools see.

use faultline_checker::history::{Event, EventType, Process};
use faultline_checker::{Budget, ModelKind, check_events};
use faultline_results::summarise;
use serde_json::{Value, json};

use EventType::{Info, Invoke, Ok};

use crate::render_page;

/// A history written out event by event; each event's index is its position and its time that
/// index in tenths of a second, so index 59 happens 5.9 s into the run.
#[derive(Default)]
struct History(Vec<Event>);

impl History {
    fn push(&mut self, process: Option<u64>, kind: EventType, f: &str, value: Value) -> &mut Event {
        let i = self.0.len() as u64;
        self.0.push(Event {
            index: i,
            time: i * 100_000_000,
            process: process.map_or(Process::Nemesis, Process::Client),
            kind,
            f: f.to_owned(),
            key: process.map(|_| "r".to_owned()),
            value,
            error: None,
            node: None,
        });
        let last = self.0.len() - 1;
        &mut self.0[last]
    }

    fn client(&mut self, p: u64, kind: EventType, f: &str, value: Value) {
        self.push(Some(p), kind, f, value);
    }

    /// A completion answered by `node` (as the history names it).
    fn answered(&mut self, p: u64, f: &str, value: Value, node: &str) {
        self.push(Some(p), Ok, f, value).node = Some(node.to_owned());
    }

    fn nemesis(&mut self, kind: EventType, f: &str, value: Value) {
        self.push(None, kind, f, value);
    }

    fn at(&self) -> usize {
        self.0.len()
    }
}

fn results_json(events: &[Event], model: Option<ModelKind>) -> Value {
    let check = model.map(|m| check_events(events, m, None, Budget::default()).expect("fits"));
    serde_json::to_value(summarise(events, check, false)).expect("serialises")
}

fn report(events: &[Event]) -> String {
    render_page(events, Some(ModelKind::CasRegister), "anomalies", 7)
}

/// Issue 10, item 5: the checker's longest linearization ends with write 23, invoked at index
/// 61, after the read (invoked at 59) began: concurrent with it, so not a write the read
/// missed. The write it missed is 22, which completed at index 52.
///
/// Writes 21 and 22 overlap; a read at 55 sees 22, so 22 took effect after 21; the read at 59
/// then returns 21. No single write makes it stale by itself (21 completed after 22 was
/// invoked), so only the checker finds it.
#[test]
fn a_non_linearizable_read_should_have_seen_the_latest_write_completed_before_it() {
    let mut h = History::default();
    // Sequential writes of 101..=124 fill indices 0..48.
    for v in 101..=124 {
        h.client(9, Invoke, "write", json!(v));
        h.client(9, Ok, "write", json!(v));
    }
    assert_eq!(h.at(), 48);
    h.client(0, Invoke, "write", json!(21)); // 48
    h.client(2, Invoke, "read", Value::Null); // 49
    h.client(1, Invoke, "write", json!(22)); // 50
    h.client(2, Ok, "read", json!(124)); // 51
    h.client(1, Ok, "write", json!(22)); // 52: the write the read missed
    h.client(0, Ok, "write", json!(21)); // 53
    h.client(3, Invoke, "read", Value::Null); // 54
    h.client(3, Ok, "read", json!(22)); // 55: 22 took effect after 21
    h.client(4, Invoke, "read", Value::Null); // 56
    h.client(4, Ok, "read", json!(22)); // 57
    h.client(7, Invoke, "read", Value::Null); // 58
    h.client(5, Invoke, "read", Value::Null); // 59: the read
    h.client(7, Ok, "read", json!(22)); // 60
    h.client(6, Invoke, "write", json!(23)); // 61: concurrent with the read
    h.client(6, Ok, "write", json!(23)); // 62
    h.client(5, Ok, "read", json!(21)); // 63
    let r = results_json(&h.0, Some(ModelKind::CasRegister));
    assert_eq!(r["verdict"], "invalid");
    let anomalies = r["anomalies"].as_array().expect("anomalies");
    let read = anomalies
        .iter()
        .find(|a| a["read_index"] == 59)
        .unwrap_or_else(|| panic!("no anomaly for the read at 59: {anomalies:#?}"));
    assert_eq!(read["kind"], "non-linearizable-read", "{read:#}");
    assert_eq!(read["read_value"], 21, "{read:#}");
    assert_eq!(
        (&read["missing_value"], &read["write_index"]),
        (&json!(22), &json!(50)),
        "should have seen write 22 (invoked at 50, completed at 52), not the concurrent 23: {read:#}"
    );
}

/// Issue 10, item 10: a read served by the old leader, cut off by a partition whose clock was
/// set back, returns a value the new leader had already overwritten.
fn stale_read_under_a_partition(node_of: impl Fn(u64) -> String) -> History {
    let partition = json!({"fault": "partition", "targets": [1, 2, 3], "leader": 1,
        "grudge": {"1": [2, 3], "2": [1], "3": [1]}});
    let clock = json!({"fault": "clock", "targets": [1], "leader": 1,
        "clock": {"mode": "bump", "offset_ms": -3120}});
    let kill = json!({"fault": "kill", "targets": [3], "leader": 1});
    let mut h = History::default();
    h.client(0, Invoke, "write", json!(1)); // 0
    h.answered(0, "write", json!(1), &node_of(1)); // 1
    h.nemesis(Invoke, "start", partition.clone()); // 2
    h.nemesis(Info, "start", partition.clone()); // 3
    h.nemesis(Invoke, "start", clock.clone()); // 4
    h.nemesis(Info, "start", clock.clone()); // 5
    h.client(1, Invoke, "write", json!(2)); // 6
    h.answered(1, "write", json!(2), &node_of(2)); // 7
    h.client(2, Invoke, "read", Value::Null); // 8: the stale read, 0.8 s in
    h.answered(2, "read", json!(1), &node_of(1)); // 9
    h.nemesis(Invoke, "stop", clock.clone()); // 10
    h.nemesis(Info, "stop", clock); // 11
    h.nemesis(Invoke, "stop", partition.clone()); // 12
    h.nemesis(Info, "stop", partition); // 13
    // A fault that was not in force during the read.
    h.nemesis(Invoke, "start", kill.clone());
    h.nemesis(Info, "start", kill.clone());
    h.nemesis(Invoke, "stop", kill.clone());
    h.nemesis(Info, "stop", kill);
    h
}

#[test]
fn every_anomaly_names_its_node_time_faults_and_the_write_it_missed_with_its_node() {
    let h = stale_read_under_a_partition(|id| format!("n{id}"));
    let r = results_json(&h.0, Some(ModelKind::CasRegister));
    let a = &r["anomalies"][0];
    assert_eq!(
        (&a["kind"], &a["read_index"], &a["write_index"]),
        (&json!("stale-read"), &json!(8), &json!(6)),
        "{a:#}"
    );
    assert_eq!(a["node"], "n1", "the node that answered the read: {a:#}");
    assert_eq!(a["read_at_s"], 0.8, "seconds into the run: {a:#}");
    assert_eq!(
        a["write_node"], "n2",
        "the node that acknowledged write 2: {a:#}"
    );
    assert_eq!(a["write_acknowledged_at_s"], 0.7, "{a:#}");
    assert_eq!(
        a["faults"],
        json!([
            "partition n1 | n2 n3 (leader n1)",
            "clock n1 bump -3120 ms (leader n1)"
        ]),
        "the faults in force while the read ran, with their shapes; not the later kill: {a:#}"
    );

    // The same in a sentence, as `faultline run` prints the first anomaly.
    let first = summarise(&h.0, None, false).anomalies[0].to_string();
    assert_eq!(
        first,
        "stale-read of key \"r\": n1 answered 1 at 0.80 s, should have seen 2 (acknowledged by \
         n2 at 0.70 s); faults in force: partition n1 | n2 n3 (leader n1), clock n1 bump -3120 \
         ms (leader n1)"
    );

    let html = report(&h.0);
    let row = html
        .split("<tr>")
        .find(|row| row.contains("<td>stale-read</td>"))
        .unwrap_or_else(|| panic!("no stale-read row in the report"));
    for shown in [
        "n1",
        "0.80 s",
        "partition n1 | n2 n3 (leader n1)",
        "clock n1 bump -3120 ms (leader n1)",
        "acknowledged by n2",
    ] {
        assert!(
            row.contains(shown),
            "the anomaly row lacks {shown:?}: {row}"
        );
    }
}

/// Histories recorded before nodes were named `nN` hold the address the client talked to;
/// faultline's clusters put node N on 127.0.0.(10+N), so those read as `nN` too.
#[test]
fn nodes_are_named_n_and_their_id_everywhere_also_in_histories_that_recorded_addresses() {
    let h = stale_read_under_a_partition(|id| format!("127.0.0.{}:4{id}001", 10 + id));
    let r = results_json(&h.0, Some(ModelKind::CasRegister));
    assert_eq!(
        (&r["anomalies"][0]["node"], &r["anomalies"][0]["write_node"]),
        (&json!("n1"), &json!("n2"))
    );
    let partition = &r["faults"][0];
    assert_eq!(partition["targets"], json!(["n1", "n2", "n3"]));
    assert_eq!(partition["leader"], "n1");
    assert_eq!(partition["cut_off_from_leader"], json!(["n2", "n3"]));
    assert_eq!(partition["shape"], "n1 | n2 n3");
    assert_eq!(r["faults"][1]["shape"], "bump -3120 ms");
}
