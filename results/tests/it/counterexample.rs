//! The report's counterexample view, read from the page: the op that cannot be linearized is
//! drawn however short it is, every op is named by its history index, and the view says which
//! node answered and which fault was in force.

use faultline_checker::ModelKind;
use faultline_checker::history::{Event, EventType, Process};
use serde_json::{Value, json};

use crate::render_page;

/// Events at explicit times (microseconds since the run started), indexed in order.
#[derive(Default)]
struct History(Vec<Event>);

impl History {
    fn push(
        &mut self,
        micros: u64,
        process: Option<u64>,
        kind: EventType,
        f: &str,
        value: Value,
        node: Option<&str>,
    ) -> u64 {
        let index = self.0.len() as u64;
        self.0.push(Event {
            index,
            time: micros * 1_000,
            process: process.map_or(Process::Nemesis, Process::Client),
            kind,
            f: f.to_owned(),
            key: process.map(|_| "r".to_owned()),
            value,
            error: None,
            node: node.map(str::to_owned),
        });
        index
    }
}

/// Process 0 writes 1 and then 2 (0.3 ms each, answered by n1) while a partition isolates n2;
/// process 1's read, invoked after 2 was acknowledged, is answered 620 ms later by n2 with 1;
/// process 2 writes 3 (0.3 ms) while that read runs. Returns the events and the stale read's
/// invocation index.
fn stale_read_under_partition() -> (Vec<Event>, u64) {
    use EventType::{Info, Invoke, Ok};
    let mut h = History::default();
    let partition = json!({"fault": "partition", "targets": [2], "leader": 1,
        "grudge": {"1": [2], "3": [2], "2": [1, 3]}, "shape": "isolate"});
    h.push(0, None, Invoke, "start", partition.clone(), None);
    h.push(100, None, Info, "start", partition.clone(), None);
    h.push(1_000, Some(0), Invoke, "write", json!(1), None);
    h.push(1_300, Some(0), Ok, "write", json!(1), Some("n1"));
    h.push(2_000, Some(0), Invoke, "write", json!(2), None);
    h.push(2_300, Some(0), Ok, "write", json!(2), Some("n1"));
    let read = h.push(3_000, Some(1), Invoke, "read", Value::Null, None);
    h.push(10_000, Some(2), Invoke, "write", json!(3), None);
    h.push(10_300, Some(2), Ok, "write", json!(3), Some("n1"));
    h.push(623_000, Some(1), Ok, "read", json!(1), Some("n2"));
    h.push(700_000, None, Invoke, "stop", partition.clone(), None);
    h.push(700_100, None, Info, "stop", partition, None);
    (h.0, read)
}

/// The value of `attr` in the first tag of `html` that contains `marker`.
fn attr(html: &str, marker: &str, attr: &str) -> Option<String> {
    let at = html.find(marker)?;
    let tag_start = html[..=at].rfind('<')?;
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>')?];
    let from = tag.find(&format!(" {attr}=\""))? + attr.len() + 3;
    Some(tag[from..from + tag[from..].find('"')?].to_owned())
}

fn view(html: &str) -> &str {
    let from = html
        .find("class=\"counterexample-view\"")
        .expect("a counterexample view");
    let to = from + html[from..].find("</svg>").expect("its chart");
    &html[from..to]
}

#[test]
fn the_blocked_op_is_drawn_visibly_with_its_node_and_the_fault_in_force() {
    let (events, read) = stale_read_under_partition();
    let html = render_page(&events, Some(ModelKind::CasRegister), "cx", 2);
    let cx = view(&html);

    let width: f64 = attr(cx, "id=\"cx-blocked\"", "width")
        .expect("the blocked op's bar")
        .parse()
        .expect("a number");
    assert!(width >= 6.0, "blocked bar {width} px wide");
    // Every op drawn is at least as wide, the 0.3 ms writes beside the 620 ms read too.
    for (i, _) in cx.match_indices("<g class=\"cx-op\"") {
        let rect = &cx[i..];
        let w: f64 = attr(rect, "<rect", "width")
            .expect("a bar")
            .parse()
            .expect("a number");
        assert!(
            w >= 6.0,
            "a bar {w} px wide: {}",
            &rect[..200.min(rect.len())]
        );
    }

    // Named by history index, with the node that answered, on the chart itself.
    assert!(
        cx.contains(&format!("read r → 1 from n2 #{read}")),
        "blocked label: {cx}"
    );
    assert_eq!(
        attr(cx, "id=\"cx-blocked\"", "id").as_deref(),
        Some("cx-blocked")
    );
    let group = &cx[..cx.find("id=\"cx-blocked\"").expect("blocked")];
    let group = &group[group.rfind("<g class=\"cx-op\"").expect("its group")..];
    assert!(group.contains(&format!("data-index=\"{read}\"")), "{group}");
    assert!(
        group.contains("answered ok by n2 after 620.000 ms"),
        "hover names node and latency: {group}"
    );
    // Every op drawn is one of the history's invocations.
    let invocations: Vec<u64> = events
        .iter()
        .filter(|e| e.kind == EventType::Invoke && matches!(e.process, Process::Client(_)))
        .map(|e| e.index)
        .collect();
    for (i, _) in cx.match_indices("data-index=\"") {
        let n: u64 = cx[i + 12..i + 12 + cx[i + 12..].find('"').expect("closed")]
            .parse()
            .expect("a history index");
        assert!(invocations.contains(&n), "#{n} is not an invocation");
    }

    // The story and the shaded band name the fault; the story names the state needed.
    assert!(cx.contains("In force while it ran: partition"), "{cx}");
    assert!(cx.contains("class=\"cx-fault\""));
    assert!(cx.contains("this read needed 1"), "{cx}");
    // The linearization found is drawn as an order.
    assert!(cx.contains("class=\"cx-order\""));
    assert!(cx.contains("class=\"cx-step\""));
    // Each step's hover gives the model's state before and after it.
    assert!(cx.contains("state: r 1 → 2"), "{cx}");
    assert!(cx.contains("replaced by #4 write r 2 (process 0), acknowledged by n1"));
}

#[test]
fn a_valid_run_has_no_counterexample_view() {
    let (mut events, _) = stale_read_under_partition();
    // The read answered 3: linearizable (3 was written while it ran).
    if let Some(e) = events
        .iter_mut()
        .find(|e| e.f == "read" && e.kind == EventType::Ok)
    {
        e.value = json!(3);
    }
    let html = render_page(&events, Some(ModelKind::CasRegister), "cx", 2);
    assert!(html.contains("<span class=\"verdict valid\">valid</span>"));
    assert!(!html.contains("counterexample-view"));
    assert!(!html.contains("cx-blocked"));
}
