//! The runs in a store, newest first, with their verdicts (read from each results.json).

use std::path::Path;

/// One run of the store, as the index page lists it.
pub struct RunEntry {
    pub test: String,
    pub timestamp: String,
    /// `valid`, `invalid`, `unknown`, or `running / unfinished` when there is no results.json.
    pub verdict: String,
    /// Path of the run's folder relative to the store, with `/`.
    pub path: String,
    pub has_report: bool,
}

/// Every `<test>/<timestamp>/` folder of the store (the `latest` links skipped), newest first.
pub fn runs(store: &Path) -> Vec<RunEntry> {
    let mut found = Vec::new();
    let Ok(tests) = std::fs::read_dir(store) else {
        return found;
    };
    for test in tests.flatten() {
        let test_name = test.file_name().to_string_lossy().into_owned();
        let Ok(runs) = std::fs::read_dir(test.path()) else {
            continue;
        };
        for run in runs.flatten() {
            let name = run.file_name().to_string_lossy().into_owned();
            let is_dir = run.file_type().is_ok_and(|t| t.is_dir());
            if name == "latest" || name.starts_with('.') || !is_dir {
                continue;
            }
            let verdict = std::fs::read(run.path().join("results.json"))
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| v.get("verdict").and_then(|v| v.as_str()).map(str::to_owned))
                .unwrap_or_else(|| "running / unfinished".to_owned());
            found.push(RunEntry {
                path: format!("{test_name}/{name}"),
                has_report: run.path().join("report.html").is_file(),
                test: test_name.clone(),
                timestamp: name,
                verdict,
            });
        }
    }
    // Timestamps sort as text (YYYYmmddTHHMMSS.mmmZ): newest first across tests.
    found.sort_by(|a, b| b.timestamp.cmp(&a.timestamp).then(a.test.cmp(&b.test)));
    found
}
