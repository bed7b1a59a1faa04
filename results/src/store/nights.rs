//! A campaign's nights as the trends read them: every `campaigns/<name>/<timestamp>/` folder in
//! time order with its summary.json (or why it has none), and where the trends pages go. Found
//! as `contents` finds folders: real folders named like a timestamp, no symlink followed.

use std::path::{Path, PathBuf};

use super::contents::{is_regular_file, real_subfolders, stamped};
use super::{CAMPAIGNS, FolderKind, RunDir, StoreError};

/// One campaign run folder and its summary.json's bytes, or why they could not be read.
#[derive(Debug, Clone)]
pub struct StoredNight {
    /// The folder's name: when the campaign started, UTC, sortable as text.
    pub stamp: String,
    pub summary: Result<Vec<u8>, String>,
}

/// Every run of the campaign whose folder is `campaign_dir`, oldest first.
pub fn campaign_nights(campaign_dir: &Path) -> Vec<StoredNight> {
    let group = campaign_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut folders = stamped(FolderKind::Campaign, &group, campaign_dir);
    folders.sort_by(|a, b| a.stamp.cmp(&b.stamp));
    folders
        .into_iter()
        .map(|folder| {
            let path = folder.path.join("summary.json");
            let summary = if !is_regular_file(&path) {
                Err("no summary.json (still running, or its controller died)".to_owned())
            } else {
                std::fs::read(&path).map_err(|e| format!("summary.json: {e}"))
            };
            StoredNight {
                stamp: folder.stamp,
                summary,
            }
        })
        .collect()
}

/// The campaign folders of a store (`<store>/campaigns/<name>`), by name; none when
/// `campaigns` is a link (it may point anywhere).
pub fn campaign_dirs(store: &Path) -> Vec<(String, PathBuf)> {
    if !is_store(store) {
        return Vec::new();
    }
    let mut dirs = real_subfolders(&store.join(CAMPAIGNS));
    dirs.sort();
    dirs
}

/// Whether `dir` is a store (it has a `campaigns` folder) rather than one campaign's folder.
pub fn is_store(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir.join(CAMPAIGNS)).is_ok_and(|m| m.is_dir())
}

/// Writes trends.html and trends.json into the campaign's folder, each through a temporary file.
pub fn write_trends(campaign_dir: &Path, html: &str, json: &str) -> Result<(), StoreError> {
    let dir = RunDir {
        path: campaign_dir.to_owned(),
    };
    dir.write_file(&campaign_dir.join("trends.json"), json.as_bytes())?;
    dir.write_file(&campaign_dir.join("trends.html"), html.as_bytes())
}

/// Whether the campaign's folder has its trends page (a regular file, not a link).
pub fn has_trends_page(campaign_dir: &Path) -> bool {
    is_regular_file(&campaign_dir.join("trends.html"))
}
