//! trends.html in a real browser: headless Chromium opens a generated campaign's trends page
//! from disk (offline), logs no console error, and takes a screenshot (kept in
//! FAULTLINE_SCREENSHOTS when set). The pattern of `browser.rs`, for the trends page.
//! Skipped with a reason when Chromium is absent, unless FAULTLINE_REQUIRE_PRIVILEGED=1 (CI).

use std::path::{Path, PathBuf};
use std::process::Command;

use faultline_results::trends::generate::generated_nights;
use faultline_results::trends::{TrendOptions, compute_trends, render_trends};

fn chromium() -> Option<PathBuf> {
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
            "--window-size=1200,1800",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium starts");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_trends_page_opens_offline_in_chromium_without_console_errors() {
    let Some(browser) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let trends = compute_trends(
        "generated",
        generated_nights(60, 12),
        TrendOptions::default(),
    );
    let page = dir.path().join("trends.html");
    std::fs::write(&page, render_trends(&trends).expect("renders")).expect("write");
    let png = dir.path().join("trends.png");
    let log = screenshot(&browser, &page, &png);
    let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "no screenshot ({size} bytes)\n{log}");
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(errors.is_empty(), "console errors:\n{}", errors.join("\n"));
    if let Some(keep) = std::env::var_os("FAULTLINE_SCREENSHOTS") {
        std::fs::create_dir_all(&keep).expect("FAULTLINE_SCREENSHOTS is a directory");
        std::fs::copy(&png, Path::new(&keep).join("trends.png")).expect("copy");
    }
}
