//! PostgreSQL with Patroni (systems/postgres-patroni.yaml) as real three-node clusters in
//! network namespaces: each replication option runs to a verdict, and a kill of the primary
//! fails over with its failover time measured. Needs root, ip and nft, and Debian's etcd-server,
//! patroni and postgresql-15; skipped with a reason without them, except under
//! FAULTLINE_REQUIRE_PRIVILEGED=1.

use std::path::{Path, PathBuf};

use crate::common::{assert_no_process_mentions, faultline};

fn patroni_or_skip(test: &str) -> bool {
    let netns = faultline::hosts::netns::available();
    let programs = ["etcd", "patroni"]
        .iter()
        .all(|p| faultline::system::requires::find_program(p).is_some())
        && Path::new("/usr/lib/postgresql/15/bin/postgres").exists();
    if netns && programs {
        return true;
    }
    let reason = "needs root, ip and nft, and etcd-server, patroni and postgresql-15 (Debian)";
    assert!(
        std::env::var_os("FAULTLINE_REQUIRE_PRIVILEGED").is_none_or(|v| v != "1"),
        "{test}: FAULTLINE_REQUIRE_PRIVILEGED=1 but it {reason}"
    );
    eprintln!("skipping {test}: it {reason}");
    false
}

fn definition() -> PathBuf {
    PathBuf::from("postgres-patroni")
}

/// `faultline run` of the Patroni system with `args`; the run's folder and results.
fn run(store: &Path, args: &[&str]) -> (PathBuf, serde_json::Value) {
    let out = faultline()
        .args(["run", "--system"])
        .arg(definition())
        .args(["--hosts", "netns"])
        .args(args)
        .arg("--store")
        .arg(store)
        .output()
        .expect("faultline starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: exit {:?}\n{stdout}{stderr}\n{}",
        out.status.code(),
        node_errors(store)
    );
    let dir = std::fs::read_dir(store)
        .expect("store")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .flat_map(|test| {
            std::fs::read_dir(test)
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
        })
        .map(|e| e.path())
        .find(|p| p.join("results.json").exists())
        .expect("a run folder with results");
    let results = serde_json::from_slice(&std::fs::read(dir.join("results.json")).expect("read"))
        .expect("results.json");
    (dir, results)
}

#[test]
#[ignore = "on CI's loaded machine (the whole suite beside it) the Patroni cluster was not ready within 120 s in two runs, though it is in 10-20 s alone and passed 4 of 4 runs beside other tests here; run with --ignored until that is understood (issue 15)"]
fn each_replication_option_runs_a_patroni_cluster_to_a_verdict() {
    if !patroni_or_skip("each_replication_option_runs_a_patroni_cluster_to_a_verdict") {
        return;
    }
    for replication in ["async", "sync", "sync-strict"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = dir.path().join("store");
        let option = format!("replication={replication}");
        // No fault: the system's 30 s recovery (for failovers) would only add time.
        let (run, results) = run(
            &store,
            &["--opt", &option, "--time-limit", "6", "--recovery", "1"],
        );
        // No fault: every mode is linearizable, and the clients reached the primary.
        assert_eq!(results["verdict"], "valid", "{replication}: {results}");
        let ok: u64 = results["ops"]
            .as_object()
            .expect("ops by type")
            .values()
            .filter_map(|counts| counts["ok"].as_u64())
            .sum();
        assert!(ok > 50, "{replication}: {}", results["ops"]);
        let spec = crate::common::recorded_spec(&run);
        assert_eq!(spec["options"]["replication"], replication);
        assert_no_process_mentions(&store.display().to_string());
    }
}

#[test]
#[ignore = "on CI's loaded machine (the whole suite beside it) the Patroni cluster was not ready within 120 s in two runs, though it is in 10-20 s alone and passed 4 of 4 runs beside other tests here; run with --ignored until that is understood (issue 15)"]
fn killing_the_primary_fails_over_and_the_history_is_checked() {
    if !patroni_or_skip("killing_the_primary_fails_over_and_the_history_is_checked") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store");
    let (_, results) = run(
        &store,
        // The primary stays dead longer than Patroni's lease (20 s) and its promotion take
        // together, even on a loaded machine; the recovery is short: the new primary serves
        // the final reads.
        &[
            "--nemesis",
            "kill",
            "--targets",
            "leader",
            "--time-limit",
            "50",
            "--fault-duration",
            "45",
            "--recovery",
            "5",
        ],
    );
    assert_ne!(results["verdict"], "unknown", "{results}");
    let failovers = results["failover_s"].as_array().expect("failover_s");
    assert!(
        !failovers.is_empty(),
        "Patroni elected another primary after the kill: {results}"
    );
    assert_no_process_mentions(&store.display().to_string());
}

/// The ERROR and FATAL lines of every node log under `store`, for a failed start's message.
fn node_errors(store: &Path) -> String {
    let mut lines = Vec::new();
    let mut stack = vec![store.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
        {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "log") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for line in text
                    .lines()
                    .filter(|l| l.contains("ERROR") || l.contains("FATAL"))
                {
                    lines.push(format!("{}: {line}", path.display()));
                }
            }
        }
    }
    lines.join("\n")
}
