//! What a campaign runs against, recorded in its summary.json: faultline's version, the system
//! (kvnode, built into this binary, so its version is faultline's), the git commit of the
//! campaign file's directory and the user's `--label`.

use std::path::Path;
use std::process::{Command, Stdio};

use faultline_results::campaign::Provenance;

/// The provenance of a campaign whose file is in `dir` (the working directory for the
/// built-in quickstart).
pub fn provenance(dir: &Path, label: Option<String>) -> Provenance {
    let version = env!("CARGO_PKG_VERSION").to_owned();
    Provenance {
        faultline_version: Some(version.clone()),
        system: Some("kvnode".to_owned()),
        // A system definition that runs another store asks it (`etcd --version`) instead.
        system_version: Some(version),
        commit: git_commit(dir),
        label,
    }
}

/// `git rev-parse HEAD` in `dir`; `None` when git is missing, `dir` is not in a repository or
/// it has no commit yet: a campaign runs the same outside a repository.
fn git_commit(dir: &Path) -> Option<String> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--verify", "-q", "HEAD"])
        // The repository is the campaign file's, not one a calling git hook points at.
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !commit.is_empty()).then_some(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_a_repository_there_is_no_commit_and_no_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = provenance(dir.path(), Some("night-1".into()));
        assert_eq!(p.commit, None);
        assert_eq!(p.label.as_deref(), Some("night-1"));
        assert_eq!(p.system.as_deref(), Some("kvnode"));
    }

    #[test]
    fn inside_a_repository_the_commit_is_head() {
        let dir = tempfile::tempdir().expect("tempdir");
        let git = |args: &[&str]| {
            Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(["-c", "user.name=t", "-c", "user.email=t@t"])
                .args(args)
                .output()
        };
        // Without git on the machine there is nothing to test.
        let Ok(init) = git(&["init", "-q"]) else {
            return;
        };
        assert!(init.status.success());
        assert_eq!(provenance(dir.path(), None).commit, None, "no commit yet");
        let made = git(&["commit", "-q", "--allow-empty", "-m", "x"]).expect("git");
        assert!(made.status.success());
        let head = git(&["rev-parse", "HEAD"]).expect("git");
        let head = String::from_utf8_lossy(&head.stdout).trim().to_owned();
        assert_eq!(provenance(dir.path(), None).commit, Some(head));
    }
}
