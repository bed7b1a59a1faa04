//! PostgreSQL with Patroni (systems/postgres-patroni.yaml) as real three-node clusters in
//! network namespaces: each replication option runs to a verdict, and a kill of the primary
//! fails over with its failover time measured. Needs root, ip and nft, and Debian's etcd-server,
//! patroni and postgresql-15; skipped with a reason without them, except under
//! FAULTLINE_REQUIRE_PRIVILEGED=1.

use std::path::{Path, PathBuf};

use crate::common::{assert_no_process_mentions, faultline};

/// Root, netns hosts, etcd, Patroni and PostgreSQL 15 (patroni_processes.rs uses it too).
pub(crate) fn patroni_or_skip(test: &str) -> bool {
    let netns = faultline::hosts::netns::available();
    let programs = ["etcd", "patroni"]
        .iter()
        .all(|p| faultline::system::requires::find_program(p).is_some())
        && Path::new("/usr/lib/postgresql/15/bin/postgres").exists();
    crate::common::prerequisites(
        test,
        netns && programs,
        "it needs root, ip and nft, and etcd-server, patroni and postgresql-15 (Debian)",
    )
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

/// A short fault-free run with `replication`: valid, the clients reached the primary, the
/// option recorded, and Patroni ran the mode asked for (it names a synchronous standby in
/// sync modes only), nothing left running.
fn replication_option_runs_to_a_verdict(replication: &str) {
    let test = format!("{replication}_runs_a_patroni_cluster_to_a_verdict");
    if !patroni_or_skip(&test) {
        return;
    }
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
    let patroni_logs: String = (1..=3)
        .map(|n| {
            std::fs::read_to_string(run.join(format!("nodes/{n}-patroni.log"))).unwrap_or_default()
        })
        .collect();
    assert_eq!(
        patroni_logs.contains("Assigning synchronous standby status"),
        replication != "async",
        "{replication}: whether Patroni named a synchronous standby"
    );
    assert_no_process_mentions(&store.display().to_string());
}

#[test]
fn async_runs_a_patroni_cluster_to_a_verdict() {
    replication_option_runs_to_a_verdict("async");
}

#[test]
fn sync_runs_a_patroni_cluster_to_a_verdict() {
    replication_option_runs_to_a_verdict("sync");
}

#[test]
fn sync_strict_runs_a_patroni_cluster_to_a_verdict() {
    replication_option_runs_to_a_verdict("sync-strict");
}

#[test]
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

/// The last lines of every node log under `store` and the faultline.log of its run, for a
/// failed start's message (the ERROR lines alone were those of the shutdown, not the cause).
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
                let all: Vec<&str> = text.lines().collect();
                lines.push(format!("== {} ({} lines)", path.display(), all.len()));
                lines.extend(
                    all[all.len().saturating_sub(25)..]
                        .iter()
                        .map(|l| l.to_string()),
                );
            }
        }
    }
    lines.join("\n")
}
