//! A history grows linearly with the operations of a run: no event carries more as the run goes
//! on. (An append's or add's `ok` once recorded its key's whole list, and keys never changed,
//! which made a 20 s append run write 300 MB.) Real runs on a real cluster, with the default
//! workload settings but two keys, so that keys fill and rotate many times in a few seconds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use faultline_workloads::DEFAULT_MAX_WRITES_PER_KEY;
use serde_json::Value;

use crate::common::{faultline, recorded_spec, succeeds};

/// Longest client event line a bounded workload may write: the envelope (index, time, process,
/// type, f, key, node) is ~130 bytes, and a read carries at most one key's bounded list.
const LONGEST_LINE: usize = 1024;
/// Bytes per event of the run's second half over its first: 1 when sizes do not depend on the
/// run's length (keys rotate in a sawtooth, so the halves differ a little); an unbounded list
/// made it 2 to 4 in a few seconds.
const MAX_GROWTH: f64 = 1.3;
/// Fewer events than this and the halves say nothing.
const ENOUGH_EVENTS: usize = 1000;

/// Runs `workload` for `seconds` into `store` and returns the run's folder.
fn run(workload: &str, store: &Path, seconds: &str) -> PathBuf {
    succeeds(
        faultline()
            .args(["run", "--workload", workload, "--keys", "2"])
            .args(["--time-limit", seconds, "--recovery", "0", "--seed", "1"])
            .args(["--name", workload, "--store"])
            .arg(store),
    );
    store.join(workload).join("latest")
}

/// The client events before the final reads, as lines. (The history has other `phase` markers
/// before that one: `workload`, where the clients start.)
fn workload_lines(history: &str) -> Vec<&str> {
    history
        .lines()
        .take_while(|line| {
            serde_json::from_str::<Value>(line)
                .is_ok_and(|e| !(e["f"] == "phase" && e["value"] == "final-reads"))
        })
        .filter(|line| !line.contains(r#""process":"nemesis""#))
        .collect()
}

fn history_stays_linear(workload: &str) {
    // 4 s make thousands of events on a quiet machine; a loaded one (the whole suite on two
    // cores) once made 786, so a short run is followed by a longer one rather than a failure.
    let mut history = String::new();
    for seconds in ["4", "16"] {
        let store = tempfile::tempdir().expect("tempdir");
        let dir = run(workload, store.path(), seconds);
        let spec = recorded_spec(&dir);
        assert_eq!(
            spec["workload"]["max_writes_per_key"], DEFAULT_MAX_WRITES_PER_KEY,
            "{workload}: {spec}"
        );
        history = std::fs::read_to_string(dir.join("history.jsonl")).expect("history");
        if workload_lines(&history).len() >= ENOUGH_EVENTS {
            break;
        }
    }
    let lines = workload_lines(&history);
    assert!(
        lines.len() >= ENOUGH_EVENTS,
        "{workload}: only {} events",
        lines.len()
    );

    let longest = lines.iter().map(|l| l.len()).max().unwrap_or(0);
    assert!(
        longest <= LONGEST_LINE,
        "{workload}: an event of {longest} bytes (at most {LONGEST_LINE} expected): {}",
        lines
            .iter()
            .find(|l| l.len() == longest)
            .and_then(|l| l.get(..200))
            .unwrap_or_default()
    );

    let mut writes: HashMap<String, u64> = HashMap::new();
    for line in &lines {
        let event: Value = serde_json::from_str(line).expect("json");
        if event["type"] == "invoke" && (event["f"] == "append" || event["f"] == "add") {
            *writes.entry(event["key"].to_string()).or_default() += 1;
        }
    }
    assert!(
        writes.len() > 2,
        "{workload}: keys never rotated: {writes:?}"
    );
    assert!(
        writes.values().all(|n| *n <= DEFAULT_MAX_WRITES_PER_KEY),
        "{workload}: {writes:?}"
    );

    let (first, second) = lines.split_at(lines.len() / 2);
    let per_event =
        |half: &[&str]| half.iter().map(|l| l.len() + 1).sum::<usize>() as f64 / half.len() as f64;
    let (a, b) = (per_event(first), per_event(second));
    assert!(
        b <= a * MAX_GROWTH,
        "{workload}: {a:.0} bytes per event in the first half, {b:.0} in the second"
    );
}

#[test]
fn an_append_runs_history_stays_linear() {
    history_stays_linear("append");
}

#[test]
fn a_set_runs_history_stays_linear() {
    history_stays_linear("set");
}

#[test]
fn the_bound_is_a_flag_recorded_in_the_spec() {
    use clap::Parser;
    use faultline::cli::{Cli, Command};
    use faultline::commands::run::resolve;

    let spec = |args: &[&str]| {
        let cli = Cli::try_parse_from(["faultline", "run"].iter().chain(args)).expect("parses");
        match cli.command {
            Command::Run(args) => resolve(&args),
            other => panic!("not run: {other:?}"),
        }
    };
    let bound = |args: &[&str]| spec(args).expect("resolves").workload.max_writes_per_key;
    assert_eq!(
        bound(&["--workload", "append"]),
        Some(DEFAULT_MAX_WRITES_PER_KEY)
    );
    assert_eq!(
        bound(&["--workload", "set"]),
        Some(DEFAULT_MAX_WRITES_PER_KEY)
    );
    let flag = ["--max-writes-per-key", "8"];
    assert_eq!(
        bound(&[&["--workload", "append"], &flag[..]].concat()),
        Some(8)
    );
    assert_eq!(
        bound(&[&["--workload", "set"], &flag[..]].concat()),
        Some(8)
    );
    // Register and kv values do not grow: nothing to bound, and test.json says so.
    assert_eq!(bound(&[&["--workload", "kv"], &flag[..]].concat()), None);
    assert_eq!(bound(&["--workload", "register"]), None);
    let err = spec(&["--workload", "append", "--max-writes-per-key", "0"]).expect_err("refused");
    assert!(
        format!("{err:#}").starts_with("--max-writes-per-key: "),
        "{err:#}"
    );
}
