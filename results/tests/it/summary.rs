//! results.json from small, hand-written histories.

use faultline_checker::history::{Event, EventType, Process};
use faultline_results::{ReportInput, Verdict, render_report, summarise};
use serde_json::{Value, json};

/// One row of a hand-written history: client process (`None`: the nemesis), type, f, value,
/// error.
type Row<'a> = (Option<u64>, EventType, &'a str, Value, Option<&'a str>);

/// Builds a history from rows, one millisecond apart.
fn history(rows: &[Row<'_>]) -> Vec<Event> {
    rows.iter()
        .enumerate()
        .map(|(i, (p, kind, f, value, error))| Event {
            index: i as u64,
            time: (i as u64 + 1) * 1_000_000,
            process: p.map_or(Process::Nemesis, Process::Client),
            kind: *kind,
            f: (*f).to_owned(),
            key: p.map(|_| "r".to_owned()),
            value: value.clone(),
            error: error.map(Value::from),
            node: None,
        })
        .collect()
}

use EventType::{Fail, Info, Invoke, Ok};

#[test]
fn counts_availability_faults_and_latency() {
    let fault = json!({"fault": "kill", "targets": [1], "leader": 1});
    let events = history(&[
        (Some(0), Invoke, "write", json!(1), None),
        (Some(0), Ok, "write", json!(1), None),
        (None, Invoke, "start", fault.clone(), None),
        (None, Info, "start", fault.clone(), None),
        (Some(0), Invoke, "cas", json!([1, 2]), None),
        (Some(0), Fail, "cas", json!([1, 2]), Some("cas_mismatch")),
        (Some(1), Invoke, "write", json!(3), None),
        (Some(1), Info, "write", json!(3), Some("timeout")),
        (None, Invoke, "stop", fault.clone(), None),
        (None, Info, "stop", fault, None),
        (Some(0), Invoke, "read", Value::Null, None),
        (Some(0), Ok, "read", json!(3), None),
        // Without a checker result the verdict rests on the final reads (the set workload's
        // rule): the run got to them.
        (None, Info, "phase", json!("final-reads"), None),
    ]);
    let r = summarise(&events, None, false);
    assert_eq!(r.verdict, Verdict::Valid);
    assert_eq!(r.ops["write"].ok, 1);
    assert_eq!(r.ops["write"].info, 1);
    assert_eq!((r.ops["cas"].fail, r.ops["cas"].rejected), (0, 1));
    // The cas mismatch is an answer; the timed-out write is not.
    assert_eq!(r.availability.during_faults, Some(0.5));
    assert_eq!(r.availability.outside_faults, Some(1.0));
    assert_eq!(r.faults.len(), 1);
    assert!(r.faults[0].hit_leader);
    assert_eq!(
        (r.faults[0].start, r.faults[0].end),
        (3_000_000, 10_000_000)
    );
    assert_eq!(r.latency["write"].count, 1);
    assert_eq!(r.latency["write"].p50_ms, 1.0);
}

/// Sync replication cut off from a follower: reads answered, writes time out. The write
/// figures show what the overall ones blur.
#[test]
fn writes_have_their_own_availability_in_and_out_of_faults() {
    let fault = json!({"fault": "partition", "targets": [1, 2, 3], "leader": 1});
    let events = history(&[
        (Some(0), Invoke, "write", json!(1), None),
        (Some(0), Ok, "write", json!(1), None),
        (Some(1), Invoke, "read", Value::Null, None),
        (Some(1), Info, "read", Value::Null, Some("timeout")),
        (None, Invoke, "start", fault.clone(), None),
        (None, Info, "start", fault.clone(), None),
        (Some(0), Invoke, "write", json!(2), None),
        (Some(0), Info, "write", json!(2), Some("timeout")),
        (Some(2), Invoke, "read", Value::Null, None),
        (Some(2), Ok, "read", json!(1), None),
        (Some(3), Invoke, "read", Value::Null, None),
        (Some(3), Ok, "read", json!(1), None),
        // Waits out the partition: answered, but only once the heal began.
        (Some(4), Invoke, "write", json!(4), None),
        (None, Invoke, "stop", fault.clone(), None),
        (Some(4), Ok, "write", json!(4), None),
        // Invoked while the heal is under way: it meets the healed cluster, not the fault.
        (Some(0), Invoke, "write", json!(3), None),
        (Some(0), Ok, "write", json!(3), None),
        (None, Info, "stop", fault, None),
    ]);
    let r = summarise(&events, None, false);
    assert_eq!(r.availability.during_faults, Some(2.0 / 4.0));
    assert_eq!(r.availability.writes_during_faults, Some(0.0));
    assert_eq!(r.availability.outside_faults, Some(2.0 / 3.0));
    assert_eq!(r.availability.writes_outside_faults, Some(1.0));
    let w = &r.faults[0];
    assert_eq!(
        (w.start, w.heal_start, w.end),
        (5_000_000, 14_000_000, 18_000_000)
    );
    assert_eq!(
        (w.availability, w.write_availability),
        (r.availability.during_faults, Some(0.0))
    );
}

/// Each fault gets its own figures, and a partition says whom it separated from the leader:
/// sync writes stop while someone is cut off, and go on when the leader bridges both sides.
#[test]
fn each_fault_has_its_own_availability_and_names_who_was_cut_off_from_the_leader() {
    let isolate = json!({"fault": "partition", "targets": [1, 3], "leader": 1,
        "grudge": {"1": [3], "3": [1]}});
    let bridge = json!({"fault": "partition", "targets": [2, 3], "leader": 1,
        "grudge": {"2": [3], "3": [2]}});
    // One direction dropped is enough: the leader hears node 2, node 2 does not hear it.
    let one_way = json!({"fault": "partition", "targets": [2], "leader": 1,
        "grudge": {"2": [1]}});
    let kill = json!({"fault": "kill", "targets": [2], "leader": 1});
    let mut rows: Vec<Row<'_>> = Vec::new();
    for (fault, write_answered) in [(&isolate, false), (&bridge, true), (&one_way, false)] {
        rows.extend([
            (None, Invoke, "start", fault.clone(), None),
            (None, Info, "start", fault.clone(), None),
            (Some(0), Invoke, "write", json!(1), None),
            if write_answered {
                (Some(0), Ok, "write", json!(1), None)
            } else {
                (Some(0), Info, "write", json!(1), Some("timeout"))
            },
            (Some(1), Invoke, "read", Value::Null, None),
            (Some(1), Ok, "read", json!(1), None),
            (None, Invoke, "stop", fault.clone(), None),
            (None, Info, "stop", fault.clone(), None),
        ]);
    }
    rows.extend([
        (None, Invoke, "start", kill.clone(), None),
        (None, Info, "start", kill.clone(), None),
        (None, Invoke, "stop", kill.clone(), None),
        (None, Info, "stop", kill, None),
    ]);
    let r = summarise(&history(&rows), None, false);
    // (cut off from the leader, availability, write availability) per fault.
    type Figures = (Option<Vec<String>>, Option<f64>, Option<f64>);
    let figures: Vec<Figures> = r
        .faults
        .iter()
        .map(|w| {
            (
                w.cut_off_from_leader.clone(),
                w.availability,
                w.write_availability,
            )
        })
        .collect();
    assert_eq!(
        figures,
        [
            (Some(vec!["n3".to_owned()]), Some(0.5), Some(0.0)),
            (Some(vec![]), Some(1.0), Some(1.0)),
            (Some(vec!["n2".to_owned()]), Some(0.5), Some(0.0)),
            (None, None, None),
        ]
    );
    // The run-wide figure blurs the three partitions together.
    assert_eq!(r.availability.writes_during_faults, Some(1.0 / 3.0));
}

#[test]
fn a_read_of_an_overwritten_value_is_stale_and_after_the_final_marker_a_lost_write() {
    let events = history(&[
        (Some(0), Invoke, "write", json!(1), None),
        (Some(0), Ok, "write", json!(1), None),
        (Some(0), Invoke, "write", json!(2), None),
        (Some(0), Ok, "write", json!(2), None),
        (Some(1), Invoke, "read", Value::Null, None),
        (Some(1), Ok, "read", json!(1), None),
        (None, Info, "phase", json!("final-reads"), None),
        (Some(2), Invoke, "read", Value::Null, None),
        (Some(2), Ok, "read", json!(1), None),
    ]);
    let r = summarise(&events, None, false);
    let kinds: Vec<&str> = r.anomalies.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, ["stale-read", "lost-write"]);
    assert_eq!(r.anomalies[0].read_value, json!(1));
    assert_eq!(r.anomalies[0].missing_value, json!(2));
    assert_eq!(r.anomalies[0].write_index, Some(2));
}

#[test]
fn the_set_workload_is_invalid_when_an_acknowledged_element_is_missing() {
    // An add's ok carries nothing; histories recorded before carried the set after it.
    for (first, second) in [(Value::Null, Value::Null), (json!([1]), json!([1, 2]))] {
        let events = history(&[
            (Some(0), Invoke, "add", json!(1), None),
            (Some(0), Ok, "add", first, None),
            (Some(0), Invoke, "add", json!(2), None),
            (Some(0), Ok, "add", second, None),
            (None, Info, "phase", json!("final-reads"), None),
            (Some(1), Invoke, "read", Value::Null, None),
            (Some(1), Ok, "read", json!([2]), None),
        ]);
        let r = summarise(&events, None, false);
        assert_eq!(r.verdict, Verdict::Invalid);
        assert_eq!(r.anomaly_counts["lost-write"], 1);
        assert_eq!(r.anomalies[0].missing_value, json!(1));
    }
}

#[test]
fn a_set_run_without_final_reads_is_unknown_not_valid() {
    let adds = [
        (Some(0), Invoke, "add", json!(1), None),
        (Some(0), Ok, "add", Value::Null, None),
    ];
    // Cut short (or its controller killed) before the final reads: nothing was read back.
    let r = summarise(&history(&adds), None, false);
    assert_eq!(r.verdict, Verdict::Unknown);
    assert!(
        r.unknown_reason
            .as_deref()
            .is_some_and(|reason| reason.contains("no final reads")),
        "{:?}",
        r.unknown_reason
    );
    // The same run read back whole is valid.
    let mut whole = adds.to_vec();
    whole.extend([
        (None, Info, "phase", json!("final-reads"), None),
        (Some(1), Invoke, "read", Value::Null, None),
        (Some(1), Ok, "read", json!([1]), None),
    ]);
    let r = summarise(&history(&whole), None, false);
    assert_eq!(r.verdict, Verdict::Valid);
    assert_eq!(r.unknown_reason, None);
}

#[test]
fn failover_is_the_time_from_losing_the_leader_to_the_first_successful_write() {
    let fault = json!({"fault": "kill", "targets": [1], "leader": 1});
    let events = history(&[
        (None, Invoke, "start", fault.clone(), None),
        (None, Info, "start", fault.clone(), None),
        (Some(0), Invoke, "write", json!(1), None),
        (Some(0), Info, "write", json!(1), Some("timeout")),
        (Some(1), Invoke, "write", json!(2), None),
        (Some(1), Ok, "write", json!(2), None),
        (None, Invoke, "stop", fault.clone(), None),
        (None, Info, "stop", fault, None),
    ]);
    let r = summarise(&events, None, false);
    // The fault starts at 1 ms; the first write invoked after it that succeeded completes at 6 ms.
    assert_eq!(r.failover_s.len(), 1);
    assert!((r.failover_s[0] - 0.005).abs() < 1e-9, "{:?}", r.failover_s);
}

/// A leader cut off from the others that goes on acknowledging writes (kvnode async, a
/// PostgreSQL primary before Patroni's lease runs out) has not failed over: the failover ends
/// with the first write another node acknowledged.
#[test]
fn failover_ends_with_the_first_write_another_node_acknowledged() {
    let fault = json!({"fault": "partition", "targets": [1], "leader": 1});
    let mut events = history(&[
        (None, Invoke, "start", fault.clone(), None),
        (None, Info, "start", fault.clone(), None),
        (Some(0), Invoke, "write", json!(1), None),
        (Some(0), Ok, "write", json!(1), None),
        (Some(1), Invoke, "write", json!(2), None),
        (Some(1), Ok, "write", json!(2), None),
        (None, Invoke, "stop", fault.clone(), None),
        (None, Info, "stop", fault, None),
    ]);
    // The first write is acknowledged by the isolated leader n1, the second by n2.
    events[3].node = Some("n1".to_owned());
    events[5].node = Some("n2".to_owned());
    let r = summarise(&events, None, false);
    // The fault starts at 1 ms; n2's write completes at 6 ms.
    assert_eq!(r.failover_s.len(), 1);
    assert!((r.failover_s[0] - 0.005).abs() < 1e-9, "{:?}", r.failover_s);
    // Had n1 acknowledged both, nothing failed over.
    events[5].node = Some("n1".to_owned());
    assert!(summarise(&events, None, false).failover_s.is_empty());
}

/// Issue 10, item 12: a cluster that answered nothing for the second half of the run. Healthy
/// seconds hold many operations and dead ones a timeout per client, so per operation it looks
/// available; per second it was not. Compare-and-sets that found another value are answers,
/// counted apart from the operations that failed.
#[test]
fn rejected_cas_are_counted_apart_and_overall_availability_is_measured_in_time_too() {
    let mut events: Vec<Event> = Vec::new();
    let mut push = |ms: u64, p: u64, kind: EventType, f: &str, error: Option<&str>| {
        events.push(Event {
            index: events.len() as u64,
            time: ms * 1_000_000,
            process: Process::Client(p),
            kind,
            f: f.to_owned(),
            key: Some("r".to_owned()),
            value: if f == "cas" {
                json!([1, 2])
            } else {
                Value::Null
            },
            error: error.map(Value::from),
            node: None,
        });
    };
    // Seconds 0-4: per second 40 reads and 10 cas answered; every cas but the first rejected.
    for second in 0..5 {
        for i in 0..50 {
            let at = second * 1000 + i * 20;
            let f = if i % 5 == 0 { "cas" } else { "read" };
            push(at, 0, Invoke, f, None);
            // The very first cas applies; every later one finds another value.
            if f == "cas" && at > 0 {
                push(at + 1, 0, Fail, f, Some("cas_mismatch"));
            } else {
                push(at + 1, 0, Ok, f, None);
            }
        }
    }
    // One cas that failed for real: the node it reached was not the leader.
    push(4990, 0, Invoke, "cas", None);
    push(4995, 0, Fail, "cas", Some("not_leader"));
    // Seconds 5-9: nothing answered; a read and a write time out each second.
    for second in 5..10 {
        let (read, cas) = (10 + second, 20 + second);
        push(second * 1000, read, Invoke, "read", None);
        push(second * 1000, cas, Invoke, "cas", None);
        push(second * 1000 + 999, read, Info, "read", Some("timeout"));
        push(second * 1000 + 999, cas, Info, "cas", Some("timeout"));
    }
    let r = summarise(&events, None, false);
    let json = serde_json::to_value(&r).expect("serialises");
    let cas = &json["ops"]["cas"];
    assert_eq!(
        (&cas["ok"], &cas["rejected"], &cas["fail"], &cas["info"]),
        (&json!(1), &json!(49), &json!(1), &json!(5)),
        "rejected cas apart from the one that failed: {cas}"
    );
    let a = &json["availability"];
    assert!(
        a["overall"].as_f64().is_some_and(|v| v > 0.95),
        "per operation it looks available (250 of 261 answered): {a}"
    );
    assert_eq!(a["overall_by_time"], 0.5, "5 of 10 seconds answered: {a}");
    assert_eq!(
        a["writes_overall_by_time"], 0.5,
        "writes asked for 10 seconds, answered in the first 5: {a}"
    );

    let spec = json!({"name": "half-dead", "seed": 1, "nodes": 3});
    let html = render_report(&ReportInput {
        spec: &spec,
        results: &r,
        events: &events,
        clocks: &[],
    })
    .expect("renders");
    let headline = html
        .split("<p><span class=\"verdict")
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .expect("headline");
    assert!(
        headline.contains("49 rejected cas") && headline.contains("1 failed"),
        "{headline}"
    );
    assert!(
        headline.contains("50.0% of seconds"),
        "the headline says overall availability in time: {headline}"
    );
    let availability = html
        .split("<h3>Availability</h3>")
        .nth(1)
        .expect("availability table");
    let first_row = availability.split("<tr>").nth(1).unwrap_or_default();
    assert!(
        first_row.contains("during faults"),
        "availability leads with the faults: {first_row}"
    );
    let throughput = html
        .split("<svg")
        .skip(1)
        .find(|svg| svg.contains("ops/s"))
        .expect("throughput chart");
    assert!(
        throughput.lines().any(|l| l.trim() == "rejected"),
        "the throughput chart draws rejected cas as a series of their own"
    );
}

/// Second 0 of availability in time starts at the first invocation, even when a later
/// invocation is the first to complete.
#[test]
fn availability_in_time_counts_seconds_from_the_first_invocation() {
    let event = |index: u64, ms: u64, p: u64, kind: EventType| Event {
        index,
        time: ms * 1_000_000,
        process: Process::Client(p),
        kind,
        f: "read".to_owned(),
        key: Some("r".to_owned()),
        value: Value::Null,
        error: (kind == Info).then(|| json!("timeout")),
        node: None,
    };
    let events = vec![
        // p0 asks at 0 s and times out at 1.95 s: seconds 0 and 1 asked.
        event(0, 0, 0, Invoke),
        // p1 is answered in second 0 (0.9 s to 1.0 s: second 1 starts at 1.0 s exactly).
        event(1, 900, 1, Invoke),
        event(2, 999, 1, Ok),
        // p2 is answered in second 1.
        event(3, 1_100, 2, Invoke),
        event(4, 1_200, 2, Ok),
        event(5, 1_950, 0, Info),
    ];
    let r = summarise(&events, None, false);
    // Counted from the first completion's invocation (0.9 s), the answer at 1.2 s fell into
    // second 0 with the other, and second 1 looked dead: 50%.
    assert_eq!(r.availability.overall_by_time, Some(1.0), "{r:?}");
}

/// A write acknowledged while a partition cut off the leader that acknowledged it, lost after
/// the failover: its row names the partition it was in flight during (with the leader of the
/// fault's start) and the fault after it; the report puts what the options promise above the
/// anomalies.
#[test]
fn a_lost_write_s_row_names_the_faults_around_it_and_the_options_promises_sit_above_it() {
    let cut = json!({"fault": "partition", "targets": [1], "leader": 1});
    let kill = json!({"fault": "kill", "targets": [2], "leader": 2});
    let events = history(&[
        (None, Invoke, "start", cut.clone(), None),
        (None, Info, "start", cut.clone(), None),
        (Some(0), Invoke, "write", json!(1), None),
        (Some(0), Ok, "write", json!(1), None),
        (None, Invoke, "stop", cut.clone(), None),
        (None, Info, "stop", cut.clone(), None),
        (Some(0), Invoke, "write", json!(2), None),
        (Some(0), Ok, "write", json!(2), None),
        (None, Invoke, "start", kill.clone(), None),
        (None, Info, "start", kill.clone(), None),
        (None, Invoke, "stop", kill.clone(), None),
        (None, Info, "stop", kill, None),
        (None, Info, "phase", json!("final-reads"), None),
        (Some(1), Invoke, "read", Value::Null, None),
        (Some(1), Ok, "read", json!(1), None),
    ]);
    let r = summarise(&events, None, false);
    let lost = &r.anomalies[0];
    assert_eq!(lost.kind, "lost-write");
    assert_eq!(lost.missing_value, json!(2));
    // Write 2 was in flight with no fault in force; the kill of n2 began 2 ms after its ack.
    assert!(lost.write_faults.is_empty(), "{:?}", lost.write_faults);
    assert_eq!(
        lost.next_fault.as_deref(),
        Some("kill n2 (leader n2), 0.00 s later")
    );
    assert!(
        lost.to_string()
            .ends_with("faults in force: none; next fault: kill n2 (leader n2), 0.00 s later"),
        "{lost}"
    );
    let spec = json!({"name": "lost", "seed": 1, "nodes": 3,
        "options": {"replication": "async", "reads": "any"},
        "option_explanations": {"reads": "Any node answers.",
                                "replication": "Acknowledged by the leader alone."}});
    let html = render_report(&ReportInput {
        spec: &spec,
        results: &r,
        events: &events,
        clocks: &[],
    })
    .expect("renders");
    let promises = html
        .find("What this run's options promise")
        .expect("the promises block");
    let anomalies = html.find("<table class=\"anomalies\">").expect("anomalies");
    assert!(
        html.find("<h2>Anomalies").is_some_and(|h| h < promises) && promises < anomalies,
        "the promises sit between the anomalies' heading and their table"
    );
    let block = &html[promises..anomalies];
    let replication = block
        .find("<code>replication=async</code>: Acknowledged by the leader alone.")
        .expect("replication's promise");
    let reads = block
        .find("<code>reads=any</code>: Any node answers.")
        .expect("reads' promise");
    assert!(replication < reads, "replication first");
    assert!(html.contains("next fault: kill n2 (leader n2), 0.00 s later"));
    assert!(html.contains("in flight with no fault in force"));

    // A write acknowledged while the partition cut its leader off, and nothing of it read
    // back: its row says which fault it was in flight during, with the leader of its start.
    let events = history(&[
        (None, Invoke, "start", cut.clone(), None),
        (None, Info, "start", cut.clone(), None),
        (Some(0), Invoke, "write", json!(1), None),
        (Some(0), Ok, "write", json!(1), None),
        (None, Invoke, "stop", cut.clone(), None),
        (None, Info, "stop", cut, None),
        (None, Info, "phase", json!("final-reads"), None),
        (Some(1), Invoke, "read", Value::Null, None),
        (Some(1), Ok, "read", Value::Null, None),
    ]);
    let r = summarise(&events, None, false);
    let lost = &r.anomalies[0];
    assert_eq!((lost.kind, &lost.missing_value), ("lost-write", &json!(1)));
    assert_eq!(lost.write_faults.len(), 1, "{:?}", lost.write_faults);
    assert!(
        lost.write_faults[0].starts_with("partition")
            && lost.write_faults[0].ends_with("(leader n1)"),
        "{:?}",
        lost.write_faults
    );
    assert_eq!(lost.next_fault, None);
}
