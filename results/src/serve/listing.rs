//! The runs in a store, newest first, with their verdicts (read from each results.json).

use std::path::Path;

use crate::store::RunDir;

/// One run of the store, as the index page lists it.
pub struct RunEntry {
    pub test: String,
    pub timestamp: String,
    /// `valid`, `invalid`, `unknown` (with `, interrupted` for a run cut short by a signal),
    /// or `running or unfinished` when there is no results.json.
    pub verdict: String,
    /// A CSS class for the verdict: `valid`, `invalid`, `unknown` or `unfinished`.
    pub verdict_class: &'static str,
    /// Path of the run's folder relative to the store, with `/`.
    pub path: String,
    pub has_report: bool,
}

/// One campaign of the store, as the index page lists it.
pub struct CampaignEntry {
    pub name: String,
    pub timestamp: String,
    /// `passed`, `failed`, `interrupted`, or `running or unfinished` without summary.json.
    pub outcome: String,
    pub path: String,
}

/// What a run or campaign without its results (still running, or its controller died) shows.
const UNFINISHED: &str = "running or unfinished";

/// The folder campaigns live in, beside the tests' folders.
const CAMPAIGNS: &str = "campaigns";

/// Every `campaigns/<name>/<timestamp>/` folder, newest first.
pub fn campaigns(store: &Path) -> Vec<CampaignEntry> {
    let mut found = Vec::new();
    for (name, stamp, dir) in timestamped(&store.join(CAMPAIGNS)) {
        let summary = std::fs::read(dir.join("summary.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
        let outcome = match summary {
            None => UNFINISHED,
            Some(s) if s["interrupted"] == true => "interrupted",
            Some(s) if s["passed"] == true => "passed",
            Some(_) => "failed",
        };
        found.push(CampaignEntry {
            path: format!("{CAMPAIGNS}/{name}/{stamp}"),
            name,
            timestamp: stamp,
            outcome: outcome.to_owned(),
        });
    }
    found.sort_by(|a, b| b.timestamp.cmp(&a.timestamp));
    found
}

/// `(group, timestamp, folder)` for every `<group>/<timestamp>/` under `root`, skipping the
/// `latest` links and hidden entries.
fn timestamped(root: &Path) -> Vec<(String, String, std::path::PathBuf)> {
    let mut found = Vec::new();
    let Ok(groups) = std::fs::read_dir(root) else {
        return found;
    };
    for group in groups.flatten() {
        let group_name = group.file_name().to_string_lossy().into_owned();
        let Ok(entries) = std::fs::read_dir(group.path()) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if name == "latest" || name.starts_with('.') || !is_dir {
                continue;
            }
            found.push((group_name.clone(), name, entry.path()));
        }
    }
    found
}

/// Every `<test>/<timestamp>/` folder of the store (the `latest` links skipped), newest first.
pub fn runs(store: &Path) -> Vec<RunEntry> {
    let mut found = Vec::new();
    for (test, stamp, dir) in timestamped(store) {
        if test == CAMPAIGNS {
            continue;
        }
        let run = RunDir { path: dir };
        let results = std::fs::read(run.results())
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
        let (verdict, verdict_class) = match results {
            Some(r) => {
                let class = match r["verdict"].as_str() {
                    Some("valid") => "valid",
                    Some("invalid") => "invalid",
                    _ => "unknown",
                };
                let interrupted = if r["interrupted"].is_object() {
                    ", interrupted"
                } else {
                    ""
                };
                (format!("{class}{interrupted}"), class)
            }
            None => (UNFINISHED.to_owned(), "unfinished"),
        };
        found.push(RunEntry {
            path: format!("{test}/{stamp}"),
            has_report: run.report().is_file(),
            test,
            timestamp: stamp,
            verdict,
            verdict_class,
        });
    }
    // Timestamps sort as text (YYYYmmddTHHMMSS.mmmZ): newest first across tests.
    found.sort_by(|a, b| b.timestamp.cmp(&a.timestamp).then(a.test.cmp(&b.test)));
    found
}
