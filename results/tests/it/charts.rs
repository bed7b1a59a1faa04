//! The report's charts read back from their SVG, the way a reader's eye reads them: positions
//! mapped to seconds and milliseconds through the axes' own tick labels.
//!
//! The latency chart draws every operation slower than the p99 and every `info` on an axis that
//! reaches them; fault windows of different families are told apart and their labels never print
//! over each other; the fault table names a partition's shape and grudge.

use faultline_checker::history::{Event, EventType, Process};
use serde_json::{Value, json};

use faultline_results::palette;

use crate::render_page;

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

/// One SVG element: its name, attributes and (for `<text>`) its text.
#[derive(Debug)]
pub(crate) struct Tag {
    pub(crate) name: String,
    attrs: Vec<(String, String)>,
    pub(crate) text: String,
}

impl Tag {
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn num(&self, name: &str) -> f64 {
        self.attr(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    }

    /// The bounding box (x0, y0, x1, y1) of a shape, in pixels.
    fn bbox(&self) -> Option<(f64, f64, f64, f64)> {
        match self.name.as_str() {
            "circle" => {
                let (x, y, r) = (self.num("cx"), self.num("cy"), self.num("r"));
                Some((x - r, y - r, x + r, y + r))
            }
            "line" => {
                let (x1, y1) = (self.num("x1"), self.num("y1"));
                let (x2, y2) = (self.num("x2"), self.num("y2"));
                Some((x1.min(x2), y1.min(y2), x1.max(x2), y1.max(y2)))
            }
            "rect" => {
                let (x, y) = (self.num("x"), self.num("y"));
                Some((x, y, x + self.num("width"), y + self.num("height")))
            }
            "polygon" | "polyline" => {
                let coords: Vec<f64> = self
                    .attr("points")?
                    .split([' ', ','])
                    .filter_map(|c| c.parse().ok())
                    .collect();
                let xs = coords.iter().step_by(2);
                let ys = coords.iter().skip(1).step_by(2);
                Some((
                    xs.clone().copied().fold(f64::INFINITY, f64::min),
                    ys.clone().copied().fold(f64::INFINITY, f64::min),
                    xs.copied().fold(f64::NEG_INFINITY, f64::max),
                    ys.copied().fold(f64::NEG_INFINITY, f64::max),
                ))
            }
            _ => None,
        }
    }
}

/// The elements of an SVG document (plotters writes one flat list of them).
pub(crate) fn tags(svg: &str) -> Vec<Tag> {
    let mut out = Vec::new();
    for chunk in svg.split('<').skip(1) {
        if chunk.starts_with('/') {
            continue;
        }
        let (head, text) = chunk.split_once('>').unwrap_or((chunk, ""));
        let head = head.trim_end_matches('/');
        let name = head.split_whitespace().next().unwrap_or("").to_owned();
        let mut attrs = Vec::new();
        let mut rest = &head[name.len()..];
        while let Some((key, after)) = rest.split_once("=\"") {
            let Some((value, tail)) = after.split_once('"') else {
                break;
            };
            attrs.push((key.trim().to_owned(), value.to_owned()));
            rest = tail;
        }
        out.push(Tag {
            name,
            attrs,
            text: text.trim().to_owned(),
        });
    }
    out
}

/// The `n`th chart of the "over time" section (0: latency, 1: throughput, 2: clocks).
fn over_time_chart(html: &str, n: usize) -> &str {
    let section = html
        .find("<h2>Latency and throughput over time</h2>")
        .expect("the charts section");
    let mut from = section;
    for _ in 0..n {
        from = from + html[from..].find("</svg>").expect("a chart") + 6;
    }
    let start = from + html[from..].find("<svg").expect("a chart");
    let end = start + html[start..].find("</svg>").expect("the chart's end");
    &html[start..end]
}

/// Pixel ↔ value for one axis, fitted through its two outermost numeric tick labels.
struct Axis {
    px: (f64, f64),
    value: (f64, f64),
    log: bool,
}

impl Axis {
    fn value_at(&self, px: f64) -> f64 {
        let f = |v: f64| if self.log { v.log10() } else { v };
        let (a, b) = (f(self.value.0), f(self.value.1));
        let v = a + (px - self.px.0) / (self.px.1 - self.px.0) * (b - a);
        if self.log { 10f64.powf(v) } else { v }
    }

    fn px_at(&self, value: f64) -> f64 {
        let f = |v: f64| if self.log { v.log10() } else { v };
        let (a, b) = (f(self.value.0), f(self.value.1));
        self.px.0 + (f(value) - a) / (b - a) * (self.px.1 - self.px.0)
    }

    fn max_tick(&self) -> f64 {
        self.value.0.max(self.value.1)
    }
}

/// The chart's axes from its tick labels: y ticks are end-anchored numbers left of the plot,
/// x ticks centred numbers below it.
fn axes(tags: &[Tag], log_y: bool) -> (Axis, Axis) {
    let ticks = |anchor: &str, pos: &str| {
        let mut t: Vec<(f64, f64)> = tags
            .iter()
            .filter(|t| t.name == "text" && t.attr("text-anchor") == Some(anchor))
            .filter(|t| t.attr("transform").is_none())
            .filter_map(|t| Some((t.num(pos), t.text.parse::<f64>().ok()?)))
            .collect();
        t.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(t.len() >= 2, "two {anchor} ticks: {t:?}");
        let (first, last) = (t[0], t[t.len() - 1]);
        ((first.0, last.0), (first.1, last.1))
    };
    let (xp, xv) = ticks("middle", "x");
    let (yp, yv) = ticks("end", "y");
    (
        Axis {
            px: xp,
            value: xv,
            log: false,
        },
        Axis {
            px: yp,
            value: yv,
            log: log_y,
        },
    )
}

/// The centres of the chart's point markers (shapes no larger than 10 px) inside the plot's
/// time range, as (seconds, milliseconds).
fn markers(tags: &[Tag], x: &Axis, y: &Axis, duration_s: f64) -> Vec<(f64, f64)> {
    let (left, right) = (x.px_at(0.0) - 2.0, x.px_at(duration_s) + 2.0);
    tags.iter()
        .filter_map(Tag::bbox)
        .filter(|(x0, y0, x1, y1)| x1 - x0 <= 10.0 && y1 - y0 <= 10.0)
        .map(|(x0, y0, x1, y1)| ((x0 + x1) / 2.0, (y0 + y1) / 2.0))
        .filter(|(cx, _)| (left..=right).contains(cx))
        .map(|(cx, cy)| (x.value_at(cx), y.value_at(cy)))
        .collect()
}

/// Appends an operation: its invocation and, unless `outcome` is None, its completion.
fn op(
    events: &mut Vec<Event>,
    process: u64,
    f: &str,
    at: u64,
    latency: u64,
    outcome: Option<EventType>,
) {
    let event = |time, kind, value: Value| Event {
        index: 0,
        time,
        process: Process::Client(process),
        kind,
        f: f.to_owned(),
        key: Some("r".to_owned()),
        value,
        error: (kind == EventType::Info).then(|| json!("timeout")),
        node: None,
    };
    let value = if f == "write" { json!(at) } else { Value::Null };
    events.push(event(at, EventType::Invoke, value.clone()));
    if let Some(kind) = outcome {
        events.push(event(at + latency, kind, value));
    }
}

fn nemesis(events: &mut Vec<Event>, f: &str, kind: EventType, at: u64, value: Value) {
    events.push(Event {
        index: 0,
        time: at,
        process: Process::Nemesis,
        kind,
        f: f.to_owned(),
        key: None,
        value,
        error: None,
        node: None,
    });
}

/// A fault from `from` to `to`: start invoke and info, stop invoke and info.
fn fault(events: &mut Vec<Event>, from: u64, to: u64, value: Value) {
    nemesis(events, "start", EventType::Invoke, from, value.clone());
    nemesis(
        events,
        "start",
        EventType::Info,
        from + 5 * MS,
        value.clone(),
    );
    nemesis(events, "stop", EventType::Invoke, to, value.clone());
    nemesis(events, "stop", EventType::Info, to + 5 * MS, value);
}

/// Events in time order, indexed as a history is.
fn finish(mut events: Vec<Event>) -> Vec<Event> {
    events.sort_by_key(|e| e.time);
    for (i, e) in events.iter_mut().enumerate() {
        e.index = i as u64;
    }
    events
}

fn render(events: &[Event]) -> String {
    render_page(events, None, "charts", 7)
}

/// Whether a marker sits at `at` seconds and `ms` milliseconds (within 10% of the latency).
fn drawn_at(points: &[(f64, f64)], at: f64, ms: f64) -> bool {
    points
        .iter()
        .any(|&(t, l)| (t - at).abs() < 0.05 && (l / ms).log10().abs() < 1.1f64.log10())
}

#[test]
fn the_latency_chart_draws_every_outlier_and_every_info_on_an_axis_that_reaches_them() {
    let mut events = Vec::new();
    // 20 000 operations of 1 ms by four processes over 10 s.
    for i in 0..20_000u64 {
        let f = if i % 2 == 0 { "read" } else { "write" };
        op(&mut events, i % 4, f, i * MS / 2, MS, Some(EventType::Ok));
    }
    // 150 slow ones (under 1%, so all above the p99), each by a process of its own.
    let slow: Vec<(f64, f64)> = (0..150u64)
        .map(|j| (0.3 + j as f64 * 0.06, 20.0 + (j % 7) as f64 * 9.0))
        .collect();
    for (j, &(at, ms)) in slow.iter().enumerate() {
        let f = if j % 2 == 0 { "read" } else { "write" };
        let (at, latency) = ((at * 1e9) as u64, (ms * 1e6) as u64);
        op(
            &mut events,
            100 + j as u64,
            f,
            at,
            latency,
            Some(EventType::Ok),
        );
    }
    // A stale read of 624 ms, three writes that timed out after 1 s, one never answered.
    op(
        &mut events,
        500,
        "read",
        6 * S,
        624 * MS,
        Some(EventType::Ok),
    );
    for (k, at) in [2, 5, 8].into_iter().enumerate() {
        let info = Some(EventType::Info);
        op(
            &mut events,
            600 + k as u64,
            "write",
            at * S,
            1000 * MS,
            info,
        );
    }
    op(&mut events, 700, "write", 9 * S, 0, None);
    let events = finish(events);
    let duration_s = events.last().map_or(0, |e| e.time) as f64 / 1e9;

    let html = render(&events);
    let svg = over_time_chart(&html, 0);
    let tags = tags(svg);
    let (x, y) = axes(&tags, true);
    assert!(
        y.max_tick() >= 1000.0,
        "the latency axis reaches the 1 s timeouts; its top tick is {} ms",
        y.max_tick()
    );
    let points = markers(&tags, &x, &y, duration_s);
    let missing: Vec<_> = slow
        .iter()
        .filter(|&&(at, ms)| !drawn_at(&points, at, ms))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} operations slower than the p99 are not drawn, e.g. {:?}",
        missing.len(),
        slow.len(),
        missing.first()
    );
    assert!(drawn_at(&points, 6.0, 624.0), "the 624 ms read is drawn");
    for at in [2.0, 5.0, 8.0] {
        assert!(drawn_at(&points, at, 1000.0), "the info at {at} s is drawn");
    }
    let highest = slow.iter().map(|s| s.1).fold(1000.0, f64::max);
    assert!(
        points
            .iter()
            .any(|&(t, l)| (t - 9.0).abs() < 0.05 && l > highest),
        "the operation never answered is drawn above every answered one"
    );
    // The rest is sampled: the chart stays small.
    assert!(svg.len() < 1_000_000, "{} bytes", svg.len());
}

/// The labels of fault windows as (text, x0, x1, y): width estimated generously (0.6 em a
/// character, more than sans-serif's lower case takes).
fn fault_labels<'a>(tags: &'a [Tag], names: &[&str]) -> Vec<(&'a str, f64, f64, f64, f64)> {
    tags.iter()
        .filter(|t| t.name == "text" && names.contains(&t.text.as_str()))
        .map(|t| {
            let size = t.num("font-size");
            let x = t.num("x");
            let width = t.text.chars().count() as f64 * 0.6 * size;
            (t.text.as_str(), x, x + width, t.num("y"), size)
        })
        .collect()
}

#[test]
fn overlapping_faults_of_different_families_get_their_own_colours_and_labels_that_do_not_collide() {
    let mut events = Vec::new();
    for i in 0..6_000u64 {
        op(
            &mut events,
            i % 3,
            "read",
            i * MS,
            MS / 2,
            Some(EventType::Ok),
        );
    }
    let leader = 2;
    let partition = json!({"fault": "partition", "targets": [1, 3], "leader": leader,
        "shape": "bridge", "grudge": {"1": [3], "3": [1]}});
    let kill = json!({"fault": "kill", "targets": [2], "leader": leader});
    let clock = json!({"fault": "clock", "targets": [2], "leader": leader,
        "clock": {"mode": "bump", "offset_ms": -3120}});
    fault(&mut events, S, 4 * S, partition);
    fault(&mut events, 1100 * MS, 3 * S, kill);
    fault(&mut events, 1150 * MS, 5 * S, clock);
    // Not what the nemesis does (a family's faults take turns), but an imported history may:
    // a fourth label at the same place finds no row left and is dropped, never overprinted.
    fault(
        &mut events,
        1120 * MS,
        2 * S,
        json!({"fault": "pause", "targets": [1]}),
    );
    let events = finish(events);
    let html = render(&events);

    for (n, log_y) in [(0, true), (1, false)] {
        let svg = over_time_chart(&html, n);
        let tags = tags(svg);
        let (x, _) = axes(&tags, log_y);
        // The shading of each window: translucent, taller than a marker; by start time.
        let fill_from = |at: f64| {
            tags.iter()
                .filter(|t| t.name == "rect" && t.num("opacity") < 0.5)
                .filter(|t| t.num("height") > 20.0)
                .find(|t| (x.value_at(t.num("x")) - at).abs() < 0.01)
                .and_then(|t| t.attr("fill"))
                .unwrap_or_else(|| panic!("chart {n}: no shading from {at} s"))
        };
        let fills = [fill_from(1.0), fill_from(1.1), fill_from(1.15)];
        assert!(
            fills[0] != fills[1] && fills[1] != fills[2] && fills[0] != fills[2],
            "chart {n}: partition, kill and clock share a colour: {fills:?}"
        );
        let labels = fault_labels(&tags, &["partition", "kill", "clock", "pause"]);
        assert!(labels.len() >= 3, "chart {n}: labels {labels:?}");
        for (i, a) in labels.iter().enumerate() {
            for b in &labels[i + 1..] {
                let same_row = (a.3 - b.3).abs() < a.4.max(b.4);
                let side_by_side = a.2 <= b.1 || b.2 <= a.1;
                assert!(
                    !same_row || side_by_side,
                    "chart {n}: labels print over each other: {a:?} and {b:?}"
                );
            }
        }
        for family in ["process fault", "network fault", "clock fault"] {
            assert!(svg.contains(family), "chart {n}: legend names {family}");
        }
    }

    let table = &html[html.find("<h2>Faults</h2>").expect("fault table")..];
    let table = &table[..table.find("</table>").expect("table end")];
    let row = |fault: &str| {
        table
            .split("<tr")
            .find(|r| r.contains(&format!(">{fault}<")))
            .unwrap_or_else(|| panic!("a {fault} row in {table}"))
    };
    let partition = row("partition");
    assert!(partition.contains("bridge"), "shape named: {partition}");
    assert!(
        partition.contains("bridge: n1 | n3; n2 hears all"),
        "grudge in words: {partition}"
    );
    let clock = row("clock");
    assert!(
        clock.contains("bump") && clock.contains("-3120 ms"),
        "{clock}"
    );
}

#[test]
fn the_fault_table_says_each_partition_and_clock_change_in_words() {
    let mut events = Vec::new();
    for i in 0..2_000u64 {
        op(
            &mut events,
            i % 2,
            "read",
            i * 5 * MS,
            MS,
            Some(EventType::Ok),
        );
    }
    let faults = [
        json!({"fault": "partition", "targets": [1, 2, 3], "leader": 1, "shape": "isolate-one",
            "grudge": {"1": [2, 3], "2": [1], "3": [1]}}),
        json!({"fault": "partition", "targets": [1, 2, 3], "leader": 1,
            "shape": "majorities-ring", "grudge": {"1": [2], "2": [3], "3": [1]}}),
        // Recorded before start events named their shape.
        json!({"fault": "partition", "targets": [1, 3], "leader": 1,
            "grudge": {"1": [3], "3": [1]}}),
        json!({"fault": "clock", "targets": [3], "leader": 1,
            "clock": {"mode": "strobe", "offset_ms": -556, "period_ms": 200}}),
    ];
    for (i, value) in faults.into_iter().enumerate() {
        let from = S + i as u64 * 2 * S;
        fault(&mut events, from, from + S, value);
    }
    let html = render(&finish(events));
    let table = &html[html.find("<h2>Faults</h2>").expect("fault table")..];
    let shapes: Vec<&str> = table
        .split("<td class=\"shape\">")
        .skip(1)
        .filter_map(|cell| cell.split_once("</td>").map(|(text, _)| text))
        .collect();
    assert_eq!(
        shapes,
        [
            "isolate-one: n1 | n2 n3",
            "majorities-ring: n1 cannot hear n2, n2 cannot hear n3, n3 cannot hear n1",
            "n1 | n3",
            "strobe -556 ms every 200 ms",
        ]
    );
}

/// The fill of the latency chart's `ok` dots at `ms` milliseconds (within 10%).
fn dot_colours_at(html: &str, ms: f64) -> Vec<String> {
    let tags = tags(over_time_chart(html, 0));
    let (_, y) = axes(&tags, true);
    let mut fills: Vec<String> = tags
        .iter()
        .filter(|t| t.name == "circle" && t.num("r") <= 2.0)
        .filter(|t| (y.value_at(t.num("cy")) / ms).log10().abs() < 1.1f64.log10())
        .filter_map(|t| t.attr("fill").map(str::to_ascii_lowercase))
        .collect();
    fills.sort();
    fills.dedup();
    fills
}

#[test]
fn an_operation_type_has_its_own_colour_whatever_order_a_run_met_the_types_in() {
    // Reads take 2 ms and writes 20 ms; one run starts with a read, the other with a write.
    let run = |first: &str, second: &str| {
        let mut events = Vec::new();
        for i in 0..200u64 {
            let f = if i % 2 == 0 { first } else { second };
            let latency = if f == "read" { 2 * MS } else { 20 * MS };
            op(
                &mut events,
                i % 2,
                f,
                i * 30 * MS,
                latency,
                Some(EventType::Ok),
            );
        }
        render(&finish(events))
    };
    let read = palette::operation("read").hex();
    let write = palette::operation("write").hex();
    for html in [run("read", "write"), run("write", "read")] {
        assert_eq!(dot_colours_at(&html, 2.0), vec![read.clone()], "reads");
        assert_eq!(dot_colours_at(&html, 20.0), vec![write.clone()], "writes");
    }
}

#[test]
fn fault_shades_take_their_family_colour_from_the_palette() {
    let mut events = Vec::new();
    for i in 0..3_000u64 {
        op(
            &mut events,
            i % 3,
            "read",
            i * MS,
            MS / 2,
            Some(EventType::Ok),
        );
    }
    fault(
        &mut events,
        S,
        2 * S,
        json!({"fault": "kill", "targets": [1]}),
    );
    let html = render(&finish(events));
    let process = palette::fault_family("process").hex().to_ascii_uppercase();
    assert!(
        over_time_chart(&html, 0).contains(&format!("fill=\"{process}\"")),
        "the kill is shaded {process}"
    );
}
