//! report.html from histories: self-contained, verdict first, bounded in size.

use faultline_checker::ModelKind;
use faultline_checker::history::{Event, EventType, Process};
use faultline_results::{ReportInput, render_report, summarise};
use serde_json::{Value, json};

use crate::render_page;

fn event(i: usize, process: u64, kind: EventType, f: &str, value: Value) -> Event {
    Event {
        index: i as u64,
        time: i as u64 * 100_000,
        process: Process::Client(process),
        kind,
        f: f.to_owned(),
        key: Some("r".to_owned()),
        value,
        error: None,
        node: None,
    }
}

/// `n` sequential write/read pairs by two processes; `stale` makes the last read return the
/// first value.
fn history(n: usize, stale: bool) -> Vec<Event> {
    let mut events = Vec::new();
    for k in 0..n {
        let v = json!(k + 1);
        events.push(event(
            events.len(),
            0,
            EventType::Invoke,
            "write",
            v.clone(),
        ));
        events.push(event(events.len(), 0, EventType::Ok, "write", v.clone()));
        let read = if stale && k == n - 1 { json!(1) } else { v };
        events.push(event(
            events.len(),
            1,
            EventType::Invoke,
            "read",
            Value::Null,
        ));
        events.push(event(events.len(), 1, EventType::Ok, "read", read));
    }
    events
}

fn render(events: &[Event]) -> String {
    render_page(events, Some(ModelKind::CasRegister), "report-test", 42)
}

#[test]
fn a_valid_run_report_is_self_contained_and_bounded() {
    let html = render(&history(25_000, false));
    assert!(html.contains("<span class=\"verdict valid\">valid</span>"));
    assert!(html.contains("seed 42"));
    assert!(
        html.matches("<svg").count() >= 2,
        "latency and throughput charts"
    );
    assert!(
        html.contains("id=\"explorer-data\""),
        "the history explorer"
    );
    assert!(html.contains("href=\"nodes/3.log\""));
    // No external resources: nothing to fetch when opened offline.
    for external in ["src=", "href=\"http", "<link", "url(http"] {
        assert!(!html.contains(external), "{external}");
    }
    // 100 000 events (50 000 operations, all in the explorer), yet the page stays small.
    // ~33 bytes an operation in the explorer's columns.
    assert!(html.len() < 2_500_000, "{} bytes", html.len());
}

#[test]
fn an_invalid_run_report_leads_with_the_counterexample() {
    let html = render(&history(50, true));
    assert!(html.contains("<span class=\"verdict invalid\">invalid</span>"));
    let why = html
        .find("Why it is not linearizable")
        .expect("explanation section");
    let operations = html
        .find("<h2>Operations</h2>")
        .expect("operations section");
    assert!(why < operations, "the explanation comes first");
    assert!(html.contains("counterexample"));
    assert!(html.contains("<td>stale-read</td>"));
}

#[test]
fn clock_samples_become_a_chart_per_node() {
    use faultline_results::ClockSample;
    let events = history(20, false);
    let results = summarise(&events, None, false);
    let clocks: Vec<ClockSample> = (0..6)
        .map(|i| ClockSample {
            time: i * 1_000_000_000,
            node: 1 + (i % 2) as u32,
            offset_ms: if i > 2 { -3000.0 } else { 0.5 },
        })
        .collect();
    let spec = json!({"name": "clocks", "seed": 1, "nodes": 2});
    let html = render_report(&ReportInput {
        spec: &spec,
        results: &results,
        events: &events,
        clocks: &clocks,
    })
    .expect("renders");
    assert!(html.contains("Node clocks"));
    // A legend entry per node, named as everywhere: n1, n2.
    let legend = |name: &str| html.lines().any(|l| l.trim() == name);
    assert!(legend("n1") && legend("n2"));
}

#[test]
fn hostile_keys_and_values_cannot_break_out_of_the_page() {
    // A key and values that would close the explorer's script element, open a comment or tag,
    // or break a quote, in an invalid run (so the counterexample's SVG labels carry them too).
    let key = "</script><b>é\" #1";
    let mut events = history(30, true);
    for e in &mut events {
        e.key = Some(key.to_owned());
        if e.f == "write" {
            e.value = json!(format!("<!--{}", e.value));
        }
    }
    // Values stay distinct, so the stale read is still the first value written.
    let first = events[1].value.clone();
    let last_read = events.len() - 1;
    events[last_read].value = first;
    let html = render_page(&events, Some(ModelKind::Register), "hostile", 1);
    assert!(html.contains("<span class=\"verdict invalid\">invalid</span>"));
    assert!(
        !html.contains("</script><b>"),
        "a raw </script> from the data"
    );
    assert!(!html.contains("<b>é"), "an unescaped tag from the data");
    assert!(
        !html.contains("<!--\""),
        "an unescaped comment from the data"
    );
    // The explorer's data is still one JSON document, with the key as written.
    let start = html.find("id=\"explorer-data\"").expect("explorer data");
    let body = &html[start..];
    let open = body.find('>').expect("element opens") + 1;
    let close = body.find("</script>").expect("element closes");
    let data: Value = serde_json::from_str(&body[open..close]).expect("explorer data is JSON");
    assert!(
        data.to_string().contains("</script><b>é"),
        "the key survives, escaped"
    );
}
