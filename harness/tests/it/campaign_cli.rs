//! `faultline campaign` as CI runs it: a small campaign file, real runs, the pages and the exit
//! status.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::faultline;

/// Writes `<dir>/<name>.yaml` and returns it with the command
/// `faultline campaign <file> --store <dir>/store`.
fn campaign(dir: &Path, name: &str, yaml: &str) -> (PathBuf, Command) {
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).expect("write the campaign file");
    let mut command = faultline();
    command
        .arg("campaign")
        .arg(&file)
        .arg("--store")
        .arg(dir.join("store"));
    (file, command)
}

#[test]
fn a_failed_expectation_fails_the_campaign_and_its_junit_case() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, mut command) = campaign(
        dir.path(),
        "small",
        "name: small\n\
         defaults: { time_limit: 2, recovery: 0.5, concurrency: 4 }\n\
         matrix:\n  replication: [quorum]\n  nemesis: [none, kill]\n\
         expect:\n  - when: { nemesis: kill }\n    verdict: invalid\n  - verdict: valid\n",
    );
    let out = command.output().expect("starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The quorum run under kill is valid, so its "invalid" expectation fails.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let latest = dir.path().join("store/campaigns/small/latest");
    let summary: Value =
        serde_json::from_slice(&std::fs::read(latest.join("summary.json")).expect("summary"))
            .expect("json");
    assert_eq!(summary["runs"].as_array().map(Vec::len), Some(2));
    assert_eq!(summary["runs"][0]["passed"], true);
    assert_eq!(summary["runs"][1]["passed"], false);
    assert_eq!(summary["compared_by"], "replication");
    assert_eq!(summary["groups"][0]["value"], "quorum");
    // The group says what its value promises, from the runs' test.json.
    let promise = &summary["groups"][0]["promises"][0];
    assert_eq!(
        (&promise["option"], &promise["value"]),
        (&Value::from("replication"), &Value::from("quorum"))
    );
    assert!(
        promise["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("A write is acknowledged once a majority")),
        "{promise}"
    );
    assert_eq!(summary["runs"][0]["system"], "kvnode");
    let junit = std::fs::read_to_string(latest.join("junit.xml")).expect("junit");
    assert!(
        junit.contains("tests=\"2\"") && junit.contains("failures=\"1\""),
        "{junit}"
    );
    let index = std::fs::read_to_string(latest.join("index.html")).expect("index");
    assert!(index.contains("an expectation failed"));
    assert!(
        index.contains("<code>replication=quorum</code>: A write is acknowledged once a majority"),
        "{index}"
    );
    // Each run's report is linked and exists.
    let report = summary["runs"][0]["dir"].as_str().expect("dir");
    assert!(latest.join(report).join("report.html").is_file());

    // The same two runs compared by hand: one mode, two runs, one page.
    let dirs: Vec<_> = (0..2)
        .map(|i| latest.join(summary["runs"][i]["dir"].as_str().expect("dir")))
        .collect();
    let page = dir.path().join("compare.html");
    let out = faultline()
        .arg("compare")
        .args(&dirs)
        .arg("--out")
        .arg(&page)
        .output()
        .expect("starts");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let row = text
        .lines()
        .find(|l| l.starts_with("quorum"))
        .expect("quorum row");
    assert_eq!(row.split_whitespace().nth(1), Some("2"), "{text}");
    let page = std::fs::read_to_string(&page).expect("page");
    assert!(page.contains("By replication</h2>"));
    assert!(
        page.contains("<code>replication=quorum</code>: A write is acknowledged"),
        "the stored runs' test.json say what quorum promises"
    );
}

#[test]
fn a_campaign_file_error_names_line_and_column_and_runs_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (file, mut command) = campaign(
        dir.path(),
        "bad",
        "name: bad\nmatrix:\n  replication: [quorum]\n  nemesiss: [kill]\n",
    );
    let out = command.output().expect("starts");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains(&format!("{}:4:", file.display())), "{err}");
    assert!(!dir.path().join("store").exists());
}

#[test]
fn ctrl_c_stops_the_current_run_lists_the_rest_as_skipped_and_exits_130() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, mut command) = campaign(
        dir.path(),
        "long",
        "name: long\ndefaults: { time_limit: 60, concurrency: 2 }\n\
         matrix:\n  replication: [quorum, sync]\n",
    );
    let child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    // Wait for the first run's history to appear, then interrupt.
    let runs = dir.path().join("store/campaigns/long");
    let started = std::time::Instant::now();
    while !history_exists(&runs) {
        assert!(
            started.elapsed().as_secs() < 30,
            "the first run never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_secs(1));
    // SAFETY: kill(2) with a pid we spawned and still own (not yet waited for).
    let rc = unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert_eq!(rc, 0);
    let out = child.wait_with_output().expect("waits");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        started.elapsed().as_secs() < 45,
        "stopped long before the 2 × 60 s campaign"
    );
    assert_eq!(
        out.status.code(),
        Some(130),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("interrupted after "), "{stdout}");
    let latest = runs.join("latest");
    let summary: Value = serde_json::from_slice(
        &std::fs::read(latest.join("summary.json")).expect("summary written"),
    )
    .expect("json");
    assert_eq!(summary["interrupted"], true);
    assert_eq!(
        summary["passed"], false,
        "an interrupted campaign never passes"
    );
    assert_eq!(summary["runs"].as_array().map(Vec::len), Some(1));
    assert_eq!(summary["runs"][0]["interrupted"]["of_s"], 60.0);
    assert_eq!(
        summary["skipped"][0]["options"]["replication"], "sync",
        "{summary}"
    );
    let skipped = summary["skipped"][0]["label"].as_str().unwrap_or("?");
    let junit = std::fs::read_to_string(latest.join("junit.xml")).expect("junit");
    assert!(
        junit.contains("tests=\"2\"") && junit.contains("skipped=\"2\""),
        "the cut-short run and the one never run are both skipped: {junit}"
    );
    assert!(junit.contains("interrupted after "), "{junit}");
    let index = std::fs::read_to_string(latest.join("index.html")).expect("index");
    assert!(!index.contains("every expectation held"), "{index}");
    assert!(index.contains("interrupted after "), "{index}");
    assert!(
        index.contains(&format!(">{skipped}<")) && index.contains(">skipped<"),
        "{index}"
    );
}

fn history_exists(campaigns: &std::path::Path) -> bool {
    let Ok(stamps) = std::fs::read_dir(campaigns) else {
        return false;
    };
    stamps.flatten().any(|stamp| {
        std::fs::read_dir(stamp.path().join("runs"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|test| {
                std::fs::read_dir(test.path())
                    .into_iter()
                    .flatten()
                    .flatten()
                    .any(|run| run.path().join("history.jsonl").is_file())
            })
    })
}

/// A kvnode that refuses to start with sync replication: that cell cannot start.
fn kvnode_refusing_sync(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("no-sync-kvnode");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \" $* \" in *' --replication sync '*) echo 'no sync here' >&2; exit 1;; esac\n\
             exec '{}' kvnode \"$@\"\n",
            env!("CARGO_BIN_EXE_faultline")
        ),
    )
    .expect("write the wrapper");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}

#[test]
fn a_cell_that_cannot_start_is_recorded_and_the_others_still_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, mut command) = campaign(
        dir.path(),
        "partly",
        "name: partly\n\
         defaults: { time_limit: 1, recovery: 0.5, concurrency: 2 }\n\
         matrix:\n  replication: [sync, quorum]\n  nemesis: [none]\n",
    );
    command
        .arg("--kvnode")
        .arg(kvnode_refusing_sync(dir.path()));
    let out = command.output().expect("starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Pages written, the quorum cell run, the sync cell named with why; exit 3.
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(stdout.contains("1 of 2 cells could not start"), "{stdout}");
    let latest = dir.path().join("store/campaigns/partly/latest");
    let summary: Value =
        serde_json::from_slice(&std::fs::read(latest.join("summary.json")).expect("summary"))
            .expect("json");
    assert_eq!(
        summary["runs"].as_array().map(Vec::len),
        Some(1),
        "{summary}"
    );
    assert_eq!(summary["runs"][0]["options"]["replication"], "quorum");
    assert_eq!(summary["passed"], false);
    let skipped = &summary["skipped"][0];
    assert_eq!(skipped["options"]["replication"], "sync");
    assert!(
        skipped["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{summary}"
    );
    let junit = std::fs::read_to_string(latest.join("junit.xml")).expect("junit");
    assert!(junit.contains("errors=\"1\""), "{junit}");
    let index = std::fs::read_to_string(latest.join("index.html")).expect("index");
    assert!(
        index.contains("could not start"),
        "the page says which cell and why"
    );
}
