//! The `faketime` clock backend: one libfaketime timestamp file per node, rewritten to move
//! that node's wall clock.
//!
//! Invariant: the files live in `$TMPDIR/faultline-faketime-<controller pid>-<n>/` and are
//! removed when the `FaketimeFiles` (owned by the `Cluster`) is dropped; a controller killed
//! before that leaves them to `remove_stale_files`, which every controller start runs. A node
//! whose file is gone runs on real time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use faultline_nemeses::{ClockError, Clocks, NodeId};

use crate::hosts::{AnyHost, Host};

/// The timestamp files of a cluster's nodes.
#[derive(Debug)]
pub struct FaketimeFiles {
    dir: PathBuf,
    library: PathBuf,
    files: BTreeMap<NodeId, PathBuf>,
}

impl FaketimeFiles {
    /// Creates this controller's next folder under the temp dir and a file per node reading
    /// "+0" (real time).
    pub fn create(library: &Path, ids: &[NodeId]) -> std::io::Result<FaketimeFiles> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        Self::create_in(&dir, library, ids)
    }

    fn create_in(dir: &Path, library: &Path, ids: &[NodeId]) -> std::io::Result<FaketimeFiles> {
        std::fs::create_dir_all(dir)?;
        let mut files = BTreeMap::new();
        for &id in ids {
            let path = dir.join(format!("n{id}.faketime"));
            write_offset(&path, 0)?;
            files.insert(id, path);
        }
        Ok(FaketimeFiles {
            dir: dir.to_owned(),
            library: library.to_owned(),
            files,
        })
    }

    /// The environment node `id` starts with.
    pub fn env(&self, id: NodeId) -> Vec<(String, String)> {
        let Some(file) = self.files.get(&id) else {
            return Vec::new();
        };
        faketime_env(&self.library, &file.display().to_string())
    }

    /// The library the nodes preload.
    pub fn library(&self) -> &Path {
        &self.library
    }

    pub fn clocks(&self) -> FaketimeClocks {
        FaketimeClocks {
            files: self
                .files
                .iter()
                .map(|(&id, path)| (id, ClockFile::Local(path.clone())))
                .collect(),
        }
    }

    pub fn paths(&self) -> Vec<PathBuf> {
        self.files.values().cloned().collect()
    }
}

/// The environment of a process under libfaketime reading its offset from `file`.
pub fn faketime_env(library: &Path, file: &str) -> Vec<(String, String)> {
    vec![
        ("LD_PRELOAD".into(), library.display().to_string()),
        ("FAKETIME_TIMESTAMP_FILE".into(), file.to_owned()),
        // Read the file on every call, so a rewrite takes effect at once.
        ("FAKETIME_NO_CACHE".into(), "1".into()),
        // tokio's timers run on the monotonic clock; faking it hangs them.
        ("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into()),
    ]
}

/// A remote node's timestamp file's contents at the start: real time.
pub const REAL_TIME: &str = "+0.000\n";

const PREFIX: &str = "faultline-faketime-";

/// Removes the timestamp folders of controllers that are no longer running. Best effort.
pub fn remove_stale_files() {
    let tmp = std::env::temp_dir();
    let Ok(entries) = std::fs::read_dir(&tmp) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !crate::machine::process_alive(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

impl Drop for FaketimeFiles {
    fn drop(&mut self) {
        for path in self.files.values() {
            let _ = std::fs::remove_file(path);
        }
        // Only if empty: never remove what someone else put there.
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Moves clocks by rewriting the files.
pub struct FaketimeClocks {
    files: BTreeMap<NodeId, ClockFile>,
}

/// Where a node's timestamp file is.
enum ClockFile {
    /// On this machine (loopback and netns hosts).
    Local(PathBuf),
    /// On the node's ssh host, rewritten over its connection.
    Remote { host: Arc<AnyHost>, path: String },
}

impl FaketimeClocks {
    /// Node `id`'s file is `path` on its (ssh) `host` instead of a local one.
    pub fn on_host(mut self, id: NodeId, host: Arc<AnyHost>, path: String) -> FaketimeClocks {
        self.files.insert(id, ClockFile::Remote { host, path });
        self
    }
}

impl Clocks for FaketimeClocks {
    async fn set_offset(&self, node: NodeId, offset_ms: i64) -> Result<(), ClockError> {
        let file = self.files.get(&node).ok_or_else(|| ClockError {
            node,
            message: "no timestamp file".into(),
        })?;
        match file {
            ClockFile::Local(path) => write_offset(path, offset_ms).map_err(|e| ClockError {
                node,
                message: format!("{}: {e}", path.display()),
            }),
            ClockFile::Remote { host, path } => {
                // Written beside it and renamed over it, as locally.
                let script = "printf '%s\\n' \"$1\" > \"$2.tmp\" && mv \"$2.tmp\" \"$2\"";
                let offset = format_offset(offset_ms);
                let out = host
                    .exec(&["sh", "-c", script, "sh", &offset, path])
                    .await
                    .map_err(|e| ClockError {
                        node,
                        message: e.to_string(),
                    })?;
                if out.status.success() {
                    Ok(())
                } else {
                    Err(ClockError {
                        node,
                        message: format!(
                            "{}: cannot write {path}: {}",
                            host.name(),
                            String::from_utf8_lossy(&out.stderr).trim()
                        ),
                    })
                }
            }
        }
    }
}

/// libfaketime's relative format: "+1.250" or "-0.300" seconds from real time.
fn format_offset(offset_ms: i64) -> String {
    let sign = if offset_ms < 0 { '-' } else { '+' };
    let abs = offset_ms.unsigned_abs();
    format!("{sign}{}.{:03}", abs / 1000, abs % 1000)
}

/// Written to a temporary file and renamed over the old one: the node reads the file on every
/// clock call and must never see it half written.
fn write_offset(path: &Path, offset_ms: i64) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{}\n", format_offset(offset_ms)))?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_written_in_libfaketime_seconds() {
        assert_eq!(format_offset(0), "+0.000");
        assert_eq!(format_offset(1250), "+1.250");
        assert_eq!(format_offset(-300), "-0.300");
        assert_eq!(format_offset(-120_000), "-120.000");
    }

    #[test]
    fn files_are_created_rewritten_and_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ft = dir.path().join("faketime");
        let files = FaketimeFiles::create_in(&ft, Path::new("/lib/x.so"), &[1, 2]).expect("create");
        let paths = files.paths();
        assert_eq!(paths.len(), 2);
        let env = files.env(2);
        assert!(env.contains(&("FAKETIME_NO_CACHE".into(), "1".into())));
        assert!(env.contains(&("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into())));
        let clocks = files.clocks();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(clocks.set_offset(2, -2500)).expect("set");
        let text = std::fs::read_to_string(&paths[1]).expect("read");
        assert_eq!(text.trim(), "-2.500");
        drop(files);
        assert!(paths.iter().all(|p| !p.exists()));
        assert!(!ft.exists());
    }
}
