//! The runs and campaigns in a store, newest first, with their verdicts (read from each
//! results.json or summary.json). Only what `stored_folders` finds is listed: real folders
//! inside the store, no symlink followed. The `latest` links are not listed either: each repeats
//! the newest run of its test, which is.

use std::path::Path;

use crate::store::{CAMPAIGNS, FolderKind, campaign_dirs, has_trends_page, stored_folders};

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

/// One campaign name of the store and its trends page across nights.
pub struct TrendsEntry {
    pub name: String,
    /// `campaigns/<name>/trends.html`, relative to the store.
    pub path: String,
    /// Whether `faultline trends` has written it.
    pub written: bool,
}

/// Every campaign name of the store with its trends page, by name.
pub fn trends_pages(store: &Path) -> Vec<TrendsEntry> {
    campaign_dirs(store)
        .into_iter()
        .map(|(name, dir)| TrendsEntry {
            path: format!("{CAMPAIGNS}/{name}/trends.html"),
            written: has_trends_page(&dir),
            name,
        })
        .collect()
}

/// What a run or campaign without its results (still running, or its controller died) shows.
const UNFINISHED: &str = "running or unfinished";

/// Every `campaigns/<name>/<timestamp>/` folder, newest first.
pub fn campaigns(store: &Path) -> Vec<CampaignEntry> {
    stored_folders(store)
        .into_iter()
        .filter(|f| f.kind == FolderKind::Campaign)
        .map(|f| CampaignEntry {
            outcome: f.outcome().unwrap_or_else(|| UNFINISHED.to_owned()),
            path: f.relative(),
            name: f.group,
            timestamp: f.stamp,
        })
        .collect()
}

/// Every `<test>/<timestamp>/` folder of the store, newest first.
pub fn runs(store: &Path) -> Vec<RunEntry> {
    stored_folders(store)
        .into_iter()
        .filter(|f| f.kind == FolderKind::Run)
        .map(|f| {
            let (verdict, verdict_class) = match f.verdict() {
                Some((verdict, interrupted)) => {
                    let class = match verdict.as_str() {
                        "valid" => "valid",
                        "invalid" => "invalid",
                        _ => "unknown",
                    };
                    let interrupted = if interrupted { ", interrupted" } else { "" };
                    (format!("{verdict}{interrupted}"), class)
                }
                None => (UNFINISHED.to_owned(), "unfinished"),
            };
            RunEntry {
                verdict,
                verdict_class,
                path: f.relative(),
                has_report: f.has_report(),
                test: f.group,
                timestamp: f.stamp,
            }
        })
        .collect()
}
