//! The result store: `<store>/<test>/<timestamp>/` per run, `<store>/<test>/latest` pointing at
//! the newest.

use std::path::{Path, PathBuf};

use faultline_checker::history::{Event, read_jsonl};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{source}", path.display())]
    History {
        path: PathBuf,
        source: faultline_checker::import::ParseError,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// One run's folder.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub path: PathBuf,
}

impl RunDir {
    /// Creates `<store>/<test>/<timestamp>/` (UTC, milliseconds: sortable, unique per test).
    pub fn create(store: &Path, test: &str) -> Result<RunDir, StoreError> {
        let stamp = jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%S%.3fZ")
            .to_string();
        let path = store.join(test).join(stamp);
        std::fs::create_dir_all(path.join("nodes")).map_err(io(&path))?;
        Ok(RunDir { path })
    }

    /// Creates `<store>/campaigns/<name>/<timestamp>/` for a campaign's outputs.
    pub fn create_campaign(store: &Path, name: &str) -> Result<RunDir, StoreError> {
        let stamp = jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%S%.3fZ")
            .to_string();
        let path = store.join("campaigns").join(name).join(stamp);
        std::fs::create_dir_all(&path).map_err(io(&path))?;
        Ok(RunDir { path })
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
            source: std::io::Error::other(e),
        })?;
        self.write_file(path, (text + "\n").as_bytes())
    }

    /// Writes a file through a temporary one, so a reader never sees half of it.
    pub fn write_file(&self, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
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
    let events = read_jsonl(&bytes).map_err(|source| StoreError::History {
        path: path.to_owned(),
        source,
    })?;
    Ok((events, torn))
}
