//! The kvnode executable for tests that start real nodes: `kvnode_bin()`.
//!
//! The harness depends on kvnode's library only, so `cargo test -p faultline` does not build
//! kvnode's binary. This builds it once per test process with the same cargo, profile and
//! target directory as the running test (a no-op when it is fresh), so a test never runs a
//! stale kvnode. `FAULTLINE_KVNODE_BIN=/path/to/kvnode` skips the build and uses that file.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub fn kvnode_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(find_or_build).clone()
}

fn find_or_build() -> PathBuf {
    if let Some(path) = std::env::var_os("FAULTLINE_KVNODE_BIN") {
        return PathBuf::from(path);
    }
    // Tests run as target/<profile>/deps/<name>-<hash>; binaries live in target/<profile>/.
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps");
    let target_dir = profile_dir.parent().expect("target/<profile> has a parent");
    let bin = profile_dir.join("kvnode");
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args(["build", "--quiet", "-p", "kvnode", "--bin", "kvnode"])
        .arg("--manifest-path")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir);
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => {}
        Some("release") => {
            cargo.arg("--release");
        }
        Some(other) => {
            cargo.args(["--profile", other]);
        }
        None => {}
    }
    let status = cargo.status().expect("run cargo build -p kvnode");
    assert!(status.success(), "cargo build -p kvnode failed: {status}");
    assert!(
        bin.exists(),
        "cargo built kvnode but {} is missing",
        bin.display()
    );
    bin
}
