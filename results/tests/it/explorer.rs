//! The history explorer's data in report.html: every operation numbered as the history numbers
//! it, one lane per process in numeric order, and past the budget a sample that keeps every
//! anomaly and says so. (What the page draws from it: browser.rs.)

use faultline_checker::history::{Event, EventType, Process};
use faultline_results::{ReportInput, render_report, summarise};
use serde_json::{Value, json};

fn event(index: usize, time: u64, process: u64, kind: EventType, f: &str, value: Value) -> Event {
    Event {
        index: index as u64,
        time,
        process: Process::Client(process),
        kind,
        f: f.to_owned(),
        key: Some(format!("k{}", process % 3)),
        value,
        error: None,
        node: Some("n1".to_owned()),
    }
}

/// `n` writes and reads over processes 0, 2, 3, 10 and 11 (so that numeric and text order
/// differ), each process's operations overlapping the others'; with `stale`, the last read of
/// key k0 returns the first value written to it.
fn history(n: usize, stale: bool) -> Vec<Event> {
    let processes = [10u64, 2, 11, 0, 3];
    let mut events = Vec::new();
    let mut last: std::collections::HashMap<String, u64> = Default::default();
    let mut first_k0 = None;
    for k in 0..n {
        let p = processes[k % processes.len()];
        let t = k as u64 * 50_000;
        let key = format!("k{}", p % 3);
        let (f, v) = if k % 2 == 0 {
            ("write", json!(k + 1))
        } else {
            ("read", Value::Null)
        };
        let invoke = event(events.len(), t, p, EventType::Invoke, f, v.clone());
        events.push(invoke);
        let result = if f == "write" {
            last.insert(key.clone(), k as u64 + 1);
            if key == "k0" && first_k0.is_none() {
                first_k0 = Some(k as u64 + 1);
            }
            v
        } else if stale && k + 4 >= n && key == "k0" {
            json!(first_k0)
        } else {
            json!(last.get(&key))
        };
        events.push(event(events.len(), t + 30_000, p, EventType::Ok, f, result));
    }
    events
}

fn render(events: &[Event]) -> String {
    let results = summarise(events, None, false);
    let spec = json!({"name": "explorer", "seed": 1, "nodes": 3});
    render_report(&ReportInput {
        spec: &spec,
        results: &results,
        events,
        clocks: &[],
    })
    .expect("renders")
}

fn data(html: &str) -> Value {
    let from = html.find("id=\"explorer-data\">").expect("explorer data") + 19;
    let to = from + html[from..].find("</script>").expect("end of data");
    serde_json::from_str(&html[from..to]).expect("explorer data is JSON")
}

/// History indices of the embedded operations (the page adds up the deltas).
fn indices(d: &Value) -> Vec<u64> {
    let mut at = 0;
    d["ops"]["idx"]
        .as_array()
        .expect("idx")
        .iter()
        .map(|v| {
            at += v.as_u64().expect("delta");
            at
        })
        .collect()
}

#[test]
fn every_operation_is_numbered_as_the_history_and_lanes_are_processes_in_order() {
    let events = history(400, false);
    let d = data(&render(&events));
    let invocations: Vec<u64> = events
        .iter()
        .filter(|e| e.kind == EventType::Invoke)
        .map(|e| e.index)
        .collect();
    assert_eq!(indices(&d), invocations);
    assert_eq!(
        d["lanes"],
        json!([
            "process 0",
            "process 2",
            "process 3",
            "process 10",
            "process 11"
        ])
    );
    assert_eq!(d["total"], 400);
    assert!(d["sampled"].is_null());
    // Colours come from the palette, not the script.
    assert_eq!(
        d["colours"]["outcome"][0],
        faultline_results::palette::outcome(faultline_results::palette::OutcomeColour::Ok).hex()
    );
}

#[test]
fn a_long_run_is_sampled_keeps_its_anomalies_and_says_so() {
    let events = history(250_000, true);
    let html = render(&events);
    let d = data(&html);
    let shown = indices(&d);
    assert!(shown.len() <= 60_000, "{} operations", shown.len());
    assert_eq!(d["total"], 250_000);
    let anomalies = d["anomalies"].as_array().expect("anomalies");
    assert!(!anomalies.is_empty(), "the stale read is listed");
    for a in anomalies {
        let idx = a["idx"].as_u64().expect("idx");
        assert!(shown.binary_search(&idx).is_ok(), "anomaly at {idx} kept");
        // And the operations right before it.
        let pos = shown.binary_search(&idx).unwrap_or(0);
        assert!(
            pos >= 100 && shown[pos - 100] + 200 >= idx,
            "neighbourhood of {idx}"
        );
    }
    assert!(html.contains("class=\"explorer-sampled\""));
    assert!(html.contains("of 250000 operations shown"));
    // A few MB at most for the whole page.
    assert!(html.len() < 4_000_000, "{} bytes", html.len());
}
