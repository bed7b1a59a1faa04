//! The pages in a real browser: headless Chromium opens a run report and a campaign index from
//! disk (offline), logs no console error, and takes a screenshot of each; and the history
//! explorer of an invalid run, driven through the page itself (a harness page loads the report
//! in an iframe, moves the mouse and clicks, and writes what it saw into its own DOM, which
//! Chromium dumps).
//! Skipped with a reason when Chromium is absent, unless FAULTLINE_REQUIRE_PRIVILEGED=1 (CI).

use std::path::{Path, PathBuf};
use std::process::Command;

use faultline_checker::history::{Event, EventType, Process};
use faultline_checker::{Budget, ModelKind, check_events};
use faultline_results::campaign::{CampaignRun, Expect, Setup, render_index, summarise_campaign};
use faultline_results::{ClockSample, ReportInput, render_report, summarise};
use serde_json::{Value, json};

pub(crate) fn chromium() -> Option<PathBuf> {
    let found = [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.is_file());
    if found.is_none() {
        if std::env::var_os("FAULTLINE_REQUIRE_PRIVILEGED").is_some_and(|v| v == "1") {
            panic!("chromium is required here (FAULTLINE_REQUIRE_PRIVILEGED=1) but absent");
        }
        eprintln!("skipped: chromium is not installed (apt-get install chromium)");
    }
    found
}

/// Opens `page` (a file URL, fragment allowed) headless with `extra` flags; returns what the
/// browser printed (stdout: a dumped DOM) and logged (stderr).
pub(crate) fn open(browser: &Path, page: &str, extra: &[String]) -> (String, String) {
    let profile = tempfile::tempdir().expect("profile dir");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1100,1800",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(page)
        .output()
        .expect("chromium starts");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Opens `page` headless, writes `png`, returns what the browser logged.
pub(crate) fn screenshot(browser: &Path, page: &Path, png: &Path) -> String {
    let url = format!("file://{}", page.display());
    open(browser, &url, &[format!("--screenshot={}", png.display())]).1
}

fn console_errors(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect()
}

fn history() -> Vec<Event> {
    let mut events = Vec::new();
    for (i, (p, kind, f, v)) in [
        (0, EventType::Invoke, "write", json!(1)),
        (0, EventType::Ok, "write", json!(1)),
        (0, EventType::Invoke, "write", json!(2)),
        (0, EventType::Ok, "write", json!(2)),
        (1, EventType::Invoke, "read", Value::Null),
        (1, EventType::Ok, "read", json!(1)),
    ]
    .into_iter()
    .enumerate()
    {
        events.push(Event {
            index: i as u64,
            time: i as u64 * 1_000_000,
            process: Process::Client(p),
            kind,
            f: f.to_owned(),
            key: Some("r".into()),
            value: v,
            error: None,
            node: None,
        });
    }
    events
}

#[test]
fn reports_open_offline_in_chromium_without_console_errors() {
    let Some(browser) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let events = history();
    let check =
        check_events(&events, ModelKind::CasRegister, None, Budget::default()).expect("fits");
    let results = summarise(&events, Some(check), false);
    let spec = json!({"name": "browser", "seed": 1, "nodes": 3});
    let report = render_report(&ReportInput {
        spec: &spec,
        results: &results,
        events: &events,
        clocks: &[],
    })
    .expect("report");
    let run = CampaignRun::new(
        "register-async".into(),
        Setup::kvnode("async", "any", "register", "kill"),
        1,
        "runs/register-async/1".into(),
        Expect::Invalid,
        &results,
        1.0,
    );
    let summary = summarise_campaign("browser".into(), "now".into(), vec![run], false);
    let index = render_index(&summary).expect("index");
    // A valid run's report too: no counterexample, no anomalies for the explorer to list.
    let valid = &events[..4];
    let valid_results = summarise(valid, None, false);
    let valid_report = render_report(&ReportInput {
        spec: &spec,
        results: &valid_results,
        events: valid,
        clocks: &[],
    })
    .expect("valid report");
    for (name, html) in [
        ("report", report),
        ("report-valid", valid_report),
        ("index", index),
    ] {
        let page = dir.path().join(format!("{name}.html"));
        std::fs::write(&page, html).expect("write page");
        let png = dir.path().join(format!("{name}.png"));
        let log = screenshot(&browser, &page, &png);
        let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{name}: no screenshot ({size} bytes)\n{log}");
        let errors = console_errors(&log);
        assert!(
            errors.is_empty(),
            "{name}: console errors:\n{}",
            errors.join("\n")
        );
    }
}

/// A run of 2 s: process 0 writes 1, 2, 3, ... every 20 ms (each answered in 1 ms by n1),
/// processes 1 to 3 read the latest value, and at 1.2 s, under a partition, process 2 reads the
/// first value again from n3 (a stale read, 1 ms long: a sliver at full range). Returns the
/// events and the stale read's history index.
fn invalid_run() -> (Vec<Event>, u64) {
    let ms = 1_000_000u64;
    let mut events: Vec<Event> = Vec::new();
    let mut push = |time: u64, process: Process, kind: EventType, f: &str, value: Value| {
        let node = match (process, kind) {
            (Process::Client(_), EventType::Ok) if f == "read" && time > 1200 * ms => "n3",
            (Process::Client(_), EventType::Ok) => "n1",
            _ => "",
        };
        events.push(Event {
            index: events.len() as u64,
            time,
            process,
            kind,
            f: f.to_owned(),
            key: (process != Process::Nemesis).then(|| "r".to_owned()),
            value,
            error: None,
            node: (!node.is_empty()).then(|| node.to_owned()),
        });
        events.len() as u64 - 1
    };
    let nemesis = |f: &str| json!({"fault": "partition", "targets": [3], "leader": 1, "f": f});
    let mut stale = 0;
    for k in 0..100u64 {
        let t = k * 20 * ms;
        if k == 50 {
            push(
                t,
                Process::Nemesis,
                EventType::Invoke,
                "start",
                nemesis("start"),
            );
            push(
                t + ms,
                Process::Nemesis,
                EventType::Info,
                "start",
                nemesis("start"),
            );
        }
        if k == 70 {
            push(
                t,
                Process::Nemesis,
                EventType::Invoke,
                "stop",
                nemesis("stop"),
            );
            push(
                t + ms,
                Process::Nemesis,
                EventType::Info,
                "stop",
                nemesis("stop"),
            );
        }
        push(
            t + 2 * ms,
            Process::Client(0),
            EventType::Invoke,
            "write",
            json!(k + 1),
        );
        push(
            t + 3 * ms,
            Process::Client(0),
            EventType::Ok,
            "write",
            json!(k + 1),
        );
        let reader = 1 + k % 3;
        let at = push(
            t + 5 * ms,
            Process::Client(reader),
            EventType::Invoke,
            "read",
            Value::Null,
        );
        let value = if k == 60 { json!(1) } else { json!(k + 1) };
        if k == 60 {
            stale = at;
        }
        push(
            t + 6 * ms,
            Process::Client(reader),
            EventType::Ok,
            "read",
            value,
        );
    }
    (events, stale)
}

/// The harness: loads `report` (with `fragment`) in an iframe, waits for the explorer, checks
/// it through the page (lanes, the blocked operation's width, a hover's tooltip, a click's
/// selection), writes its findings as JSON into `#findings`, and scrolls the explorer into
/// view for the screenshot.
fn harness(report: &str, fragment: &str, blocked: u64) -> String {
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><style>body {{ margin: 0; }}</style></head><body>
<pre id="findings">pending</pre>
<iframe id="report" src="{report}{fragment}" width="1080" height="900" style="border: 0"></iframe>
<script>
const frame = document.getElementById("report");
const out = document.getElementById("findings");
function done(found) {{ out.textContent = "FINDINGS " + JSON.stringify(found) + " END"; }}
frame.addEventListener("load", function wait() {{
  const w = frame.contentWindow, api = w.faultlineExplorer;
  if (!api || !api.ready) {{ setTimeout(wait, 10); return; }}
  const doc = frame.contentDocument, found = {{}};
  try {{
    found.readyAt = api.readyAt;
    found.lanes = api.lanes().map(l => l.name);
    found.stats = api.stats();
    found.view = api.view();
    const r = api.rectOf({blocked});
    found.blockedWidth = r ? r.width : null;
    const cx = doc.getElementById("cx-blocked");
    found.cxWidth = cx ? cx.getBoundingClientRect().width : null;
    const canvas = doc.querySelector(".explorer-canvas");
    const at = {{ clientX: r.x + r.width / 2, clientY: r.y + r.height / 2, bubbles: true }};
    canvas.dispatchEvent(new w.MouseEvent("mousemove", at));
    const tip = doc.querySelector(".explorer-tip");
    found.tip = tip.textContent;
    found.tipShown = w.getComputedStyle(tip).display !== "none";
    canvas.dispatchEvent(new w.MouseEvent("mousedown", at));
    canvas.dispatchEvent(new w.MouseEvent("mouseup", at));
    canvas.dispatchEvent(new w.MouseEvent("click", at));
    found.selected = api.selected();
    found.highlighted = api.highlighted();
    found.selection = doc.querySelector(".explorer-selection").textContent;
    const links = Array.from(doc.querySelectorAll(".explorer-anomalies a"));
    found.anomalyLinks = links.map(a => a.getAttribute("href"));
    // The wheel zooms around the pointer.
    const before = api.view();
    canvas.dispatchEvent(new w.WheelEvent("wheel", {{ deltaY: -300, clientX: at.clientX, clientY: at.clientY, bubbles: true, cancelable: true }}));
    const after = api.view();
    found.wheelZoom = (after[1] - after[0]) / (before[1] - before[0]);
    // Dragging across 200 px zooms to that range.
    api.zoomTo(0, 1e9);
    const box = canvas.getBoundingClientRect(), y = box.top + api.lanes()[0].top + 4;
    canvas.dispatchEvent(new w.MouseEvent("mousedown", {{ clientX: box.left + 300, clientY: y, bubbles: true }}));
    w.dispatchEvent(new w.MouseEvent("mousemove", {{ clientX: box.left + 500, clientY: y }}));
    w.dispatchEvent(new w.MouseEvent("mouseup", {{ clientX: box.left + 500, clientY: y }}));
    found.dragView = api.view();
    // An anomaly's link selects its operation and zooms onto it (through the fragment).
    api.zoomTo(0, 0.001);
    links[0].click();
    found.linkSelected = api.selected();
    found.linkView = api.view();
    // A range in the fragment zooms to it.
    w.location.hash = "t=0.5-0.6";
    setTimeout(() => {{
      found.rangeView = api.view();
      // Back to what the screenshot shows: the whole run, or zoomed onto the operation.
      if ("{fragment}") api.select({blocked}); else api.zoomTo(0, 1e9);
      doc.getElementById("explorer").scrollIntoView();
      done(found);
    }}, 100);
  }} catch (e) {{ found.error = String(e && e.stack || e); done(found); }}
}});
</script></body></html>"#
    )
}

/// The harness's findings from a dumped DOM.
fn findings(dom: &str) -> Value {
    let from = dom.find("FINDINGS ").map(|i| i + 9);
    let to = dom.find(" END");
    match (from, to) {
        (Some(a), Some(b)) if a < b => {
            let text = dom[a..b]
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&");
            serde_json::from_str(&text).expect("findings are JSON")
        }
        _ => panic!("the harness wrote no findings:\n{dom}"),
    }
}

#[test]
fn the_explorer_draws_every_lane_and_shows_the_blocked_operation() {
    let Some(browser) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let (events, stale) = invalid_run();
    let check =
        check_events(&events, ModelKind::CasRegister, None, Budget::default()).expect("fits");
    let results = summarise(&events, Some(check), false);
    let blocked = results
        .linearizability
        .as_ref()
        .and_then(|c| c.explanation.as_ref())
        .map(|e| e.op.invoke_index)
        .expect("the history is not linearizable");
    assert_eq!(blocked, stale, "the checker blocks on the stale read");
    let spec = json!({"name": "explorer", "seed": 2, "nodes": 3});
    // n3's clock set back 3 s from 1 s on.
    let clocks: Vec<ClockSample> = (0..3u64)
        .flat_map(|s| {
            (1..=3u32).map(move |node| ClockSample {
                time: s * 1_000_000_000,
                node,
                offset_ms: if node == 3 && s >= 1 { -3000.0 } else { 0.2 },
            })
        })
        .collect();
    let report = render_report(&ReportInput {
        spec: &spec,
        results: &results,
        events: &events,
        clocks: &clocks,
    })
    .expect("report");
    std::fs::write(dir.path().join("report.html"), report).expect("write report");
    let flags = |extra: &str| {
        vec![
            "--allow-file-access-from-files".to_owned(),
            "--virtual-time-budget=5000".to_owned(),
            extra.to_owned(),
        ]
    };
    for (name, fragment) in [("full", String::new()), ("cx", format!("#op={blocked}"))] {
        let page = dir.path().join(format!("explorer-{name}.html"));
        std::fs::write(&page, harness("report.html", &fragment, blocked)).expect("harness");
        let url = format!("file://{}", page.display());
        let (dom, log) = open(&browser, &url, &flags("--dump-dom"));
        let errors = console_errors(&log);
        assert!(
            errors.is_empty(),
            "{name}: console errors:\n{}",
            errors.join("\n")
        );
        let found = findings(&dom);
        eprintln!("{name}: {found}");
        assert!(found["error"].is_null(), "{name}: {}", found["error"]);
        assert_eq!(
            found["lanes"],
            json!(["process 0", "process 1", "process 2", "process 3"]),
            "{name}: a lane per process, in order"
        );
        assert_eq!(found["stats"]["lanesDrawn"], 4, "{name}: every lane drawn");
        let width = found["blockedWidth"].as_f64().expect("blocked op drawn");
        assert!(width >= 2.0, "{name}: blocked op {width} px wide");
        let cx = found["cxWidth"].as_f64().expect("#cx-blocked drawn");
        assert!(cx >= 2.0, "{name}: #cx-blocked {cx} px wide");
        let tip = found["tip"].as_str().unwrap_or_default();
        assert!(found["tipShown"] == true, "{name}: tooltip shown");
        assert!(
            tip.contains(&format!("#{blocked} ")),
            "{name}: tooltip {tip:?}"
        );
        assert!(
            tip.contains("node n3"),
            "{name}: tooltip names the node: {tip:?}"
        );
        assert!(
            tip.contains("clocks at") && tip.contains("n3 -3000 ms"),
            "{name}: tooltip gives the clocks: {tip:?}"
        );
        assert_eq!(found["selected"], blocked, "{name}: the click selects it");
        // Every operation is on key "r": all 200 highlighted.
        assert_eq!(found["highlighted"], 200, "{name}");
        let links = found["anomalyLinks"].as_array().expect("anomaly list");
        assert!(
            links.contains(&json!(format!("#op={blocked}"))),
            "{name}: {links:?}"
        );
        let dv = found["dragView"].as_array().expect("view after a drag");
        let (from, to) = (dv[0].as_f64().unwrap_or(0.0), dv[1].as_f64().unwrap_or(9.0));
        assert!(
            from > 0.3 && to < 1.5 && to - from < 0.6,
            "{name}: dragged to {dv:?}"
        );
        let rv = found["rangeView"].as_array().expect("view after #t=");
        let (from, to) = (rv[0].as_f64().unwrap_or(0.0), rv[1].as_f64().unwrap_or(0.0));
        assert!(
            (from - 0.5).abs() < 1e-6 && (to - 0.6).abs() < 1e-6,
            "{name}: #t= gave {rv:?}"
        );
        let zoom = found["wheelZoom"].as_f64().unwrap_or(1.0);
        assert!(zoom < 0.9, "{name}: the wheel zooms in ({zoom})");
        assert_eq!(found["linkSelected"], blocked, "{name}: the link selects");
        let lv = found["linkView"].as_array().expect("view after the link");
        let (from, to) = (lv[0].as_f64().unwrap_or(0.0), lv[1].as_f64().unwrap_or(0.0));
        assert!(
            from < 1.205 && 1.206 < to && to - from < 0.1,
            "{name}: {lv:?}"
        );
        let view = found["view"].as_array().expect("view");
        let span = view[1].as_f64().unwrap_or(0.0) - view[0].as_f64().unwrap_or(0.0);
        if name == "full" {
            assert!(span > 1.9, "{name}: the whole run at first ({span} s)");
        } else {
            assert!(span < 0.1, "{name}: zoomed onto the op ({span} s)");
            assert!(width > 50.0, "{name}: the op fills the view ({width} px)");
        }
        let png = dir.path().join(format!("explorer-{name}.png"));
        let log = open(
            &browser,
            &url,
            &flags(&format!("--screenshot={}", png.display())),
        )
        .1;
        let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{name}: no screenshot ({size} bytes)\n{log}");
        eprintln!("screenshot: {}", png.display());
    }
    // Kept for a look when asked (the temp dir goes otherwise).
    if let Some(keep) = std::env::var_os("FAULTLINE_SCREENSHOTS") {
        std::fs::create_dir_all(&keep).expect("FAULTLINE_SCREENSHOTS is a directory");
        for name in ["full", "cx"] {
            let png = format!("explorer-{name}.png");
            std::fs::copy(dir.path().join(&png), Path::new(&keep).join(&png)).expect("copy");
        }
    }
}
