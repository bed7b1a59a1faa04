//! The pages in a real browser: headless Chromium opens a run report and a campaign index from
//! disk (offline), logs no console error, and takes a screenshot of each.
//! Skipped with a reason when Chromium is absent, unless FAULTLINE_REQUIRE_PRIVILEGED=1 (CI).

use std::path::{Path, PathBuf};
use std::process::Command;

use faultline_checker::history::{Event, EventType, Process};
use faultline_checker::{Budget, ModelKind, check_events};
use faultline_results::campaign::{CampaignRun, Expect, render_index, summarise_campaign};
use faultline_results::{ReportInput, render_report, summarise};
use serde_json::{Value, json};

fn chromium() -> Option<PathBuf> {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

/// Opens `page` headless, writes `png`, returns what the browser logged.
fn screenshot(browser: &Path, page: &Path, png: &Path) -> String {
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
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium starts");
    String::from_utf8_lossy(&out.stderr).into_owned()
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
        if std::env::var_os("FAULTLINE_REQUIRE_PRIVILEGED").is_some_and(|v| v == "1") {
            panic!("chromium is required here (FAULTLINE_REQUIRE_PRIVILEGED=1) but absent");
        }
        eprintln!("skipped: chromium is not installed (apt-get install chromium)");
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
        (
            "async".into(),
            "any".into(),
            "register".into(),
            "kill".into(),
        ),
        1,
        "runs/register-async/1".into(),
        Expect::Invalid,
        &results,
        1.0,
    );
    let summary = summarise_campaign("browser".into(), "now".into(), vec![run], false);
    let index = render_index(&summary).expect("index");
    for (name, html) in [("report", report), ("index", index)] {
        let page = dir.path().join(format!("{name}.html"));
        std::fs::write(&page, html).expect("write page");
        let png = dir.path().join(format!("{name}.png"));
        let log = screenshot(&browser, &page, &png);
        let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{name}: no screenshot ({size} bytes)\n{log}");
        let errors: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
            .collect();
        assert!(
            errors.is_empty(),
            "{name}: console errors:\n{}",
            errors.join("\n")
        );
    }
}
