//! Retention: which folders of a store `faultline prune` removes, and removing them.
//!
//! The unit is a folder `contents` finds: a run (`<test>/<timestamp>/`) or a whole campaign
//! (`campaigns/<name>/<timestamp>/`, its runs with it; they are never counted on their own).
//! Each test and each campaign name keeps its newest folders, the one its `latest` link names,
//! and (when asked) those that did not succeed. Nothing is removed through a link, so nothing
//! outside the store can be.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::path::Path;

use super::{FolderKind, StoreError, StoredFolder, stored_folders};

/// What `prune` keeps of each test and each campaign name.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// The newest folders kept. At least one: the newest may still be running, and its test's
    /// `latest` link points at it.
    pub keep_last: NonZeroUsize,
    /// Also keep every run that is not valid (or never finished) and every campaign that did
    /// not pass.
    pub keep_failures: bool,
}

/// A folder to remove and the bytes of the files in it.
#[derive(Debug, Clone)]
pub struct Removal {
    pub folder: StoredFolder,
    pub bytes: u64,
}

/// The folders of `store` that `retention` does not keep, oldest first.
pub fn plan_removals(store: &Path, retention: Retention) -> Vec<Removal> {
    let mut groups: BTreeMap<(bool, String), Vec<StoredFolder>> = BTreeMap::new();
    for folder in stored_folders(store) {
        let key = (folder.kind == FolderKind::Campaign, folder.group.clone());
        groups.entry(key).or_default().push(folder);
    }
    let mut removals = Vec::new();
    for folders in groups.into_values() {
        // `stored_folders` lists newest first.
        let latest = folders.first().and_then(|f| latest_target(&f.path));
        for folder in folders.into_iter().skip(retention.keep_last.get()) {
            let kept = latest.as_deref() == Some(folder.stamp.as_str())
                || (retention.keep_failures && !folder.succeeded());
            if !kept {
                let bytes = bytes_under(&folder.path);
                removals.push(Removal { folder, bytes });
            }
        }
    }
    removals.sort_by(|a, b| a.folder.stamp.cmp(&b.folder.stamp));
    removals
}

/// The folder name the `latest` link beside `folder` points at.
fn latest_target(folder: &Path) -> Option<String> {
    let link = folder.parent()?.join("latest");
    let target = std::fs::read_link(link).ok()?;
    Some(target.file_name()?.to_str()?.to_owned())
}

/// Bytes of the regular files under `path`, links not followed.
fn bytes_under(path: &Path) -> u64 {
    walkdir::WalkDir::new(path)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// Removes one planned folder. It is checked again to be a real folder (not a link put there
/// since), and `remove_dir_all` removes links inside it without following them.
pub fn remove_folder(removal: &Removal) -> Result<(), StoreError> {
    let path = &removal.folder.path;
    let io = |error| StoreError::Io {
        path: path.clone(),
        error,
    };
    let meta = std::fs::symlink_metadata(path).map_err(io)?;
    if !meta.is_dir() {
        return Err(io(std::io::Error::other(
            "no longer a folder of the store; left alone",
        )));
    }
    std::fs::remove_dir_all(path).map_err(io)
}
