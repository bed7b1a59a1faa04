//! What a campaign runs against, recorded in its summary.json: faultline's version, the systems
//! and their versions (a definition's `version` command; kvnode, built into this binary, has
//! faultline's), the git commit of the campaign file's directory and the user's `--label`.

use std::path::Path;
use std::process::{Command, Stdio};

use faultline_results::campaign::Provenance;

/// The provenance of a campaign whose file is in `dir` (the working directory for the
/// built-in quickstart) and that runs `systems` (`--system` values). Several systems are listed
/// in order, their versions likewise, joined by ", ".
pub fn provenance(dir: &Path, label: Option<String>, systems: &[String]) -> Provenance {
    let version = env!("CARGO_PKG_VERSION").to_owned();
    let mut names = Vec::new();
    let mut versions = Vec::new();
    for source in systems {
        let Ok((definition, _)) = crate::system::load(source) else {
            continue;
        };
        versions.push(system_version(&definition).unwrap_or_else(|| "?".to_owned()));
        names.push(definition.name);
    }
    let joined = |v: Vec<String>| (!v.is_empty()).then(|| v.join(", "));
    Provenance {
        faultline_version: Some(version),
        system: joined(names),
        system_version: joined(versions),
        commit: git_commit(dir),
        label,
    }
}

/// The first line the definition's `version` command prints (stdout, else stderr); without
/// one, faultline's own version for a system that runs from the faultline binary (kvnode).
fn system_version(definition: &crate::system::Definition) -> Option<String> {
    let Some((program, args)) = definition.version.as_ref().and_then(|v| v.split_first()) else {
        let runs_faultline = definition
            .processes
            .iter()
            .any(|p| p.argv.first().is_some_and(|a| a.contains("faultline")));
        return runs_faultline.then(|| env!("CARGO_PKG_VERSION").to_owned());
    };
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let first = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes)
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_owned)
    };
    first(&out.stdout).or_else(|| first(&out.stderr))
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
        let p = provenance(dir.path(), Some("night-1".into()), &["kvnode".into()]);
        assert_eq!(p.commit, None);
        assert_eq!(p.label.as_deref(), Some("night-1"));
        assert_eq!(p.system.as_deref(), Some("kvnode"));
        assert_eq!(p.system_version.as_deref(), Some(env!("CARGO_PKG_VERSION")));
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
        assert_eq!(
            provenance(dir.path(), None, &["kvnode".into()]).commit,
            None,
            "no commit yet"
        );
        let made = git(&["commit", "-q", "--allow-empty", "-m", "x"]).expect("git");
        assert!(made.status.success());
        let head = git(&["rev-parse", "HEAD"]).expect("git");
        let head = String::from_utf8_lossy(&head.stdout).trim().to_owned();
        assert_eq!(
            provenance(dir.path(), None, &["kvnode".into()]).commit,
            Some(head)
        );
    }

    #[test]
    fn each_system_s_version_comes_from_its_definition() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = provenance(dir.path(), None, &["kvnode".into(), "etcd".into()]);
        assert_eq!(p.system.as_deref(), Some("kvnode, etcd"));
        let versions = p.system_version.expect("versions");
        let (kvnode, etcd) = versions.split_once(", ").expect("two versions");
        assert_eq!(kvnode, env!("CARGO_PKG_VERSION"));
        // `etcd --version` where etcd is installed, "?" where it is not.
        assert!(etcd.starts_with("etcd Version: ") || etcd == "?", "{etcd}");
    }
}
