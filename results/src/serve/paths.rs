//! Which file a request may read: only regular files inside the store, whatever the path says
//! (`..`, encoded `..`, absolute paths, symlinks pointing out).

use std::path::{Component, Path, PathBuf};

/// The file under `store` that `requested` (already percent-decoded) names, or `None` when it
/// names anything outside the store or anything that is not a regular file.
pub fn resolve(store: &Path, requested: &str) -> Option<PathBuf> {
    let relative = Path::new(requested);
    // Only plain names: `..`, `/`, `.` and prefixes are refused before touching the disk.
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let root = store.canonicalize().ok()?;
    // Canonicalising resolves symlinks: a link inside the store that points out lands outside
    // `root` and is refused.
    let full = root.join(relative).canonicalize().ok()?;
    (full.starts_with(&root) && full.is_file()).then_some(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_inside_the_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = dir.path().join("store");
        std::fs::create_dir_all(store.join("t/1")).expect("mkdir");
        std::fs::write(store.join("t/1/report.html"), "ok").expect("write");
        std::fs::write(dir.path().join("secret"), "no").expect("write");
        std::os::unix::fs::symlink(dir.path().join("secret"), store.join("t/1/link"))
            .expect("symlink");
        std::os::unix::fs::symlink("1", store.join("t/latest")).expect("symlink");

        assert!(resolve(&store, "t/1/report.html").is_some());
        assert!(
            resolve(&store, "t/latest/report.html").is_some(),
            "links inside are fine"
        );
        for bad in [
            "../secret",
            "t/../../secret",
            "/etc/passwd",
            "t/1/link",
            "t/1",
            "t/1/missing",
            "./t/1/report.html",
            "",
        ] {
            assert!(resolve(&store, bad).is_none(), "{bad}");
        }
    }
}
