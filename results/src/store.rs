//! The result store: `<store>/<test>/<timestamp>/` per run, `<store>/<test>/latest` pointing at
//! the newest, `<store>/campaigns/<name>/<timestamp>/` per campaign (its runs in `runs/`);
//! `contents` finds them without following a link, `prune` removes the ones not kept, `nights`
//! reads a campaign's summaries for the trends and writes the trends pages.

mod contents;
mod nights;
mod prune;

use std::path::{Path, PathBuf};

use faultline_checker::history::{Event, read_jsonl};

pub use contents::{FolderKind, StoredFolder, stored_folders};
pub use nights::{
    StoredNight, campaign_dirs, campaign_nights, has_trends_page, is_store, write_trends,
};
pub use prune::{Removal, Retention, plan_removals, remove_folder};

/// The folder campaigns live in, beside the tests' folders.
pub(crate) const CAMPAIGNS: &str = "campaigns";

// The OS error is part of each message and deliberately not a `source`: an error chain printed
// in full (`{:#}`) would say it twice.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create store folder {}: {error}", path.display())]
    CreateStore {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}:{error}", path.display())]
    History {
        path: PathBuf,
        error: faultline_checker::import::ParseError,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |error| StoreError::Io {
        path: path.to_owned(),
        error,
    }
}

/// Creates the store itself first, so a store that cannot be created is named as such rather
/// than as the first folder inside it.
fn create_store(store: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(store).map_err(|error| StoreError::CreateStore {
        path: store.to_owned(),
        error,
    })
}

/// A sortable, unique name for a folder created now: its UTC start time with milliseconds.
fn stamp_now() -> String {
    jiff::Timestamp::now().strftime(STAMP_FORMAT).to_string()
}

/// `YYYYmmddTHHMMSS.mmmZ`: run and campaign folders are named so, and nothing else in a store is.
const STAMP_FORMAT: &str = "%Y%m%dT%H%M%S%.3fZ";

/// One run's folder.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub path: PathBuf,
}

impl RunDir {
    /// Creates `<store>/<test>/<timestamp>/` (UTC, milliseconds: sortable, unique per test).
    pub fn create(store: &Path, test: &str) -> Result<RunDir, StoreError> {
        create_store(store)?;
        let path = store.join(test).join(stamp_now());
        std::fs::create_dir_all(path.join("nodes")).map_err(io(&path))?;
        Ok(RunDir { path })
    }

    /// Creates `<store>/campaigns/<name>/<timestamp>/` for a campaign's outputs.
    pub fn create_campaign(store: &Path, name: &str) -> Result<RunDir, StoreError> {
        create_store(store)?;
        let path = store.join(CAMPAIGNS).join(name).join(stamp_now());
        std::fs::create_dir_all(&path).map_err(io(&path))?;
        Ok(RunDir { path })
    }

    /// The store this run is in, from the layout alone: `<store>/<test>/<timestamp>`, or
    /// `<store>/campaigns/<name>/<timestamp>/runs/<test>/<timestamp>` for a campaign's run.
    pub fn store(&self) -> Option<&Path> {
        let tests = self.path.parent()?.parent()?;
        let named = |p: &Path, name: &str| p.file_name().is_some_and(|n| n == name);
        if named(tests, "runs") {
            let campaigns = tests.ancestors().nth(3);
            if let Some(campaigns) = campaigns.filter(|c| named(c, CAMPAIGNS)) {
                return campaigns.parent();
            }
        }
        Some(tests)
    }

    pub fn history(&self) -> PathBuf {
        self.path.join("history.jsonl")
    }

    pub fn spec(&self) -> PathBuf {
        self.path.join("test.json")
    }

    pub fn results(&self) -> PathBuf {
        self.path.join("results.json")
    }

    pub fn controller_log(&self) -> PathBuf {
        self.path.join("faultline.log")
    }

    pub fn report(&self) -> PathBuf {
        self.path.join("report.html")
    }

    /// Every node's data folder (`data/n<id>`: its WAL).
    pub fn node_data(&self) -> PathBuf {
        self.path.join("data")
    }

    /// Removes the nodes' data: most of a run's size, worth keeping only to look into a run
    /// that went wrong. Never follows a link out of the run.
    pub fn remove_node_data(&self) -> Result<(), StoreError> {
        let data = self.node_data();
        match std::fs::symlink_metadata(&data) {
            Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&data).map_err(io(&data)),
            Ok(_) => std::fs::remove_file(&data).map_err(io(&data)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(&data)(e)),
        }
    }

    /// The controller's estimates of the nodes' clock offsets, one JSON line each.
    pub fn clocks(&self) -> PathBuf {
        self.path.join("clocks.jsonl")
    }

    /// Points `<store>/<test>/latest` at this run (replacing the link atomically).
    pub fn mark_latest(&self) -> Result<(), StoreError> {
        let (Some(parent), Some(name)) = (self.path.parent(), self.path.file_name()) else {
            return Ok(());
        };
        let link = parent.join("latest");
        let tmp = parent.join(format!(".latest-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(name, &tmp).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &link).map_err(io(&link))
    }

    /// Writes `value` as pretty JSON through `write_file`.
    pub fn write_json<T: serde::Serialize>(
        &self,
        path: &Path,
        value: &T,
    ) -> Result<(), StoreError> {
        let text = serde_json::to_string_pretty(value).map_err(|e| StoreError::Io {
            path: path.to_owned(),
            error: std::io::Error::other(e),
        })?;
        self.write_file(path, (text + "\n").as_bytes())
    }

    /// Writes a file through a temporary one, so a reader never sees half of it.
    pub fn write_file(&self, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        // A leftover temporary file (a crash between write and rename) or a link planted in its
        // place is removed, never followed: `remove_file` unlinks a link itself, and
        // `create_new` refuses whatever appears in between.
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&tmp)(e)),
            _ => {}
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io(&tmp))?;
        std::io::Write::write_all(&mut file, bytes).map_err(io(&tmp))?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(io(path))
    }
}

/// One estimate of a node's clock offset, as `clocks.jsonl` records it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ClockSample {
    /// Nanoseconds since the run started.
    pub time: u64,
    pub node: u32,
    pub offset_ms: f64,
}

/// Reads a run's clock samples; a missing file (no sampling, an older run) is no samples, and a
/// line that does not parse (a torn last line) is skipped: they are for a chart, not a verdict.
pub fn read_clock_samples(path: &Path) -> Vec<ClockSample> {
    std::fs::read_to_string(path)
        .map(|text| {
            text.lines()
                .filter_map(|line| serde_json::from_str(line).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Reads a run's history. A controller killed mid-write can leave a last line without its
/// newline: that torn line is dropped (and counted), everything before it is read as usual.
pub fn read_run_history(path: &Path) -> Result<(Vec<Event>, bool), StoreError> {
    let mut bytes = std::fs::read(path).map_err(io(path))?;
    let torn = !bytes.is_empty() && !bytes.ends_with(b"\n");
    if torn {
        let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        bytes.truncate(keep);
    }
    let events = read_jsonl(&bytes).map_err(|error| StoreError::History {
        path: path.to_owned(),
        error,
    })?;
    Ok((events, torn))
}
