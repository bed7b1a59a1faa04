//! Finding the `kvnode` binary. `CARGO_BIN_EXE_kvnode` exists only in kvnode's own tests, and a
//! dev-dependency on kvnode would build only its library, so the test builds the binary itself:
//! `cargo build -p kvnode` into the target directory this test binary runs from, once per test
//! run. Running it every time (not only when the file is missing) costs a no-op build when the
//! binary is fresh and never tests a stale kvnode. `KVNODE_BIN=path` skips all of this.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub fn kvnode_bin() -> Result<PathBuf, String> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(locate).clone()
}

fn locate() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("KVNODE_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    // Tests run as target/<profile>/deps/it-HASH; binaries live in target/<profile>/.
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| format!("{} is not in target/<profile>/deps", exe.display()))?;
    let target_dir = profile_dir
        .parent()
        .ok_or_else(|| format!("{} has no parent", profile_dir.display()))?;
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(other) => other,
        None => return Err(format!("no profile name in {}", profile_dir.display())),
    };
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let output = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "-p",
            "kvnode",
            "--bin",
            "kvnode",
            "--profile",
            profile,
        ])
        .arg("--manifest-path")
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", target_dir)
        .output()
        .map_err(|e| format!("running cargo build -p kvnode: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo build -p kvnode failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let bin = profile_dir.join("kvnode");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!("{} missing after cargo build", bin.display()))
    }
}
