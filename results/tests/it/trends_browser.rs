//! trends.html in a real browser: headless Chromium opens a generated campaign's trends page
//! from disk (offline), logs no console error, and takes a screenshot (kept in
//! FAULTLINE_SCREENSHOTS when set). Chromium driven as `browser.rs` drives it.
//! Skipped with a reason when Chromium is absent, unless FAULTLINE_REQUIRE_PRIVILEGED=1 (CI).

use std::path::Path;

use faultline_results::trends::generate::generated_nights;
use faultline_results::trends::{TrendOptions, compute_trends, render_trends};

use crate::browser::{chromium, screenshot};

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
