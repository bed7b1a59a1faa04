//! Clients in groups of `--threads-per-key`, each group on keys of its own that move on after
//! `--ops-per-key` operations (`jepsen.independent`): however many clients run, no key sees more
//! than a group of them. A real run on a real cluster, then the resolved flags.

use std::collections::{HashMap, HashSet};

use clap::Parser;
use faultline::cli::{Cli, Command};
use faultline::commands::run::resolve;
use serde_json::Value;

use crate::common::{faultline, recorded_spec, succeeds};

const CONCURRENCY: u64 = 12;
const THREADS_PER_KEY: u64 = 4;
const OPS_PER_KEY: u64 = 50;

#[test]
fn twelve_clients_in_groups_of_four_never_share_a_key_across_groups() {
    let store = tempfile::tempdir().expect("tempdir");
    succeeds(
        faultline()
            .args(["run", "--workload", "register", "--time-limit", "4"])
            .args(["--recovery", "0", "--seed", "5", "--name", "groups"])
            .args(["--concurrency", &CONCURRENCY.to_string()])
            .args(["--threads-per-key", &THREADS_PER_KEY.to_string()])
            .args(["--ops-per-key", &OPS_PER_KEY.to_string()])
            .arg("--store")
            .arg(store.path()),
    );
    let dir = store.path().join("groups/latest");

    let spec = recorded_spec(&dir);
    assert_eq!(
        spec["workload"]["threads_per_key"], THREADS_PER_KEY,
        "{spec}"
    );
    assert_eq!(spec["workload"]["ops_per_key"], OPS_PER_KEY, "{spec}");

    // The clients' events, up to the final reads (which one more process makes, key by key).
    let history = std::fs::read_to_string(dir.join("history.jsonl")).expect("history");
    let events: Vec<Value> = history
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON event"))
        .take_while(|e: &Value| !(e["f"] == "phase" && e["value"] == "final-reads"))
        .filter(|e| e["process"].is_u64())
        .collect();
    let mut workers: HashMap<String, HashSet<u64>> = HashMap::new();
    let mut invoked: HashMap<String, u64> = HashMap::new();
    for e in events.iter().filter(|e| e["type"] == "invoke") {
        let key = e["key"].as_str().expect("a key").to_owned();
        let process = e["process"].as_u64().expect("a number");
        // A client that got `info` goes on as process + concurrency: the same worker.
        workers
            .entry(key.clone())
            .or_default()
            .insert(process % CONCURRENCY);
        *invoked.entry(key).or_default() += 1;
    }
    assert!(
        invoked.values().sum::<u64>() > 3 * OPS_PER_KEY * 3,
        "too few operations to move on: {invoked:?}"
    );
    for (key, ws) in &workers {
        assert!(ws.len() <= THREADS_PER_KEY as usize, "{key}: {ws:?}");
        let groups: HashSet<u64> = ws.iter().map(|w| w / THREADS_PER_KEY).collect();
        assert_eq!(groups.len(), 1, "{key} shared by groups: {ws:?}");
    }
    // Keys moved on: many keys, none with more than its operations, and every group had its own.
    assert!(invoked.len() > 6, "keys never moved on: {invoked:?}");
    assert!(invoked.values().all(|n| *n <= OPS_PER_KEY), "{invoked:?}");
    let groups: HashSet<u64> = workers
        .values()
        .flat_map(|ws| ws.iter().map(|w| w / THREADS_PER_KEY))
        .collect();
    assert_eq!(groups, HashSet::from([0, 1, 2]));
    assert!(invoked.keys().all(|k| k.starts_with('r')), "{invoked:?}");

    // Every key the clients used got its final read.
    let final_reads: HashSet<String> = history
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("a JSON event"))
        .skip_while(|e| !(e["f"] == "phase" && e["value"] == "final-reads"))
        .filter(|e| e["type"] == "ok" && e["f"] == "read")
        .filter_map(|e| e["key"].as_str().map(str::to_owned))
        .collect();
    assert!(
        invoked.keys().all(|k| final_reads.contains(k)),
        "not read at the end: {:?}",
        invoked
            .keys()
            .filter(|k| !final_reads.contains(*k))
            .collect::<Vec<_>>()
    );
}

fn spec(args: &[&str]) -> anyhow::Result<faultline::run::RunSpec> {
    let cli = Cli::try_parse_from(["faultline", "run"].iter().chain(args)).expect("parses");
    match cli.command {
        Command::Run(args) => resolve(&args),
        other => panic!("not run: {other:?}"),
    }
}

#[test]
fn the_groups_are_flags_recorded_in_the_spec_and_set_ignores_them() {
    let groups = |args: &[&str]| {
        let w = spec(args).expect("resolves").workload;
        (w.threads_per_key, w.ops_per_key)
    };
    for workload in ["register", "kv", "append"] {
        assert_eq!(
            groups(&["--workload", workload]),
            (Some(10), Some(1000)),
            "{workload}"
        );
        assert_eq!(
            groups(&[
                "--workload",
                workload,
                "--threads-per-key",
                "50",
                "--ops-per-key",
                "0"
            ]),
            (Some(50), Some(0)),
            "{workload}"
        );
    }
    assert_eq!(
        groups(&["--workload", "set", "--threads-per-key", "3"]),
        (None, None)
    );
    let err = spec(&["--threads-per-key", "0"]).expect_err("refused");
    assert!(
        format!("{err:#}").starts_with("--threads-per-key: expected at least 1"),
        "{err:#}"
    );
}
