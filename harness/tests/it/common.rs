//! Helpers every test of the `faultline` binary shares: starting it, waiting for a run to
//! record, and making sure no node outlived its controller.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The `faultline` binary under test.
/// Whether a test's prerequisites (`met`) hold. When they do not, the test skips with
/// `reason` printed, except under FAULTLINE_REQUIRE_PRIVILEGED=1 (CI), where it fails.
pub(crate) fn prerequisites(test: &str, met: bool, reason: &str) -> bool {
    if met {
        return true;
    }
    assert!(
        std::env::var_os("FAULTLINE_REQUIRE_PRIVILEGED").is_none_or(|v| v != "1"),
        "{test}: FAULTLINE_REQUIRE_PRIVILEGED=1 but {reason}"
    );
    eprintln!("skipping {test}: {reason}");
    false
}

pub(crate) fn faultline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
}

/// Runs `command` to its end and returns its stdout; fails showing stdout and stderr unless it
/// exited 0.
pub(crate) fn succeeds(command: &mut Command) -> String {
    let out = command.output().expect("faultline starts");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The `test.json` recorded in the run folder `dir`.
pub(crate) fn recorded_spec(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("test.json")).expect("test.json"))
        .expect("test.json is JSON")
}

/// The run folder under `<store>/<test>/` once its history holds more than `bytes` bytes (the
/// recorder flushes every second). Fails after 30 s without one.
pub(crate) fn wait_for_history(store: &Path, test: &str, bytes: u64) -> PathBuf {
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no history appeared"
        );
        if let Ok(entries) = std::fs::read_dir(store.join(test)) {
            let found = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|dir| {
                    std::fs::metadata(dir.join("history.jsonl")).is_ok_and(|m| m.len() > bytes)
                });
            if let Some(dir) = found {
                return dir;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Pids of processes whose command line mentions `needle`.
pub(crate) fn processes_mentioning(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}

/// Waits up to 5 s for every process mentioning `store` (the nodes of a controller that ended)
/// to be gone, and fails naming those that survived.
pub(crate) fn assert_no_process_mentions(store: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_mentioning(store).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        processes_mentioning(store),
        Vec::<u32>::new(),
        "nodes survived"
    );
}
