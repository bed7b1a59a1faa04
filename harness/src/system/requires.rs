//! Programs a definition needs, looked up on `PATH` before anything starts.

use std::path::{Path, PathBuf};

use super::definition::Requirement;

/// The first requirement not found, as one line: `etcd not found (Debian: apt-get install
/// etcd-server)`.
pub fn check(requires: &[Requirement]) -> Result<(), String> {
    for need in requires {
        if find_program(&need.program).is_none() {
            return Err(missing(need));
        }
    }
    Ok(())
}

/// `etcd not found (Debian: apt-get install etcd-server)`: a requirement not found, here or on
/// a host.
pub fn missing(need: &Requirement) -> String {
    match &need.install {
        Some(how) => format!("{} not found ({how})", need.program),
        None => format!("{} not found on PATH", need.program),
    }
}

/// A program as `execvp` would find it: a path as given, a bare name in `PATH`'s folders; only
/// executable regular files count.
pub fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let path = PathBuf::from(program);
        return is_executable(&path).then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
