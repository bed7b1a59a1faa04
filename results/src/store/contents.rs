//! What a store holds: its run folders (`<test>/<timestamp>/`) and campaign folders
//! (`campaigns/<name>/<timestamp>/`), and what each concluded.
//!
//! Found without following a single symlink: a link in the store may point anywhere (a link to
//! /etc once listed forty bogus "runs"), and the `latest` links only repeat the newest run of
//! their test. A folder counts only when it is a real folder named like a timestamp, so a
//! user's notes beside the runs are neither listed nor pruned.

use std::path::{Path, PathBuf};

use super::{CAMPAIGNS, RunDir};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderKind {
    /// `<test>/<timestamp>/`: one `faultline run`.
    Run,
    /// `campaigns/<name>/<timestamp>/`: one campaign, its runs inside it.
    Campaign,
}

/// A run or campaign folder of a store.
#[derive(Debug, Clone)]
pub struct StoredFolder {
    pub kind: FolderKind,
    /// The test's or the campaign's name.
    pub group: String,
    /// The folder's name: when it started, UTC, sortable as text.
    pub stamp: String,
    pub path: PathBuf,
}

impl StoredFolder {
    /// The folder relative to the store, with `/`.
    pub fn relative(&self) -> String {
        match self.kind {
            FolderKind::Run => format!("{}/{}", self.group, self.stamp),
            FolderKind::Campaign => format!("{CAMPAIGNS}/{}/{}", self.group, self.stamp),
        }
    }

    /// What it concluded: a run's verdict (`valid`, `invalid`, `unknown`), a campaign's
    /// `passed`, `failed` or `interrupted`; `None` while it has no results.json or summary.json
    /// (still running, or its controller died).
    pub fn outcome(&self) -> Option<String> {
        match self.kind {
            FolderKind::Run => self.verdict().map(|(verdict, _)| verdict),
            FolderKind::Campaign => {
                let summary = read_json(&self.path.join("summary.json"))?;
                let outcome = if summary["interrupted"] == true {
                    "interrupted"
                } else if summary["passed"] == true {
                    "passed"
                } else {
                    "failed"
                };
                Some(outcome.to_owned())
            }
        }
    }

    /// A run's verdict and whether a signal cut it short, from one read of its results.json;
    /// `None` for a campaign, or a run without results.
    pub fn verdict(&self) -> Option<(String, bool)> {
        if self.kind != FolderKind::Run {
            return None;
        }
        let run = RunDir {
            path: self.path.clone(),
        };
        let results = read_json(&run.results())?;
        let verdict = results.get("verdict")?.as_str()?.to_owned();
        Some((verdict, results["interrupted"].is_object()))
    }

    /// Whether it finished and came out right: a valid run, a campaign whose every expectation
    /// held.
    pub fn succeeded(&self) -> bool {
        let success = match self.kind {
            FolderKind::Run => "valid",
            FolderKind::Campaign => "passed",
        };
        self.outcome().as_deref() == Some(success)
    }

    /// Whether the run has its report (a regular file, not a link).
    pub fn has_report(&self) -> bool {
        let run = RunDir {
            path: self.path.clone(),
        };
        is_regular_file(&run.report())
    }
}

/// Every run and campaign folder of `store`, newest first (by start time, then name).
pub fn stored_folders(store: &Path) -> Vec<StoredFolder> {
    let mut found = Vec::new();
    for (group, folder) in real_subfolders(store) {
        if group == CAMPAIGNS {
            for (name, campaign) in real_subfolders(&folder) {
                found.extend(stamped(FolderKind::Campaign, &name, &campaign));
            }
        } else {
            found.extend(stamped(FolderKind::Run, &group, &folder));
        }
    }
    found.sort_by(|a, b| b.stamp.cmp(&a.stamp).then(a.group.cmp(&b.group)));
    found
}

/// The timestamped folders of one test or campaign name.
pub(super) fn stamped(kind: FolderKind, group: &str, folder: &Path) -> Vec<StoredFolder> {
    real_subfolders(folder)
        .into_iter()
        .filter(|(name, _)| is_stamp(name))
        .map(|(stamp, path)| StoredFolder {
            kind,
            group: group.to_owned(),
            stamp,
            path,
        })
        .collect()
}

/// `(name, path)` of the folders directly in `dir` that are folders themselves, not links to
/// one (a directory entry's type is the entry's own, never its target's), hidden ones skipped.
pub(super) fn real_subfolders(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
        .filter(|(name, _)| !name.starts_with('.'))
        .collect()
}

/// Whether `name` is a folder name `RunDir` gives: `YYYYmmddTHHMMSS.mmmZ`.
fn is_stamp(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            8 => *c == b'T',
            15 => *c == b'.',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

pub(super) fn is_regular_file(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
}

/// A JSON file of the folder, read only when it is a regular file: a results.json linked from
/// elsewhere says nothing about this run.
fn read_json(path: &Path) -> Option<serde_json::Value> {
    if !is_regular_file(path) {
        return None;
    }
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_the_names_run_dir_gives() {
        let now = super::super::stamp_now();
        assert!(is_stamp(&now), "{now}");
        for not in [
            "latest",
            "notes",
            "20260101T000000Z",
            "20260101T000000.000Z.tmp",
        ] {
            assert!(!is_stamp(not), "{not}");
        }
    }
}
